/**
 * What a read_committed consumer keeps of a fetched range (KIP-98; Kafka's consumer
 * CompletedFetch): the fetch answer carries the aborted transactions (producerId, firstOffset)
 * overlapping it. Walking the batches in offset order, a producer joins the aborted set once a
 * batch reaches its aborted transaction's firstOffset; its transactional batches are dropped
 * until its ABORT marker, which takes it out again. Control batches are never returned.
 */
import { decodeControlRecordType, ControlRecordType } from './controlBatch.js';
import { decodeRecordBatch, iterateBatches, type Record } from './recordBatch.js';

export interface FetchAbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

export function decodeRecordsReadCommitted(buf: Buffer, abortedTransactions: readonly FetchAbortedTransaction[]): Record[] {
  const pending = [...abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  let next = 0;
  const abortedProducers = new Set<bigint>();
  const out: Record[] = [];
  for (const { pos, header } of iterateBatches(buf)) {
    const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
    while (next < pending.length && pending[next]!.firstOffset <= lastOffset) abortedProducers.add(pending[next++]!.producerId);
    const { records } = decodeRecordBatch(buf, pos);
    if (header.isControl) {
      const first = records[0];
      if (first !== undefined && decodeControlRecordType(first.key) === ControlRecordType.ABORT) abortedProducers.delete(header.producerId);
      continue;
    }
    if (header.isTransactional && abortedProducers.has(header.producerId)) continue;
    for (const r of records) out.push(r);
  }
  return out;
}
