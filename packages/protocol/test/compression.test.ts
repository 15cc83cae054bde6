import { gzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  CompressionType,
  RecordBatchBuilder,
  codecFor,
  compress,
  decodeRecordBatch,
  decompress,
  hasCodec,
  registerCodec,
  type CompressionCodec,
} from '../src/index.js';
import { expectProtocolError } from './helpers/errors.js';

describe('compression registry', () => {
  it('ships none and gzip', () => {
    const data = Buffer.from('hello hello hello hello hello hello');
    expect(compress(CompressionType.NONE, data)).toBe(data);
    const gz = compress(CompressionType.GZIP, data);
    expect(gz[0]).toBe(0x1f); // gzip magic, as Kafka's GZIPOutputStream writes
    expect(gz[1]).toBe(0x8b);
    expect(decompress(CompressionType.GZIP, gz)).toEqual(data);
    expect(decompress(CompressionType.GZIP, gzipSync(data))).toEqual(data);
  });

  it('answers UNSUPPORTED_COMPRESSION_TYPE for types Kafka does not define', () => {
    for (const type of [CompressionType.SNAPPY, CompressionType.LZ4, CompressionType.ZSTD]) expect(hasCodec(type)).toBe(true);
    expect(hasCodec(6)).toBe(false);
    expect(expectProtocolError(() => codecFor(6), 'UNSUPPORTED_COMPRESSION_TYPE').message).toMatch(/type 6/);
  });

  it('refuses to register outside Kafka types or to replace none', () => {
    const codec: CompressionCodec = { compress: (d) => d, decompress: (d) => d };
    expect(() => registerCodec(CompressionType.NONE, codec)).toThrow(RangeError);
    expect(() => registerCodec(7 as CompressionType, codec)).toThrow(RangeError);
  });

  it('uses a codec registered later for both building and decoding', () => {
    // A stand-in for snappy: reverses the bytes, enough to prove the section went through it.
    const reverse = (d: Buffer): Buffer => Buffer.from(d).reverse();
    const real = codecFor(CompressionType.SNAPPY);
    registerCodec(CompressionType.SNAPPY, { compress: reverse, decompress: reverse });
    onTestFinished(() => registerCodec(CompressionType.SNAPPY, real));
    const builder = new RecordBatchBuilder({ compression: CompressionType.SNAPPY, now: () => 1000n });
    builder.append({ key: Buffer.from('k'), value: Buffer.from('v') });
    const batch = builder.build();
    const { header, records } = decodeRecordBatch(batch);
    expect(header.compression).toBe(CompressionType.SNAPPY);
    expect(records[0]!.value).toEqual(Buffer.from('v'));
  });
});
