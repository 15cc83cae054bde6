import { describe, expect, it } from 'vitest';
import {
  Attributes,
  BatchField,
  CompressionType,
  INT64_MAX,
  INT64_MIN,
  RECORD_BATCH_OVERHEAD,
  RecordBatchBuilder,
  SamsaProtocolError,
  computeBatchCrc,
  decodeRecordBatch,
  decodeRecords,
  encodeRecordBatch,
  iterateBatches,
  maxRecordSize,
  readBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  validateProducedBatch,
  verifyBatchCrc,
  writeVarint,
  type RecordInput,
} from '../src/index.js';
import { expectProtocolError } from './helpers/errors.js';
import { Rng } from './helpers/rng.js';

const T0 = 1_700_000_000_000n;

/** A clock that ticks one millisecond per call, so timestamps are deterministic and distinct. */
function tickingClock(start = T0): () => bigint {
  let t = start;
  return () => t++;
}

/** Rewrites the CRC after a deliberate edit, so the decoder gets past the CRC check to the edit. */
function restamp(batch: Buffer): Buffer {
  batch.writeUInt32BE(computeBatchCrc(batch, 0, batch.length), BatchField.CRC);
  return batch;
}

const MIXED: RecordInput[] = [
  { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: T0 },
  { key: null, value: Buffer.from('no key'), timestamp: T0 + 5n },
  { key: Buffer.from('tombstone'), value: null, timestamp: T0 - 3n },
  { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T0 + 2n },
  {
    value: Buffer.from('with headers'),
    timestamp: T0 + 1n,
    headers: [
      { key: 'trace-id', value: Buffer.from('abc') },
      { key: 'empty', value: Buffer.alloc(0) },
      { key: 'nothing', value: null },
      { key: 'trace-id', value: Buffer.from('duplicate keys are kept in order') },
      { key: 'ünïcödé 🚀', value: Buffer.from([0, 255, 1]) },
      { key: '', value: Buffer.from('empty key') },
    ],
  },
  { key: new Uint8Array([1, 2, 3]), value: new Uint8Array(300).fill(9), timestamp: T0 },
];

describe('RecordBatch v2 round trip', () => {
  it('keeps every field of every record: null and empty keys and values, headers, timestamps', () => {
    const batch = encodeRecordBatch(MIXED, { baseOffset: 1000n });
    const { header, records } = decodeRecordBatch(batch);
    expect(header.recordCount).toBe(MIXED.length);
    expect(header.lastOffsetDelta).toBe(MIXED.length - 1);
    expect(header.baseTimestamp).toBe(T0);
    expect(header.maxTimestamp).toBe(T0 + 5n);
    expect(records).toHaveLength(MIXED.length);
    records.forEach((r, i) => {
      const input = MIXED[i]!;
      expect(r.offset).toBe(1000n + BigInt(i));
      expect(r.timestamp).toBe(input.timestamp);
      expect(r.key === null ? null : [...r.key]).toEqual(input.key == null ? null : [...input.key]);
      expect(r.value === null ? null : [...r.value]).toEqual(input.value === null ? null : [...input.value]);
      expect(r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : [...h.value] }))).toEqual(
        (input.headers ?? []).map((h) => ({ key: h.key, value: h.value === null ? null : [...h.value] })),
      );
      expect(r.attributes).toBe(0);
    });
    // empty is not null
    expect(records[3]!.key).toEqual(Buffer.alloc(0));
    expect(records[3]!.value).toEqual(Buffer.alloc(0));
  });

  it('writes the header fields the producer asked for, and a batch the broker accepts', () => {
    const builder = new RecordBatchBuilder({
      baseOffset: 42n,
      partitionLeaderEpoch: 7,
      producerId: 123456789012345n,
      producerEpoch: 3,
      baseSequence: 99,
      isTransactional: true,
      now: tickingClock(),
    });
    builder.append({ value: Buffer.from('a') });
    builder.append({ value: Buffer.from('b') });
    const batch = builder.build();
    const header = validateProducedBatch(batch);
    expect(header).toMatchObject({
      baseOffset: 42n,
      partitionLeaderEpoch: 7,
      magic: 2,
      compression: CompressionType.NONE,
      timestampType: 'CreateTime',
      isTransactional: true,
      isControl: false,
      lastOffsetDelta: 1,
      baseTimestamp: T0,
      maxTimestamp: T0 + 1n,
      producerId: 123456789012345n,
      producerEpoch: 3,
      baseSequence: 99,
      recordCount: 2,
    });
    expect(header.batchLength).toBe(batch.length - 12);
  });

  it('defaults to a non-idempotent producer (-1 ids) and a zero base offset', () => {
    const header = readBatchHeader(encodeRecordBatch([{ value: null }], { now: () => T0 }));
    expect(header).toMatchObject({
      baseOffset: 0n,
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
      partitionLeaderEpoch: -1,
      isTransactional: false,
    });
  });

  it('stamps records without a timestamp from the injected clock, so the bytes are deterministic', () => {
    const build = (): Buffer =>
      encodeRecordBatch([{ value: Buffer.from('x') }, { value: Buffer.from('y'), timestamp: T0 - 100n }, { value: null }], {
        now: tickingClock(),
      });
    const a = build();
    expect(a).toEqual(build());
    const { header, records } = decodeRecordBatch(a);
    expect(records.map((r) => r.timestamp)).toEqual([T0, T0 - 100n, T0 + 1n]);
    expect(header.baseTimestamp).toBe(T0);
    expect(header.maxTimestamp).toBe(T0 + 1n);
  });

  it('uses firstTimestamp as baseTimestamp when given, with deltas relative to it', () => {
    const batch = encodeRecordBatch(
      [
        { value: null, timestamp: T0 + 10n },
        { value: null, timestamp: T0 + 20n },
      ],
      { firstTimestamp: T0 },
    );
    const { header, records } = decodeRecordBatch(batch);
    expect(header.baseTimestamp).toBe(T0);
    expect(header.maxTimestamp).toBe(T0 + 20n);
    expect(records.map((r) => r.timestamp)).toEqual([T0 + 10n, T0 + 20n]);
  });

  it('keeps int64 offsets and timestamps exact, far past 2^53', () => {
    const base = INT64_MAX - 10n;
    const records: RecordInput[] = [
      { value: null, timestamp: INT64_MAX },
      { value: null, timestamp: (1n << 53n) + 1n },
      { value: null, timestamp: -1n },
      { value: null, timestamp: 0n },
    ];
    const batch = encodeRecordBatch(records, { baseOffset: base });
    const decoded = decodeRecordBatch(batch);
    expect(decoded.records.map((r) => r.timestamp)).toEqual(records.map((r) => r.timestamp));
    expect(decoded.records.map((r) => r.offset)).toEqual([base, base + 1n, base + 2n, base + 3n]);
    expect(decoded.header.maxTimestamp).toBe(INT64_MAX);

    const low = decodeRecordBatch(
      encodeRecordBatch([
        { value: null, timestamp: INT64_MIN },
        { value: null, timestamp: -1n },
      ]),
    );
    expect(low.records.map((r) => r.timestamp)).toEqual([INT64_MIN, -1n]);
  });

  it('rejects a record whose timestamp delta does not fit int64, and appends nothing', () => {
    const builder = new RecordBatchBuilder();
    builder.append({ value: Buffer.from('a'), timestamp: INT64_MIN });
    const size = builder.estimatedSizeInBytes;
    expect(() => builder.append({ value: Buffer.from('b'), timestamp: INT64_MAX })).toThrow(RangeError);
    expect(() => builder.append({ value: Buffer.from('b'), timestamp: INT64_MAX + 1n })).toThrow(RangeError);
    expect(builder.count).toBe(1);
    expect(builder.estimatedSizeInBytes).toBe(size);
    expect(decodeRecordBatch(builder.build()).records).toHaveLength(1);
  });

  it('reuses the previous timestamp delta only for an equal timestamp (runs, switches back, clock stamps)', () => {
    const ts = [T0, T0, T0 + 9n, T0 + 9n, T0 - 4n, T0, T0, INT64_MAX - 1n];
    const builder = new RecordBatchBuilder({ now: () => T0 + 9n });
    for (const t of ts) builder.append({ value: null, timestamp: t });
    builder.append({ value: null }); // stamped by the clock, equal to a record two before it
    builder.append({ value: null });
    const records = decodeRecordBatch(builder.build()).records;
    expect(records.map((r) => r.timestamp)).toEqual([...ts, T0 + 9n, T0 + 9n]);
    // An equal-valued but out-of-range timestamp never gets past the first check.
    const bad = new RecordBatchBuilder();
    bad.append({ value: null, timestamp: T0 });
    expect(() => bad.append({ value: null, timestamp: INT64_MAX + 1n })).toThrow(RangeError);
    expect(() => bad.append({ value: null, timestamp: INT64_MAX + 1n })).toThrow(RangeError);
    expect(bad.count).toBe(1);
  });

  it('maxRecordSize bounds each record, so a builder sized by it never regrows', () => {
    const rng = new Rng(5);
    const inputs: RecordInput[] = [...MIXED];
    for (let i = 0; i < 3000; i++) {
      inputs.push({
        key: i % 4 === 0 ? null : rng.bytes(rng.int(200)),
        value: i % 7 === 0 ? null : rng.bytes([0, 63, 64, 8191, 8192, rng.int(3000)][i % 6]!),
        // Worst cases for the varints: deltas spanning the int64 range, offsets past 2^14.
        timestamp: i % 50 === 0 ? INT64_MIN + BigInt(i) : INT64_MAX - BigInt(rng.int(1000)),
        headers:
          i % 5 === 0
            ? [
                { key: 'ü'.repeat(rng.int(40)), value: rng.bytes(rng.int(300)) },
                { key: '', value: null },
              ]
            : undefined,
      });
    }
    let bound = RECORD_BATCH_OVERHEAD;
    // baseTimestamp 0: every delta is the timestamp itself, so the extremes take 10-byte varlongs.
    const builder = new RecordBatchBuilder({ initialCapacity: 0, firstTimestamp: 0n });
    for (const r of inputs) {
      const before = builder.estimatedSizeInBytes;
      builder.append(r);
      expect(builder.estimatedSizeInBytes - before).toBeLessThanOrEqual(maxRecordSize(r));
      bound += maxRecordSize(r);
    }
    expect(builder.build().length).toBeLessThanOrEqual(bound);
  });

  it('rejects out-of-range options when constructed', () => {
    expect(() => new RecordBatchBuilder({ producerEpoch: 40000 })).toThrow(RangeError);
    expect(() => new RecordBatchBuilder({ baseSequence: 2 ** 31 })).toThrow(RangeError);
    expect(() => new RecordBatchBuilder({ baseOffset: INT64_MAX + 1n })).toThrow(RangeError);
    expect(() => new RecordBatchBuilder({ partitionLeaderEpoch: 1.5 })).toThrow(RangeError);
  });

  it('counts records and tracks the uncompressed size, header included', () => {
    const builder = new RecordBatchBuilder({ now: () => T0 });
    expect(builder.count).toBe(0);
    expect(builder.estimatedSizeInBytes).toBe(RECORD_BATCH_OVERHEAD);
    builder.append({ value: Buffer.alloc(100) });
    // body: attributes(1) tsDelta(1) offsetDelta(1) key(1) valueLength(2, zigzag 200)+100 headers(1) = 107,
    // preceded by its length (2 bytes, zigzag 214)
    expect(builder.estimatedSizeInBytes).toBe(RECORD_BATCH_OVERHEAD + 2 + 107);
    builder.append({ value: Buffer.alloc(100) });
    expect(builder.count).toBe(2);
    expect(builder.build().length).toBe(builder.estimatedSizeInBytes);
  });

  it('refuses an empty batch and appends after build; build() is idempotent', () => {
    expect(() => new RecordBatchBuilder().build()).toThrow(RangeError);
    const builder = new RecordBatchBuilder({ now: () => T0 });
    builder.append({ value: null });
    const batch = builder.build();
    expect(builder.build()).toBe(batch);
    expect(() => builder.append({ value: null })).toThrow(/after build/);
  });

  it('grows its buffer across many records and values longer than one varint byte', () => {
    const rng = new Rng(11);
    const inputs: RecordInput[] = [];
    for (let i = 0; i < 5000; i++) {
      const size = [0, 1, 63, 64, 127, 128, 8191, 8192, 100, rng.int(2000)][i % 10]!;
      inputs.push({
        key: i % 3 === 0 ? null : rng.bytes(rng.int(20)),
        value: rng.bytes(size),
        timestamp: T0 + BigInt(rng.int(100000) - 50000),
      });
    }
    inputs.push({ value: rng.bytes(3 * 1024 * 1024) });
    const builder = new RecordBatchBuilder({ initialCapacity: 64, now: () => T0 });
    for (const r of inputs) builder.append(r);
    const records = decodeRecordBatch(builder.build()).records;
    expect(records).toHaveLength(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      expect(records[i]!.offset).toBe(BigInt(i));
      // Buffer.equals, not toEqual: a deep element-wise compare of megabytes takes seconds.
      expect(records[i]!.value!.equals(inputs[i]!.value!)).toBe(true);
      const key = inputs[i]!.key ?? null;
      if (key === null) expect(records[i]!.key).toBeNull();
      else expect(records[i]!.key!.equals(key)).toBe(true);
    }
  });

  it('round-trips gzip batches and sets compression bits 0-2', () => {
    const inputs: RecordInput[] = [];
    for (let i = 0; i < 2000; i++)
      inputs.push({ key: Buffer.from(`key-${i}`), value: Buffer.from(`value ${i % 10} `.repeat(10)), timestamp: T0 + BigInt(i) });
    inputs.push({ key: null, value: null, headers: [{ key: 'h', value: null }] });
    const plain = encodeRecordBatch(inputs, { now: () => T0 });
    const gzipped = encodeRecordBatch(inputs, { compression: CompressionType.GZIP, now: () => T0 });
    expect(gzipped.length).toBeLessThan(plain.length / 5);
    expect(gzipped.readInt16BE(BatchField.ATTRIBUTES) & Attributes.COMPRESSION_MASK).toBe(CompressionType.GZIP);
    expect(verifyBatchCrc(gzipped)).toBe(true);
    validateProducedBatch(gzipped);
    const a = decodeRecordBatch(plain).records;
    const b = decodeRecordBatch(gzipped);
    expect(b.header.compression).toBe(CompressionType.GZIP);
    expect(b.records).toEqual(a);
  });

  it('shifts offsets when the leader stamps baseOffset, without breaking the CRC', () => {
    const batch = encodeRecordBatch(MIXED);
    setBaseOffset(batch, 0, 5_000_000_000n);
    expect(verifyBatchCrc(batch)).toBe(true);
    expect(decodeRecordBatch(batch).records.map((r) => r.offset)).toEqual(MIXED.map((_, i) => 5_000_000_000n + BigInt(i)));
  });

  it('reports maxTimestamp for every record of a LogAppendTime batch', () => {
    const batch = encodeRecordBatch(MIXED);
    setLogAppendTime(batch, 0, batch.length, T0 + 99999n);
    const { header, records } = decodeRecordBatch(batch);
    expect(header.timestampType).toBe('LogAppendTime');
    expect(records.every((r) => r.timestamp === T0 + 99999n)).toBe(true);
  });
});

describe('decodeRecords and iterateBatches over a fetch answer', () => {
  const first = encodeRecordBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }], { baseOffset: 0n, now: () => T0 });
  const second = encodeRecordBatch([{ value: Buffer.from('c') }], { baseOffset: 2n, compression: CompressionType.GZIP, now: () => T0 });
  const third = encodeRecordBatch([{ value: Buffer.from('d') }, { value: Buffer.from('e') }], { baseOffset: 3n, now: () => T0 });

  it('decodes every batch in order', () => {
    const records = decodeRecords(Buffer.concat([first, second, third]));
    expect(records.map((r) => r.offset)).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(records.map((r) => r.value!.toString())).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('ignores a partial trailing batch at every cut point', () => {
    const whole = Buffer.concat([first, second]);
    for (let cut = 0; cut < third.length; cut++) {
      const records = decodeRecords(Buffer.concat([whole, third.subarray(0, cut)]));
      expect(records.map((r) => r.offset)).toEqual([0n, 1n, 2n]);
      expect([...iterateBatches(Buffer.concat([whole, third.subarray(0, cut)]))].map((b) => b.pos)).toEqual([0, first.length]);
    }
    expect(decodeRecords(Buffer.alloc(0))).toEqual([]);
  });

  it('yields position, size and header of each whole batch', () => {
    const batches = [...iterateBatches(Buffer.concat([first, second, third]))];
    expect(batches.map((b) => [b.pos, b.size, b.header.baseOffset])).toEqual([
      [0, first.length, 0n],
      [first.length, second.length, 2n],
      [first.length + second.length, third.length, 3n],
    ]);
  });

  it('skips control batches (transaction markers)', () => {
    const control = Buffer.from(
      encodeRecordBatch([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], {
        baseOffset: 2n,
        isTransactional: true,
        now: () => T0,
      }),
    );
    control.writeInt16BE(control.readInt16BE(BatchField.ATTRIBUTES) | Attributes.CONTROL, BatchField.ATTRIBUTES);
    restamp(control);
    const records = decodeRecords(Buffer.concat([first, control, third]));
    expect(records.map((r) => r.offset)).toEqual([0n, 1n, 3n, 4n]);
    expect(decodeRecordBatch(control).header.isControl).toBe(true);
  });

  it('throws CORRUPT_MESSAGE on a batch length below the header size or a wrong magic', () => {
    const short = Buffer.from(first);
    short.writeInt32BE(10, BatchField.BATCH_LENGTH);
    expectProtocolError(() => decodeRecords(short));
    expectProtocolError(() => [...iterateBatches(short)]);
    const negative = Buffer.from(first);
    negative.writeInt32BE(-1, BatchField.BATCH_LENGTH);
    expectProtocolError(() => decodeRecords(negative));
    const magic1 = Buffer.from(first);
    magic1.writeInt8(1, BatchField.MAGIC);
    expectProtocolError(() => decodeRecords(magic1));
  });
});

describe('corrupt input', () => {
  const batch = encodeRecordBatch(MIXED, { now: () => T0 });
  const gzipped = encodeRecordBatch(MIXED, { compression: CompressionType.GZIP, now: () => T0 });

  it('detects a flipped bit anywhere under the CRC (attributes..end)', () => {
    for (const source of [batch, gzipped]) {
      for (let i = BatchField.ATTRIBUTES; i < source.length; i += 7) {
        const tampered = Buffer.from(source);
        tampered[i]! ^= 0x10;
        const err = expectProtocolError(() => decodeRecordBatch(tampered));
        expect(err.message).toMatch(/CRC/);
        expectProtocolError(() => decodeRecords(tampered));
      }
    }
  });

  it('decodes a tampered value when the caller opts out of CRC checks', () => {
    const tampered = Buffer.from(encodeRecordBatch([{ value: Buffer.from('hello') }], { now: () => T0 }));
    tampered[tampered.length - 2] = 'X'.charCodeAt(0); // the last value byte; headers count follows
    expect(decodeRecordBatch(tampered, 0, { verifyCrc: false }).records[0]!.value!.toString()).toBe('hellX');
  });

  it('throws CORRUPT_MESSAGE, never a RangeError, for every truncation', () => {
    for (const source of [batch, gzipped]) {
      for (let cut = 0; cut < source.length; cut++) {
        expectProtocolError(() => decodeRecordBatch(source.subarray(0, cut)));
        expectProtocolError(() => decodeRecordBatch(source.subarray(0, cut), 0, { verifyCrc: false }));
      }
    }
  });

  it('throws CORRUPT_MESSAGE when the batch at `pos` runs past the buffer', () => {
    const two = Buffer.concat([batch, batch]);
    expect(decodeRecordBatch(two, batch.length).records).toHaveLength(MIXED.length);
    expectProtocolError(() => decodeRecordBatch(two.subarray(0, two.length - 1), batch.length));
  });

  it('throws CORRUPT_MESSAGE when record lengths, counts or headers lie (with a valid CRC)', () => {
    const one = encodeRecordBatch([{ key: Buffer.from('key'), value: Buffer.from('value') }], { now: () => T0 });

    const moreRecords = Buffer.from(one);
    moreRecords.writeInt32BE(2, BatchField.RECORDS_COUNT);
    expectProtocolError(() => decodeRecordBatch(restamp(moreRecords)));

    const hugeCount = Buffer.from(one);
    hugeCount.writeInt32BE(0x7fffffff, BatchField.RECORDS_COUNT);
    expectProtocolError(() => decodeRecordBatch(restamp(hugeCount)));

    const negativeCount = Buffer.from(one);
    negativeCount.writeInt32BE(-1, BatchField.RECORDS_COUNT);
    expectProtocolError(() => decodeRecordBatch(restamp(negativeCount)));

    const fewerRecords = Buffer.concat([encodeRecordBatch([{ value: null }, { value: null }], { now: () => T0 })]);
    fewerRecords.writeInt32BE(1, BatchField.RECORDS_COUNT);
    expect(expectProtocolError(() => decodeRecordBatch(restamp(fewerRecords))).message).toMatch(/after its 1 records/);

    // record length (first byte of the section) one larger / smaller than its fields
    for (const delta of [1, -1]) {
      const lying = Buffer.from(one);
      const length = lying[RECORD_BATCH_OVERHEAD]! >> 1;
      writeVarint(lying, RECORD_BATCH_OVERHEAD, length + delta);
      expectProtocolError(() => decodeRecordBatch(restamp(lying)));
    }

    // key length pointing past the record
    const longKey = Buffer.from(one);
    writeVarint(longKey, RECORD_BATCH_OVERHEAD + 4, 60);
    expectProtocolError(() => decodeRecordBatch(restamp(longKey)));

    // a header count the record cannot hold
    const headers = Buffer.from(one);
    writeVarint(headers, headers.length - 1, 50);
    expectProtocolError(() => decodeRecordBatch(restamp(headers)));
  });

  it('throws CORRUPT_MESSAGE for a gzip section that does not inflate', () => {
    const broken = Buffer.from(gzipped);
    broken.fill(0x41, RECORD_BATCH_OVERHEAD + 10, RECORD_BATCH_OVERHEAD + 30);
    const err = expectProtocolError(() => decodeRecordBatch(restamp(broken)));
    expect(err.message).toMatch(/decompress/);
  });

  it('throws UNSUPPORTED_COMPRESSION_TYPE for a compression type Kafka does not define', () => {
    // A gzip section labelled zstd is merely corrupt: every Kafka type has a codec now.
    const zstd = Buffer.from(gzipped);
    zstd.writeInt16BE(CompressionType.ZSTD, BatchField.ATTRIBUTES);
    expectProtocolError(() => decodeRecordBatch(restamp(zstd)), 'CORRUPT_MESSAGE');
    const seven = Buffer.from(gzipped);
    seven.writeInt16BE(7, BatchField.ATTRIBUTES);
    expectProtocolError(() => decodeRecordBatch(restamp(seven)), 'UNSUPPORTED_COMPRESSION_TYPE');
  });

  it('survives random corruption behind a valid CRC: decodes or throws SamsaProtocolError, nothing else', () => {
    const rng = new Rng(1234);
    const sources = [
      batch,
      gzipped,
      encodeRecordBatch([{ key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'a', value: Buffer.from('b') }] }], {
        now: () => T0,
      }),
    ];
    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const source = sources[i % sources.length]!;
      const mutated = Buffer.from(source);
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) {
        const at = BatchField.ATTRIBUTES + 2 + rng.int(mutated.length - BatchField.ATTRIBUTES - 2);
        mutated[at] = rng.int(256);
      }
      restamp(mutated);
      try {
        decodeRecordBatch(mutated);
        decoded++;
      } catch (err) {
        if (!(err instanceof SamsaProtocolError)) throw new Error(`iteration ${i}: ${String(err)}`, { cause: err });
        rejected++;
      }
    }
    expect(decoded + rejected).toBe(5000);
    expect(rejected).toBeGreaterThan(0);
  });
});
