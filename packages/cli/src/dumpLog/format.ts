/**
 * What `samsa dump-log` prints for one .log segment (Kafka's DumpLogSegments, kafka-dump-log):
 * a line per batch (offsets, producer fields, size, compression, CRC and whether it matches),
 * and with printData a `| offset: ...` line per record. Pure: bytes in, text out. A batch whose
 * CRC does not match is printed with isvalid: false and its records are not decoded; bytes after
 * the last whole batch are reported, as Kafka does, and nothing is thrown for them.
 */
import {
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  batchSizeAt,
  compressionName,
  decodeRecordBatch,
  readBatchHeader,
  verifyBatchCrc,
} from '@samsa/protocol';

export interface DumpOptions {
  printData: boolean;
}

export function dumpSegment(buf: Buffer, opts: DumpOptions): { text: string; invalidBatches: number } {
  let out = '';
  let invalidBatches = 0;
  let pos = 0;
  let first = true;
  while (pos < buf.length) {
    const size = batchSizeAt(buf, pos);
    if (size < RECORD_BATCH_OVERHEAD || pos + size > buf.length) break;
    const header = readBatchHeader(buf, pos);
    if (first) {
      out += `Log starting offset: ${header.baseOffset}\n`;
      first = false;
    }
    const valid = verifyBatchCrc(buf, pos);
    if (!valid) invalidBatches++;
    const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
    const lastSequence = header.baseSequence < 0 ? -1 : header.baseSequence + header.lastOffsetDelta;
    out +=
      `baseOffset: ${header.baseOffset} lastOffset: ${lastOffset} count: ${header.recordCount} baseSequence: ${header.baseSequence} ` +
      `lastSequence: ${lastSequence} producerId: ${header.producerId} producerEpoch: ${header.producerEpoch} partitionLeaderEpoch: ${header.partitionLeaderEpoch} ` +
      `isTransactional: ${header.isTransactional} isControl: ${header.isControl} position: ${pos} ${header.timestampType}: ${header.maxTimestamp} ` +
      `size: ${size} magic: ${header.magic} compresscodec: ${compressionName(header.compression).toLowerCase()} crc: ${header.crc >>> 0} isvalid: ${valid}\n`;
    if (opts.printData && valid && !header.isControl) {
      for (const r of decodeRecordBatch(buf, pos, { verifyCrc: false }).records) {
        const sequence = header.baseSequence < 0 ? -1 : header.baseSequence + Number(r.offset - header.baseOffset);
        out +=
          `| offset: ${r.offset} ${header.timestampType}: ${r.timestamp} keySize: ${r.key?.length ?? -1} valueSize: ${r.value?.length ?? -1} ` +
          `sequence: ${sequence} headerKeys: [${r.headers.map((h) => h.key).join(',')}]` +
          `${r.key === null ? '' : ` key: ${r.key.toString()}`} payload: ${r.value === null ? '' : r.value.toString()}\n`;
      }
    }
    pos += size;
  }
  if (pos < buf.length) {
    out += `Found ${buf.length - pos} invalid bytes at the end of the segment (a partial batch${buf.length - pos < LOG_OVERHEAD ? ' header' : ''})\n`;
  }
  return { text: out, invalidBatches };
}
