/**
 * Walks RecordBatch headers in a segment file without reading the records: each load() makes the
 * 61-byte header at a position available, reading the file ahead in 4 KiB chunks so that a walk
 * over small batches costs one read per chunk, not one per batch.
 *
 * The chunk buffer is shared by all readers (the log is synchronous and single-threaded); a
 * reader notices when another one has used it since and reads again.
 */
import { BatchField, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD } from '@samsa/protocol';
import { readFully } from './files.js';

const CHUNK_BYTES = 4096;
const chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
let chunkOwner: HeaderReader | undefined;

export class HeaderReader {
  private readonly fd: number;
  private readonly end: number;
  private chunkStart = 0;
  private chunkLength = 0;
  /** Where the loaded header starts inside the chunk. */
  private at = 0;

  /** Reads headers of the file behind `fd` in [0, end). */
  constructor(fd: number, end: number) {
    this.fd = fd;
    this.end = end;
  }

  /** Makes the header at `position` current; false when no whole header fits before the end. */
  load(position: number): boolean {
    if (position < 0 || position + RECORD_BATCH_OVERHEAD > this.end) return false;
    if (chunkOwner !== this || position < this.chunkStart || position + RECORD_BATCH_OVERHEAD > this.chunkStart + this.chunkLength) {
      chunkOwner = this;
      this.chunkStart = position;
      this.chunkLength = readFully(this.fd, chunk, 0, Math.min(CHUNK_BYTES, this.end - position), position);
      if (this.chunkLength < RECORD_BATCH_OVERHEAD) return false;
    }
    this.at = position - this.chunkStart;
    return true;
  }

  /** Total bytes of the current batch (12 + batchLength). */
  get size(): number {
    return LOG_OVERHEAD + chunk.readInt32BE(this.at + BatchField.BATCH_LENGTH);
  }

  get magic(): number {
    return chunk.readInt8(this.at + BatchField.MAGIC);
  }

  get baseOffset(): bigint {
    return chunk.readBigInt64BE(this.at + BatchField.BASE_OFFSET);
  }

  get lastOffsetDelta(): number {
    return chunk.readInt32BE(this.at + BatchField.LAST_OFFSET_DELTA);
  }

  get lastOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta);
  }

  get maxTimestamp(): bigint {
    return chunk.readBigInt64BE(this.at + BatchField.MAX_TIMESTAMP);
  }

  get attributes(): number {
    return chunk.readInt16BE(this.at + BatchField.ATTRIBUTES);
  }

  get producerId(): bigint {
    return chunk.readBigInt64BE(this.at + BatchField.PRODUCER_ID);
  }

  get partitionLeaderEpoch(): number {
    return chunk.readInt32BE(this.at + BatchField.PARTITION_LEADER_EPOCH);
  }
}
