/**
 * Zstandard frames (RFC 8878), as Kafka's zstd-jni writes them. Level 3, Kafka's default. The codec
 * is `@toondepauw/node-zstd` (napi-rs over libzstd 1.5.7), one of the few with synchronous
 * encode/decode and per-platform prebuilt binaries as optional dependencies (no install script).
 */
import type * as ZstdModule from '@toondepauw/node-zstd';
import type { CompressionCodec } from '../compression.js';
import { lazyNative } from './native.js';

const zstdLib = lazyNative<typeof ZstdModule>('@toondepauw/node-zstd', 'zstd');

export const ZSTD_DEFAULT_LEVEL = 3;
/** 0xFD2FB528, little-endian on the wire. */
export const ZSTD_FRAME_MAGIC = 0xfd2fb528;

let encoder: ZstdModule.Encoder | undefined;
let decoder: ZstdModule.Decoder | undefined;

export const zstdCodec: CompressionCodec = {
  compress: (data) => (encoder ??= new (zstdLib().Encoder)(ZSTD_DEFAULT_LEVEL)).encodeSync(data),
  decompress: (data) => (decoder ??= new (zstdLib().Decoder)()).decodeSync(data),
};
