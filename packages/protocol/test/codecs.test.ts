import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  CompressionType,
  LZ4_FRAME_MAGIC,
  RecordBatchBuilder,
  XERIAL_BLOCK_SIZE,
  XERIAL_MAGIC,
  ZSTD_FRAME_MAGIC,
  compress,
  decodeRecordBatch,
  decodeRecords,
  decompress,
  isXerialFramed,
  xerialDecompress,
} from '../src/index.js';
import { expectProtocolError } from './helpers/errors.js';

const require = createRequire(import.meta.url);
const snappy = require('snappy') as typeof import('snappy');

const ALL = [CompressionType.GZIP, CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD] as const;

function sample(size: number, seed = 7): Buffer {
  // Half text (compressible), half pseudo-random bytes, so both code paths of each codec run.
  const out = Buffer.alloc(size);
  let s = seed;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = i % 1024 < 512 ? 97 + (i % 26) : s >>> 24;
  }
  return out;
}

function hasTool(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('built-in codecs', () => {
  it.each(ALL)('round-trips compression type %i at several sizes', (type) => {
    for (const size of [1, 100, 16 * 1024, XERIAL_BLOCK_SIZE + 1, 200_000]) {
      const data = sample(size);
      const packed = compress(type, data);
      expect(decompress(type, packed)).toEqual(data);
    }
  });

  it.each(ALL)('builds and decodes a record batch with compression type %i', (type) => {
    const builder = new RecordBatchBuilder({ compression: type, now: () => 1_000n });
    for (let i = 0; i < 100; i++)
      builder.append({
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`value ${i} `.repeat(20)),
        headers: [{ key: 'h', value: Buffer.from('x') }],
      });
    const batch = builder.build();
    expect(batch.length).toBeLessThan(builder.estimatedSizeInBytes);
    const { header, records } = decodeRecordBatch(batch);
    expect(header.compression).toBe(type);
    expect(records.map((r) => r.value!.toString())).toEqual(Array.from({ length: 100 }, (_, i) => `value ${i} `.repeat(20)));
    expect(records[99]!.key!.toString()).toBe('k99');
    expect(decodeRecords(batch)).toHaveLength(100);
  });

  it.each([CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD])(
    'reports garbage in type %i as CORRUPT_MESSAGE inside a batch',
    (type) => {
      const builder = new RecordBatchBuilder({ compression: type });
      builder.append({ value: Buffer.from('v') });
      const batch = builder.build();
      // Replace the compressed section with junk of the same length and fix nothing else; skip the CRC check.
      const junk = Buffer.from(batch);
      junk.fill(0x5a, 61);
      expectProtocolError(() => decodeRecordBatch(junk, 0, { verifyCrc: false }), 'CORRUPT_MESSAGE');
    },
  );
});

describe('snappy framing', () => {
  it("writes the xerial framing Kafka's Java client writes", () => {
    const data = sample(XERIAL_BLOCK_SIZE * 2 + 10);
    const packed = compress(CompressionType.SNAPPY, data);
    expect(packed.subarray(0, 8)).toEqual(XERIAL_MAGIC);
    expect(packed.readInt32BE(8)).toBe(1); // version
    expect(packed.readInt32BE(12)).toBe(1); // compatible version
    // Three blocks of at most 32 KiB input each, each a valid raw snappy block.
    let pos = 16;
    const blocks: Buffer[] = [];
    while (pos < packed.length) {
      const length = packed.readInt32BE(pos);
      blocks.push(snappy.uncompressSync(packed.subarray(pos + 4, pos + 4 + length), { asBuffer: true }) as Buffer);
      pos += 4 + length;
    }
    expect(blocks.map((b) => b.length)).toEqual([XERIAL_BLOCK_SIZE, XERIAL_BLOCK_SIZE, 10]);
    expect(Buffer.concat(blocks)).toEqual(data);
  });

  it('reads a xerial fixture built by hand from the spec', () => {
    const parts = [Buffer.from('first block, '), Buffer.from('second block')];
    const frames = parts.map((p) => {
      const block = snappy.compressSync(p);
      const length = Buffer.alloc(4);
      length.writeInt32BE(block.length);
      return Buffer.concat([length, block]);
    });
    const fixture = Buffer.concat([Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]), ...frames]);
    expect(isXerialFramed(fixture)).toBe(true);
    expect(decompress(CompressionType.SNAPPY, fixture).toString()).toBe('first block, second block');
  });

  it('reads raw (unframed) snappy as librdkafka sends it', () => {
    const data = sample(5000);
    const raw = snappy.compressSync(data);
    expect(isXerialFramed(raw)).toBe(false);
    expect(decompress(CompressionType.SNAPPY, raw)).toEqual(data);
  });

  it('rejects a truncated xerial block', () => {
    const packed = compress(CompressionType.SNAPPY, sample(1000));
    expect(() => xerialDecompress(packed.subarray(0, packed.length - 3))).toThrow(/declares/);
  });
});

describe('lz4 and zstd framing', () => {
  it('writes the LZ4 frame format (magic 0x184D2204)', () => {
    const packed = compress(CompressionType.LZ4, sample(1000));
    expect(packed.readUInt32LE(0)).toBe(LZ4_FRAME_MAGIC);
  });

  it('writes zstd frames (magic 0xFD2FB528)', () => {
    const packed = compress(CompressionType.ZSTD, sample(1000));
    expect(packed.readUInt32LE(0)).toBe(ZSTD_FRAME_MAGIC);
  });

  // The reference command-line tools as oracles, where the machine has them.
  it.skipIf(!hasTool('lz4'))('decodes what the reference lz4 tool writes, and the tool decodes ours', () => {
    const data = sample(100_000);
    const theirs = execFileSync('lz4', ['-q', '-c', '-B4'], { input: data });
    expect(decompress(CompressionType.LZ4, theirs)).toEqual(data);
    expect(execFileSync('lz4', ['-q', '-d', '-c'], { input: compress(CompressionType.LZ4, data) })).toEqual(data);
  });

  it.skipIf(!hasTool('zstd'))('decodes streamed zstd without a content size, and the tool decodes ours', () => {
    const data = sample(100_000);
    const theirs = execFileSync('zstd', ['-q', '-c', '--no-content-size'], { input: data });
    expect(decompress(CompressionType.ZSTD, theirs)).toEqual(data);
    expect(execFileSync('zstd', ['-q', '-d', '-c'], { input: compress(CompressionType.ZSTD, data) })).toEqual(data);
  });
});
