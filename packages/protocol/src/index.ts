// The public surface of @samsa/protocol: what clients and servers both speak.
export * from './errors.js';
export * from './int64.js';
export * from './grpc.js';
export * from './pipeline.js';
export * from './crc32c.js';
export * from './batchHeader.js';
export * from './varint.js';
export * from './compression.js';
export * from './murmur2.js';
export * from './recordBatch.js';
export * from './compactedBatch.js';
export * from './topics.js';
export * from './configResources.js';
export * from './bigEndian.js';
export { XERIAL_BLOCK_SIZE, XERIAL_HEADER_SIZE, XERIAL_MAGIC, isXerialFramed, xerialCompress, xerialDecompress } from './codecs/snappy.js';
export { LZ4_FRAME_MAGIC } from './codecs/lz4.js';
export { ZSTD_DEFAULT_LEVEL, ZSTD_FRAME_MAGIC } from './codecs/zstd.js';
export * from './random.js';
