/**
 * Behaviour the random round trips do not pin down: header versions, exact bytes of small frames,
 * tagged fields (written only when not default, unknown tags kept), fields absent from a version,
 * nullable arrays, and the errors a broken or unsupported request gets.
 */
import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  KafkaDecodeError,
  KafkaEncodeError,
  SUPPORTED_APIS,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  encodeResponseChunks,
  isValidClientSoftware,
  type FetchResponseInput,
  type MetadataRequest,
} from '../src/index.js';

const header = (apiKey: number, apiVersion: number, correlationId = 7, clientId: string | null = 'c') => ({
  apiKey,
  apiVersion,
  correlationId,
  clientId,
});

function requestFrame(apiKey: number, apiVersion: number, body: object): Buffer {
  return encodeRequest(header(apiKey, apiVersion), body).subarray(4);
}

describe('headers', () => {
  it('ApiVersions v3 uses request header v2 but response header v0 (no tag byte after the correlation id)', () => {
    const req = requestFrame(ApiKey.ApiVersions, 3, { clientSoftwareName: 'kcat', clientSoftwareVersion: '1.7.1' });
    // apiKey, apiVersion, correlationId, clientId 'c' (int16 length), header tags (0), then the body.
    expect(req.subarray(0, 12)).toEqual(Buffer.from([0, 18, 0, 3, 0, 0, 0, 7, 0, 1, 0x63, 0]));
    const { header: h, bodyOffset } = decodeRequestHeader(req);
    expect(bodyOffset).toBe(12);
    expect(decodeRequest(ApiKey.ApiVersions, 3, req, bodyOffset)).toEqual({ clientSoftwareName: 'kcat', clientSoftwareVersion: '1.7.1' });
    expect(h).toEqual(header(18, 3));

    const res = encodeResponse(ApiKey.ApiVersions, 3, 7, { apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 9 }] });
    // size, correlationId, then directly errorCode 0 (no header tagged fields), compact array of 1 (2).
    expect(res.subarray(4, 11)).toEqual(Buffer.from([0, 0, 0, 7, 0, 0, 2]));
    expect(decodeResponse(ApiKey.ApiVersions, 3, res.subarray(4)).body.apiKeys).toEqual([{ apiKey: 0, minVersion: 3, maxVersion: 9 }]);
  });

  it('a flexible non-ApiVersions response has header v1 (a tag byte); a classic one header v0', () => {
    const flexible = encodeResponse(ApiKey.Heartbeat, 4, 9, { errorCode: 27 });
    // size 12: correlationId, header tags (0), throttleTimeMs, errorCode 27, body tags (0).
    expect([...flexible]).toEqual([0, 0, 0, 12, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 27, 0]);
    const classic = encodeResponse(ApiKey.Heartbeat, 3, 9, { errorCode: 27 });
    expect([...classic]).toEqual([0, 0, 0, 10, 0, 0, 0, 9, 0, 0, 0, 0, 0, 27]);
  });

  it('a null client id is int16 -1 in every header version', () => {
    const frame = encodeRequest(header(ApiKey.Metadata, 12, 1, null), { topics: null }).subarray(4);
    expect(frame.readInt16BE(8)).toBe(-1);
    expect(decodeRequestHeader(frame).header.clientId).toBeNull();
  });

  it('the header of an unsupported version or unknown API still decodes, so the broker can answer 35', () => {
    const v99 = Buffer.from([0, 18, 0, 99, 0, 0, 1, 0, 0, 1, 0x63, 0]);
    const { header: h, bodyOffset } = decodeRequestHeader(v99);
    expect(h).toEqual({ apiKey: 18, apiVersion: 99, correlationId: 256, clientId: 'c' });
    const err = catchError(() => decodeRequest(18, 99, v99, bodyOffset));
    expect(err).toBeInstanceOf(KafkaDecodeError);
    expect(err).toMatchObject({ kind: 'unsupported-version', errorCode: 35 });
    expect(err.message).toMatch(/ApiVersions version 99 is not supported \(versions 0-3\)/);

    const unknown = Buffer.from([0x03, 0xe7, 0, 0, 0, 0, 0, 5, 0xff, 0xff]);
    expect(decodeRequestHeader(unknown).header).toEqual({ apiKey: 999, apiVersion: 0, correlationId: 5, clientId: null });
    expect(catchError(() => decodeRequest(999, 0, unknown, 10))).toMatchObject({ kind: 'unknown-api', errorCode: 35 });
  });

  it('a header cut inside the client id names what could be read', () => {
    const err = catchError(() => decodeRequestHeader(Buffer.from([0, 3, 0, 1, 0, 0, 0, 42, 0, 9, 0x61])));
    expect(err).toBeInstanceOf(KafkaDecodeError);
    expect(err).toMatchObject({ kind: 'truncated', errorCode: 42, partialHeader: { apiKey: 3, apiVersion: 1, correlationId: 42 } });
  });
});

describe('ApiVersions v3 client software (KIP-511)', () => {
  it('accepts what Kafka accepts and nothing else', () => {
    expect(isValidClientSoftware('librdkafka', '2.0.2')).toBe(true);
    expect(isValidClientSoftware('apache-kafka-java', '3.7.0-SNAPSHOT')).toBe(true);
    expect(isValidClientSoftware('a', '1')).toBe(true);
    for (const [name, version] of [
      ['', '1'],
      ['x', ''],
      ['bad name', '1'],
      ['-x', '1'],
      ['x', '1.'],
      ['x_y', '1'],
      ['x', '1/2'],
    ]) {
      expect(isValidClientSoftware(name!, version!), `${name} ${version}`).toBe(false);
    }
  });
});

describe('versions and defaults', () => {
  it('Metadata: v0 has no nullable topics; v1+ null means all topics; allowAutoTopicCreation defaults to true before v4', () => {
    expect(() => requestFrame(ApiKey.Metadata, 0, { topics: null })).toThrow(KafkaEncodeError);
    const v1 = requestFrame(ApiKey.Metadata, 1, { topics: null });
    const body: MetadataRequest = decodeRequest(ApiKey.Metadata, 1, v1, decodeRequestHeader(v1).bodyOffset);
    expect(body.topics).toBeNull();
    expect(body.allowAutoTopicCreation).toBe(true);
    const v4 = requestFrame(ApiKey.Metadata, 4, { topics: [{ name: 't' }], allowAutoTopicCreation: false });
    expect(decodeRequest(ApiKey.Metadata, 4, v4, decodeRequestHeader(v4).bodyOffset)).toMatchObject({
      topics: [{ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }],
      allowAutoTopicCreation: false,
    });
  });

  it('Fetch: fields a version lacks decode as their defaults (maxBytes, sessionEpoch, rackId, lastFetchedEpoch)', () => {
    const frame = requestFrame(ApiKey.Fetch, 4, {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1000,
      isolationLevel: 1,
      sessionEpoch: 5,
      rackId: 'r',
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 10n, partitionMaxBytes: 100, lastFetchedEpoch: 3 }] }],
    });
    const body = decodeRequest(ApiKey.Fetch, 4, frame, decodeRequestHeader(frame).bodyOffset);
    expect(body).toMatchObject({
      maxBytes: 1000,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      rackId: '',
      forgottenTopicsData: [],
      clusterId: null,
    });
    expect(body.topics[0]!.partitions[0]).toEqual({
      partition: 0,
      currentLeaderEpoch: -1,
      fetchOffset: 10n,
      lastFetchedEpoch: -1,
      logStartOffset: -1n,
      partitionMaxBytes: 100,
    });
  });

  it('an encoder fills a missing field with its schema default and a missing record set with length 0', () => {
    const res: FetchResponseInput = { responses: [{ topic: 't', partitions: [{ partitionIndex: 2, highWatermark: 5n }] }] };
    const wire = encodeResponse(ApiKey.Fetch, 11, 1, res);
    const p = decodeResponse(ApiKey.Fetch, 11, wire.subarray(4)).body.responses[0]!.partitions[0]!;
    expect(p).toMatchObject({
      partitionIndex: 2,
      highWatermark: 5n,
      lastStableOffset: -1n,
      logStartOffset: -1n,
      preferredReadReplica: -1,
      abortedTransactions: null,
    });
    expect(p.records).toEqual(Buffer.alloc(0));
    // The last 4 bytes of this one-partition response are the record set's int32 length: 0, not -1.
    expect(wire.readInt32BE(wire.length - 4)).toBe(0);
  });

  it('Produce records are a view of the frame, handed over verbatim', () => {
    const batch = Buffer.from('000000000000000000000031ffffffff02', 'hex');
    const frame = requestFrame(ApiKey.Produce, 9, {
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 't', partitionData: [{ index: 0, records: batch }] }],
    });
    const body = decodeRequest(ApiKey.Produce, 9, frame, decodeRequestHeader(frame).bodyOffset);
    const records = body.topicData[0]!.partitionData[0]!.records!;
    expect(records).toEqual(batch);
    expect(records.buffer).toBe(frame.buffer); // no copy
  });

  it('encodeResponseChunks hands large record sets over uncopied and matches encodeResponse byte for byte', () => {
    const big = Buffer.alloc(100_000, 7);
    const small = Buffer.alloc(100, 1);
    const body: FetchResponseInput = {
      responses: [
        {
          topic: 't',
          partitions: [
            { partitionIndex: 0, records: big },
            { partitionIndex: 1, records: small },
            { partitionIndex: 2, records: big },
          ],
        },
      ],
    };
    for (const version of [4, 11, 12]) {
      const chunks = encodeResponseChunks(ApiKey.Fetch, version, 5, body, 4096);
      expect(chunks.filter((c) => c === big)).toHaveLength(2); // the same Buffer objects, not copies
      expect(chunks.includes(small)).toBe(false); // small ones are copied into the frame
      const joined = Buffer.concat(chunks);
      expect(joined).toEqual(encodeResponse(ApiKey.Fetch, version, 5, body));
      expect(joined.readInt32BE(0)).toBe(joined.length - 4);
    }
  });

  it('JoinGroup v7+: protocolName may be null; before v7 a null is refused by the encoder', () => {
    const v7 = encodeResponse(ApiKey.JoinGroup, 7, 1, { protocolName: null, leader: '', memberId: 'm' });
    expect(decodeResponse(ApiKey.JoinGroup, 7, v7.subarray(4)).body.protocolName).toBeNull();
    expect(() => encodeResponse(ApiKey.JoinGroup, 6, 1, { protocolName: null })).toThrow(
      /protocolName is null but is not nullable in version 6/,
    );
  });
});

describe('tagged fields', () => {
  it('a tagged field is written only when it differs from its default', () => {
    const plain = encodeResponse(ApiKey.Fetch, 12, 1, { responses: [{ topic: 't', partitions: [{ partitionIndex: 0 }] }] });
    const tagged = encodeResponse(ApiKey.Fetch, 12, 1, {
      responses: [{ topic: 't', partitions: [{ partitionIndex: 0, currentLeader: { leaderId: 3, leaderEpoch: 7 } }] }],
    });
    // tag 1, size 9: leaderId 3, leaderEpoch 7, and the nested struct's own (empty) tag section.
    expect(tagged.length - plain.length).toBe(1 + 1 + 9);
    const p = decodeResponse(ApiKey.Fetch, 12, tagged.subarray(4)).body.responses[0]!.partitions[0]!;
    expect(p.currentLeader).toEqual({ leaderId: 3, leaderEpoch: 7 });
    expect(p.divergingEpoch).toEqual({ epoch: -1, endOffset: -1n });
    const same = encodeResponse(ApiKey.Fetch, 12, 1, {
      responses: [{ topic: 't', partitions: [{ partitionIndex: 0, currentLeader: { leaderId: -1, leaderEpoch: -1 } }] }],
    });
    expect(same).toEqual(plain);
  });

  it('unknown tags are kept on decode and written back on encode', () => {
    const frame = requestFrame(ApiKey.Heartbeat, 4, {
      groupId: 'g',
      generationId: 1,
      memberId: 'm',
      _unknownTaggedFields: [{ tag: 9, data: Buffer.from([1, 2, 3]) }],
    });
    expect(frame.subarray(frame.length - 6)).toEqual(Buffer.from([1, 9, 3, 1, 2, 3]));
    const body = decodeRequest(ApiKey.Heartbeat, 4, frame, decodeRequestHeader(frame).bodyOffset);
    expect(body._unknownTaggedFields).toEqual([{ tag: 9, data: Buffer.from([1, 2, 3]) }]);
    expect(requestFrame(ApiKey.Heartbeat, 4, body)).toEqual(frame);
  });

  it('tags out of order or a tagged field longer than the frame are rejected', () => {
    const ok = requestFrame(ApiKey.Heartbeat, 4, {
      groupId: 'g',
      memberId: 'm',
      _unknownTaggedFields: [
        { tag: 2, data: Buffer.from([0]) },
        { tag: 5, data: Buffer.from([0]) },
      ],
    });
    const swapped = Buffer.from(ok);
    swapped[swapped.length - 6] = 5;
    swapped[swapped.length - 3] = 2;
    expect(() => decodeRequest(ApiKey.Heartbeat, 4, swapped, decodeRequestHeader(swapped).bodyOffset)).toThrow(/out of order/);
    const long = Buffer.from(ok);
    long[long.length - 5] = 100;
    expect(() => decodeRequest(ApiKey.Heartbeat, 4, long, decodeRequestHeader(long).bodyOffset)).toThrow(KafkaDecodeError);
  });
});

describe('bad input', () => {
  it('negative and oversized lengths, truncation and trailing bytes are KafkaDecodeErrors with code 42', () => {
    const frame = requestFrame(ApiKey.DeleteGroups, 1, { groupsNames: ['a', 'b'] });
    const off = decodeRequestHeader(frame).bodyOffset;
    const negative = Buffer.from(frame);
    negative.writeInt32BE(-5, off);
    expect(catchError(() => decodeRequest(ApiKey.DeleteGroups, 1, negative, off))).toMatchObject({
      kind: 'negative-length',
      errorCode: 42,
    });
    const huge = Buffer.from(frame);
    huge.writeInt32BE(0x7fffffff, off);
    expect(catchError(() => decodeRequest(ApiKey.DeleteGroups, 1, huge, off))).toMatchObject({ kind: 'oversized' });
    expect(catchError(() => decodeRequest(ApiKey.DeleteGroups, 1, frame.subarray(0, frame.length - 1), off))).toMatchObject({
      kind: 'truncated',
    });
    expect(catchError(() => decodeRequest(ApiKey.DeleteGroups, 1, Buffer.concat([frame, Buffer.from([0])]), off))).toMatchObject({
      kind: 'invalid-value',
    });
    expect(catchError(() => decodeRequest(ApiKey.DeleteGroups, 1, frame, frame.length + 1))).toMatchObject({ kind: 'truncated' });
  });

  it('a non-nullable array sent as null is refused', () => {
    const frame = requestFrame(ApiKey.Metadata, 1, { topics: null });
    expect(catchError(() => decodeRequest(ApiKey.Metadata, 0, frame, decodeRequestHeader(frame).bodyOffset))).toMatchObject({
      kind: 'invalid-value',
    });
  });

  it('encoders refuse unknown APIs, unsupported versions and wrongly typed values', () => {
    expect(() => encodeResponse(999, 0, 1, {})).toThrow(KafkaEncodeError);
    expect(() => encodeResponse(ApiKey.Produce, 2, 1, {})).toThrow(/Produce version 2 is not supported/);
    expect(() => encodeRequest(header(ApiKey.DeleteGroups, 0), { groupsNames: [42] })).toThrow(/expected a string/);
    expect(() => encodeResponse(ApiKey.Heartbeat, 0, 1, { errorCode: 70000 })).toThrow(KafkaEncodeError);
    expect(() => encodeResponse(ApiKey.Heartbeat, 0, 1, { errorCode: 70000 })).toThrow(/^errorCode: /);
  });

  it('SUPPORTED_APIS gives every API an ApiVersions entry that encodes', () => {
    const wire = encodeResponse(ApiKey.ApiVersions, 0, 1, {
      apiKeys: SUPPORTED_APIS.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })),
    });
    expect(decodeResponse(ApiKey.ApiVersions, 0, wire.subarray(4)).body.apiKeys).toHaveLength(SUPPORTED_APIS.length);
  });
});

function catchError(fn: () => unknown): KafkaDecodeError {
  try {
    fn();
  } catch (err) {
    return err as KafkaDecodeError;
  }
  throw new Error('expected an error');
}
