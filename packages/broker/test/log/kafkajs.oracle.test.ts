/**
 * Oracle: the bytes on disk are Kafka RecordBatch v2, readable by an independent decoder. KafkaJS
 * (test-only devDependency) decodes every .log segment file of a log; and batches that KafkaJS
 * encodes are accepted by appendAsLeader and read back verbatim.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecordBatch } from '@samsa/protocol';
import { manualClock, openLog, tempDir } from './helpers.js';

const require = createRequire(import.meta.url);
const KafkaDecoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => { offset: number; buffer: Buffer };
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<KafkaBatch>;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (args: object) => Promise<{ buffer: Buffer }>;
};
const KafkaRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: object) => unknown;

interface KafkaBatch {
  firstOffset: string;
  partitionLeaderEpoch: number;
  lastOffsetDelta: number;
  records: { offset: string; key: Buffer | null; value: Buffer | null; timestamp: string; headers: Record<string, Buffer> }[];
}

async function decodeSegmentFile(path: string): Promise<KafkaBatch[]> {
  const decoder = new KafkaDecoder(readFileSync(path));
  const batches: KafkaBatch[] = [];
  while (decoder.offset < decoder.buffer.length) batches.push(await decodeRecordBatch(decoder));
  return batches;
}

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

describe('KafkaJS reads what the log writes', () => {
  it('decodes every segment file on disk with the right offsets, epochs, keys, values and headers', async () => {
    const log = openLog(dir, { segmentBytes: 600 }, manualClock());
    const expected: { offset: bigint; key: string | null; value: string; epoch: number }[] = [];
    for (let b = 0; b < 30; b++) {
      const epoch = b < 15 ? 3 : 4;
      const count = 1 + (b % 4);
      const records = Array.from({ length: count }, (_, i) => ({
        key: i === 1 ? null : Buffer.from(`key-${b}-${i}`),
        value: Buffer.from(`value-${b}-${i}`),
        headers: [{ key: 'h', value: Buffer.from(`hv${b}`) }],
        timestamp: 1_700_000_000_000n + BigInt(b),
      }));
      const { baseOffset } = log.appendAsLeader(encodeRecordBatch(records), epoch);
      records.forEach((r, i) =>
        expected.push({ offset: baseOffset + BigInt(i), key: r.key?.toString() ?? null, value: r.value.toString(), epoch }),
      );
    }
    log.close();

    const files = readdirSync(dir)
      .filter((n) => n.endsWith('.log'))
      .sort();
    expect(files.length).toBeGreaterThan(3);
    const seen: typeof expected = [];
    for (const file of files) {
      const batches = await decodeSegmentFile(join(dir, file));
      expect(batches.length).toBeGreaterThan(0);
      expect(BigInt(batches[0]!.firstOffset)).toBe(BigInt(file.slice(0, 20))); // the file name is the base offset
      for (const batch of batches) {
        expect(batch.records).toHaveLength(batch.lastOffsetDelta + 1);
        for (const r of batch.records) {
          seen.push({
            offset: BigInt(r.offset),
            key: r.key ? r.key.toString() : null,
            value: r.value!.toString(),
            epoch: batch.partitionLeaderEpoch,
          });
          expect(r.headers.h!.toString()).toBe(`hv${r.value!.toString().split('-')[1]}`);
        }
      }
    }
    expect(seen).toEqual(expected);
  });

  it('accepts batches KafkaJS encodes and returns them verbatim', async () => {
    const log = openLog(dir, {}, manualClock());
    const encoded = await RecordBatch({
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_002,
      lastOffsetDelta: 2,
      records: [0, 1, 2].map((i) =>
        KafkaRecord({ offsetDelta: i, timestampDelta: i, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) }),
      ),
    });
    const batch = Buffer.from(encoded.buffer);
    log.appendAsLeader(Buffer.from(batch), 9);
    log.appendAsLeader(Buffer.from(batch), 9);
    const { records } = log.read(0n, 1 << 20);
    const decoded = decodeRecords(records);
    expect(decoded.map((r) => [r.offset, r.key!.toString(), r.value!.toString(), r.timestamp])).toEqual([
      [0n, 'k0', 'v0', 1_700_000_000_000n],
      [1n, 'k1', 'v1', 1_700_000_000_001n],
      [2n, 'k2', 'v2', 1_700_000_000_002n],
      [3n, 'k0', 'v0', 1_700_000_000_000n],
      [4n, 'k1', 'v1', 1_700_000_000_001n],
      [5n, 'k2', 'v2', 1_700_000_000_002n],
    ]);
    // Apart from the stamped baseOffset and epoch (bytes 0-7 and 12-15), the bytes are KafkaJS's own.
    expect(records.subarray(16, batch.length)).toEqual(batch.subarray(16));
    expect(records.subarray(8, 12)).toEqual(batch.subarray(8, 12));
    log.close();
  });
});
