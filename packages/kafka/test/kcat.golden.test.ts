/**
 * Golden bytes from librdkafka: test/fixtures/kcat-frames.json holds the requests kcat 1.7.1
 * (librdkafka 2.0.2) sent to the FakeBroker (regenerate with scripts/capture-kcat.mjs). Each frame
 * decodes, its fields are what kcat was asked to do, and it re-encodes to the identical bytes —
 * including librdkafka's flexible ApiVersions v3 and InitProducerId v4.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiKey, decodeRequest, decodeRequestHeader, encodeRequest } from '../src/index.js';

interface Fixture {
  client: string;
  steps: { name: string; args: string; output: string; frames: { apiKey: number; apiVersion: number; hex: string }[] }[];
}

const fixture: Fixture = JSON.parse(readFileSync(new URL('./fixtures/kcat-frames.json', import.meta.url), 'utf8'));
const frames = (step: string) => fixture.steps.find((s) => s.name === step)!.frames.map((f) => Buffer.from(f.hex, 'hex'));
const all = fixture.steps.flatMap((s) => s.frames.map((f) => ({ step: s.name, frame: Buffer.from(f.hex, 'hex') })));

function decode<K extends (typeof ApiKey)[keyof typeof ApiKey]>(apiKey: K, step: string) {
  return frames(step)
    .map((frame) => ({ frame, ...decodeRequestHeader(frame) }))
    .filter((f) => f.header.apiKey === apiKey)
    .map((f) => ({ version: f.header.apiVersion, body: decodeRequest(apiKey, f.header.apiVersion, f.frame, f.bodyOffset) }));
}

describe(`kcat requests (${fixture.client})`, () => {
  it('every captured frame decodes and re-encodes to the identical bytes', () => {
    expect(all.length).toBeGreaterThan(25);
    for (const { step, frame } of all) {
      const { header, bodyOffset } = decodeRequestHeader(frame);
      expect(header.clientId, step).toBe('kcat-golden');
      const body = decodeRequest(header.apiKey, header.apiVersion, frame, bodyOffset) as object;
      expect(encodeRequest(header, body).subarray(4), `${step} api ${header.apiKey} v${header.apiVersion}`).toEqual(frame);
    }
  });

  it('ApiVersions v3 (flexible) names the client software', () => {
    const [av] = decode(ApiKey.ApiVersions, 'metadata');
    expect(av!.version).toBe(3);
    expect(av!.body).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
  });

  it('-L asks Metadata for the topic', () => {
    const md = decode(ApiKey.Metadata, 'metadata');
    expect(md.some((m) => m.body.topics?.some((t) => t.name === 'golden-topic'))).toBe(true);
  });

  it('-P with acks=all and idempotence: InitProducerId v4 (flexible), then an idempotent Produce', () => {
    const [init] = decode(ApiKey.InitProducerId, 'produce');
    expect(init!.version).toBe(4);
    expect(init!.body).toEqual({ transactionalId: null, transactionTimeoutMs: expect.any(Number), producerId: -1n, producerEpoch: -1 });
    const [produce] = decode(ApiKey.Produce, 'produce');
    expect(produce!.body).toMatchObject({ acks: -1, transactionalId: null });
    const records = produce!.body.topicData[0]!.partitionData[0]!.records!;
    expect(produce!.body.topicData[0]!.name).toBe('golden-topic');
    expect(records[16]).toBe(2);
    expect(records.readBigInt64BE(43)).toBe(4242n); // the producer id the fake broker handed out
    expect(records.readInt32BE(57)).toBe(2); // two records: k1, k2
  });

  it('-C from the beginning: ListOffsets for -2 (earliest), then Fetch from offset 0', () => {
    const [lo] = decode(ApiKey.ListOffsets, 'consume');
    expect(lo!.body.topics[0]!.partitions[0]).toMatchObject({ partitionIndex: 0, timestamp: -2n });
    const [fetch] = decode(ApiKey.Fetch, 'consume');
    expect(fetch!.version).toBe(11);
    expect(fetch!.body.topics[0]!.partitions[0]).toMatchObject({ partition: 0, fetchOffset: 0n });
    // What kcat printed at capture time, after decoding our Fetch response.
    expect(fixture.steps.find((s) => s.name === 'consume')!.output).toBe('k1=first value\nk2=second value');
  });

  it('-Q asks ListOffsets for a timestamp', () => {
    const [lo] = decode(ApiKey.ListOffsets, 'offsets-for-times');
    expect(lo!.body.topics[0]).toMatchObject({ name: 'golden-topic', partitions: [{ partitionIndex: 0, timestamp: 1700000000000n }] });
  });

  it('-G: FindCoordinator, JoinGroup with range and roundrobin, SyncGroup, Heartbeat, OffsetCommit, LeaveGroup', () => {
    expect(decode(ApiKey.FindCoordinator, 'group')[0]!.body).toMatchObject({ key: 'golden-group', keyType: 0 });
    const join = decode(ApiKey.JoinGroup, 'group')[0]!.body;
    expect(join).toMatchObject({ groupId: 'golden-group', protocolType: 'consumer', sessionTimeoutMs: 6000 });
    expect(join.protocols.map((p) => p.name)).toEqual(['range', 'roundrobin']);
    expect(decode(ApiKey.SyncGroup, 'group')[0]!.body).toMatchObject({ groupId: 'golden-group', generationId: 1, memberId: 'member-1' });
    expect(decode(ApiKey.Heartbeat, 'group')[0]!.body).toMatchObject({ groupId: 'golden-group', memberId: 'member-1' });
    const commit = decode(ApiKey.OffsetCommit, 'group')[0]!;
    expect(commit.version).toBe(7);
    expect(commit.body.topics[0]).toMatchObject({ name: 'golden-topic', partitions: [{ partitionIndex: 0, committedOffset: 2n }] });
    expect(decode(ApiKey.LeaveGroup, 'group')[0]!.body).toMatchObject({ groupId: 'golden-group', memberId: 'member-1' });
  });
});
