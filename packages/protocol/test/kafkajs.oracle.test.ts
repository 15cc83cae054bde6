/**
 * kafkajs (an independent, widely used implementation) as an oracle: its Java-compatible default
 * partitioner must agree with ours, and its RecordBatch codec must read what we write and vice
 * versa. kafkajs internals are plain CommonJS without types, hence createRequire and `any`.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  BatchField,
  CompressionType,
  INT64_MAX,
  INT64_MIN,
  Reader,
  decodeRecordBatch,
  encodeRecordBatch,
  murmur2,
  partitionForKey,
  toPositive,
  writeVarint,
  writeVarlong,
  type RecordInput,
} from '../src/index.js';
import { Rng } from './helpers/rng.js';

const require = createRequire(import.meta.url);
const Decoder: any = require('kafkajs/src/protocol/decoder');
const Encoder: any = require('kafkajs/src/protocol/encoder');
const Long: any = require('kafkajs/src/utils/long');
const decodeKafkajsBatch: (decoder: any) => Promise<any> = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const { RecordBatch: encodeKafkajsBatch }: { RecordBatch: (opts: any) => Promise<any> } = require('kafkajs/src/protocol/recordBatch/v0');
const encodeKafkajsRecord: (opts: any) => any = require('kafkajs/src/protocol/recordBatch/record/v0');
const kafkajsCrc32c: (buf: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C');
const kafkajsMurmur2: (key: Buffer | string) => number = require('kafkajs/src/producer/partitioners/default/murmur2');
const createKafkajsDefaultPartitioner: () => (args: any) => number = require('kafkajs/src/producer/partitioners/default');

function randomRecord(rng: Rng, i: number, base: bigint): RecordInput {
  const headers: Array<{ key: string; value: Buffer | null }> = [];
  const headerCount = rng.int(4);
  for (let h = 0; h < headerCount; h++)
    headers.push({ key: `h${h}-${rng.int(1000)}`, value: rng.int(5) === 0 ? Buffer.alloc(0) : rng.bytes(rng.int(40)) });
  return {
    key: i % 5 === 0 ? null : rng.bytes(rng.int(30)),
    value: i % 7 === 3 ? null : rng.bytes(rng.int(i % 11 === 0 ? 5000 : 200)),
    headers,
    timestamp: base + BigInt(rng.int(1_000_000) - 500_000),
  };
}

/** kafkajs merges repeated header keys into arrays; build that shape from ours. */
function kafkajsHeaders(headers: ReadonlyArray<{ key: string; value: Uint8Array | null }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of headers) {
    const v = value === null ? null : Buffer.from(value);
    const prev = out[key];
    out[key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

describe('kafkajs oracle: partitioning', () => {
  it('murmur2 + toPositive agree with kafkajs for 10,000 random keys (lengths 0-200)', () => {
    const rng = new Rng(20240601);
    for (let i = 0; i < 10_000; i++) {
      const key = rng.bytes(i < 50 ? i % 8 : rng.int(201));
      expect(murmur2(key)).toBe(kafkajsMurmur2(key));
    }
  });

  it.each([1, 3, 7, 50, 1000])('the Java-compatible default partitioner agrees for %i partitions', (numPartitions) => {
    const partitioner = createKafkajsDefaultPartitioner();
    const partitionMetadata = Array.from({ length: numPartitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
    const rng = new Rng(7 * numPartitions + 1);
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const key = rng.bytes(i === 0 ? 0 : rng.int(100));
      const ours = partitionForKey(key, numPartitions);
      expect(ours).toBe(partitioner({ topic: 't', partitionMetadata, message: { key, value: null } }));
      seen.add(ours);
    }
    // the keys spread over (nearly) every partition, so agreement is not the luck of a degenerate hash
    expect(seen.size).toBeGreaterThan(numPartitions * 0.99);
  });

  it('agrees on string keys, which kafkajs hashes as UTF-8', () => {
    for (const key of ['', 'a', 'order-42', 'grüße', '🚀🚀', 'x'.repeat(1000)]) {
      expect(toPositive(murmur2(key)) % 50).toBe(toPositive(kafkajsMurmur2(key)) % 50);
    }
  });
});

describe('kafkajs oracle: varints', () => {
  it('writes the same varlong and varint bytes as kafkajs and reads kafkajs bytes', () => {
    const rng = new Rng(99);
    const values = [0n, -1n, 1n << 31n, -(1n << 31n), 1n << 53n, -(1n << 53n), INT64_MAX, INT64_MIN];
    for (let i = 0; i < 3000; i++) values.push(rng.int64());
    const buf = Buffer.alloc(10);
    for (const v of values) {
      const theirs: Buffer = new Encoder().writeVarLong(Long.fromValue(v)).buffer;
      const end = writeVarlong(buf, 0, v);
      expect(buf.subarray(0, end)).toEqual(theirs);
      expect(new Reader(theirs).readVarlong()).toBe(v);
      expect(BigInt(new Decoder(Buffer.from(buf.subarray(0, end))).readVarLong().toString())).toBe(v);
    }
    for (let i = 0; i < 3000; i++) {
      const v = rng.nextUint32() >> rng.int(32);
      const theirs: Buffer = new Encoder().writeVarInt(v).buffer;
      const end = writeVarint(buf, 0, v);
      expect(buf.subarray(0, end)).toEqual(theirs);
      expect(new Reader(theirs).readVarint()).toBe(v);
    }
  });
});

describe('kafkajs oracle: kafkajs decodes batches Samsa encoded', () => {
  it.each([
    ['none', CompressionType.NONE],
    ['gzip', CompressionType.GZIP],
  ])('with compression %s: same offsets, timestamps, keys, values, headers and header fields', async (_name, compression) => {
    const rng = new Rng(compression + 500);
    const base = 1_700_000_000_000n;
    const inputs = Array.from({ length: 300 }, (_, i) => randomRecord(rng, i, base));
    // repeated header keys and a null header value (kafkajs can read those, not write them)
    inputs.push({
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      headers: [
        { key: 'dup', value: Buffer.from('1') },
        { key: 'dup', value: Buffer.from('2') },
        { key: 'n', value: null },
      ],
      timestamp: base,
    });
    const batch = encodeRecordBatch(inputs, {
      compression,
      baseOffset: (1n << 40n) + 17n,
      partitionLeaderEpoch: 12,
      producerId: 9_007_199_254_740_993n, // 2^53 + 1: not representable as a number
      producerEpoch: 4,
      baseSequence: 1000,
      isTransactional: true,
    });

    expect(kafkajsCrc32c(batch.subarray(BatchField.ATTRIBUTES))).toBe(batch.readUInt32BE(BatchField.CRC));

    const theirs = await decodeKafkajsBatch(new Decoder(batch));
    const ours = decodeRecordBatch(batch);
    expect(theirs).toMatchObject({
      firstOffset: ours.header.baseOffset.toString(),
      firstTimestamp: ours.header.baseTimestamp.toString(),
      maxTimestamp: ours.header.maxTimestamp.toString(),
      partitionLeaderEpoch: 12,
      lastOffsetDelta: inputs.length - 1,
      producerId: '9007199254740993',
      producerEpoch: 4,
      firstSequence: 1000,
      inTransaction: true,
      isControlBatch: false,
    });
    expect(theirs.records).toHaveLength(inputs.length);
    theirs.records.forEach((r: any, i: number) => {
      const input = inputs[i]!;
      expect(r.offset).toBe(((1n << 40n) + 17n + BigInt(i)).toString());
      expect(r.timestamp).toBe(input.timestamp!.toString());
      expect(r.key).toEqual(input.key == null ? null : Buffer.from(input.key));
      expect(r.value).toEqual(input.value === null ? null : Buffer.from(input.value));
      expect(r.headers).toEqual(kafkajsHeaders(input.headers ?? []));
    });
  });

  it('reads int64 extremes in timestamps and offsets', async () => {
    const inputs: RecordInput[] = [
      { value: Buffer.from('a'), timestamp: INT64_MIN },
      { value: Buffer.from('b'), timestamp: -1n },
      { value: Buffer.from('c'), timestamp: INT64_MIN + (1n << 62n) },
    ];
    const batch = encodeRecordBatch(inputs, { baseOffset: INT64_MAX - 5n });
    const theirs = await decodeKafkajsBatch(new Decoder(batch));
    expect(theirs.records.map((r: any) => r.timestamp)).toEqual(inputs.map((r) => r.timestamp!.toString()));
    expect(theirs.records.map((r: any) => r.offset)).toEqual([0n, 1n, 2n].map((d) => (INT64_MAX - 5n + d).toString()));
  });
});

describe('kafkajs oracle: Samsa decodes batches kafkajs encoded', () => {
  it.each([
    ['none', CompressionType.NONE],
    ['gzip', CompressionType.GZIP],
  ])('with compression %s, CRC verified', async (_name, compression) => {
    const rng = new Rng(compression + 900);
    const base = 1_650_000_000_000n;
    const inputs = Array.from({ length: 250 }, (_, i) => randomRecord(rng, i, base));
    let maxTimestamp = base;
    for (const r of inputs) if (r.timestamp! > maxTimestamp) maxTimestamp = r.timestamp!;
    const encoded = inputs.map((r, i) =>
      encodeKafkajsRecord({
        offsetDelta: i,
        timestampDelta: Long.fromValue(r.timestamp! - base),
        key: r.key ?? null,
        value: r.value,
        headers: kafkajsHeaders(r.headers ?? []),
      }),
    );
    const batch: Buffer = (
      await encodeKafkajsBatch({
        compression,
        firstOffset: Long.fromValue(123_456_789_012n),
        firstTimestamp: Long.fromValue(base),
        maxTimestamp: Long.fromValue(maxTimestamp),
        partitionLeaderEpoch: 3,
        lastOffsetDelta: inputs.length - 1,
        producerId: Long.fromValue(77n),
        producerEpoch: 2,
        firstSequence: 5,
        records: encoded,
      })
    ).buffer;

    const { header, records } = decodeRecordBatch(batch); // verifies the CRC by default
    expect(header).toMatchObject({
      baseOffset: 123_456_789_012n,
      baseTimestamp: base,
      maxTimestamp,
      partitionLeaderEpoch: 3,
      compression,
      producerId: 77n,
      producerEpoch: 2,
      baseSequence: 5,
      recordCount: inputs.length,
      lastOffsetDelta: inputs.length - 1,
    });
    expect(records).toHaveLength(inputs.length);
    records.forEach((r, i) => {
      const input = inputs[i]!;
      expect(r.offset).toBe(123_456_789_012n + BigInt(i));
      expect(r.timestamp).toBe(input.timestamp);
      expect(r.key).toEqual(input.key == null ? null : Buffer.from(input.key));
      expect(r.value).toEqual(input.value === null ? null : Buffer.from(input.value));
      expect(r.headers).toEqual((input.headers ?? []).map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })));
    });
  });
});
