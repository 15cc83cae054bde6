/**
 * Compression codecs for the records section of a RecordBatch, keyed by the CompressionType in
 * attributes bits 0-2. All of Kafka's are built in: gzip (node:zlib), snappy (xerial-framed, as
 * Kafka's Java client writes it), lz4 (LZ4 frame) and zstd, the last three through prebuilt native
 * packages loaded on first use (codecs/). registerCodec replaces one (e.g. a wasm build).
 * Codecs are synchronous: the producer's build() and the consumer's decode stay synchronous.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { CompressionType } from './batchHeader.js';
import { lz4Codec } from './codecs/lz4.js';
import { snappyCodec } from './codecs/snappy.js';
import { zstdCodec } from './codecs/zstd.js';
import { protocolError } from './errors.js';

export interface CompressionCodec {
  compress(data: Buffer): Buffer;
  decompress(data: Buffer): Buffer;
}

const NAMES: Record<number, string> = { 0: 'none', 1: 'gzip', 2: 'snappy', 3: 'lz4', 4: 'zstd' };

const identity: CompressionCodec = { compress: (data) => data, decompress: (data) => data };

const gzip: CompressionCodec = {
  compress: (data) => gzipSync(data),
  decompress: (data) => gunzipSync(data),
};

const codecs = new Map<number, CompressionCodec>([
  [CompressionType.NONE, identity],
  [CompressionType.GZIP, gzip],
  [CompressionType.SNAPPY, snappyCodec],
  [CompressionType.LZ4, lz4Codec],
  [CompressionType.ZSTD, zstdCodec],
]);

/** A readable name for a compression type, for messages and configs ("gzip", "type 6"). */
export function compressionName(type: number): string {
  return NAMES[type] ?? `type ${type}`;
}

/** Installs (or replaces) the codec for `type`; NONE is fixed. */
export function registerCodec(type: CompressionType, codec: CompressionCodec): void {
  if (!(type in NAMES)) throw new RangeError(`compression type ${type} is not one of Kafka's (0-4)`);
  if (type === CompressionType.NONE) throw new RangeError('compression type none cannot be replaced');
  codecs.set(type, codec);
}

/** True when a codec for `type` is available in this process. */
export function hasCodec(type: number): boolean {
  return codecs.has(type);
}

/** The codec for `type`; throws UNSUPPORTED_COMPRESSION_TYPE when none is registered. */
export function codecFor(type: number): CompressionCodec {
  const codec = codecs.get(type);
  if (codec === undefined) {
    const known = type in NAMES;
    throw protocolError(
      'UNSUPPORTED_COMPRESSION_TYPE',
      known
        ? `compression ${compressionName(type)} (${type}) has no codec registered in this process; register one with registerCodec()`
        : `compression type ${type} is not a known Kafka compression type (0-4)`,
    );
  }
  return codec;
}

export function compress(type: number, data: Buffer): Buffer {
  return codecFor(type).compress(data);
}

export function decompress(type: number, data: Buffer): Buffer {
  return codecFor(type).decompress(data);
}
