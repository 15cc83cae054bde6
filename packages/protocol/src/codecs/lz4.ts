/**
 * LZ4 as Kafka (RecordBatch v2) frames it: the standard LZ4 frame format (magic 0x184D2204), which
 * is what KafkaLZ4BlockOutputStream writes. The codec is `lz4-napi` (napi-rs over lz4_flex).
 */
import type * as Lz4Module from 'lz4-napi';
import type { CompressionCodec } from '../compression.js';
import { lazyNative } from './native.js';

const lz4Lib = lazyNative<typeof Lz4Module>('lz4-napi', 'lz4');

/** 0x184D2204, little-endian on the wire. */
export const LZ4_FRAME_MAGIC = 0x184d2204;

export const lz4Codec: CompressionCodec = {
  compress: (data) => lz4Lib().compressFrameSync(data),
  decompress: (data) => lz4Lib().decompressFrameSync(data),
};
