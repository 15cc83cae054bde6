/**
 * One segment's aborted transaction index, `<baseOffset>.txnindex` (Kafka's TransactionIndex):
 * the AbortedTxn entries (34 bytes each, producerTxnState.ts) of the ABORT markers in that
 * segment, in marker order. Unlike the offset index it is small and append-only, so each entry is
 * written through at once; like it, it is trusted only below the recovery point (an entry torn by
 * a crash is cut off at open, and recovery re-derives the entries of the segments it replays).
 *
 * Not used by the Log yet (README.md "Wiring plan" step 2).
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { OPEN_RW_CREATE, readFully, writeFully } from '../log/files.js';
import { ABORTED_TXN_ENTRY_SIZE, decodeTxnIndex, encodeAbortedTxn, type AbortedTxn } from './producerTxnState.js';

export const TXN_INDEX_SUFFIX = '.txnindex';

export class TransactionIndex {
  private fd: number;
  private entries: AbortedTxn[];

  /** Opens (creating) the index; a torn or invalid tail is cut off, as recovery would. */
  constructor(readonly path: string) {
    this.fd = openSync(path, OPEN_RW_CREATE);
    const size = fstatSync(this.fd).size;
    const buf = Buffer.alloc(size);
    if (size > 0) readFully(this.fd, buf, 0, size, 0);
    const { entries, validBytes } = decodeTxnIndex(buf);
    if (validBytes !== size) ftruncateSync(this.fd, validBytes);
    this.entries = entries;
  }

  /** Appends an entry; its marker must come after the last one's (Kafka refuses otherwise). */
  append(entry: AbortedTxn): void {
    const last = this.entries.at(-1);
    if (last !== undefined && entry.lastOffset <= last.lastOffset) {
      throw new RangeError(
        `${this.path}: aborted transaction ending at ${entry.lastOffset} is not after the last one (${last.lastOffset})`,
      );
    }
    writeFully(this.fd, encodeAbortedTxn(entry), 0, ABORTED_TXN_ENTRY_SIZE, this.entries.length * ABORTED_TXN_ENTRY_SIZE);
    this.entries.push({ ...entry });
  }

  /**
   * Kafka's collectAbortedTxns for this segment: entries overlapping [fetchOffset, upperBound).
   * `isComplete` says no earlier-ending entry in a later segment can matter: an entry whose
   * lastStableOffset reaches upperBound was found, so the search may stop here.
   */
  collectAbortedTxns(fetchOffset: bigint, upperBound: bigint): { abortedTxns: AbortedTxn[]; isComplete: boolean } {
    const abortedTxns: AbortedTxn[] = [];
    for (const t of this.entries) {
      if (t.lastOffset >= fetchOffset && t.firstOffset < upperBound) abortedTxns.push({ ...t });
      if (t.lastStableOffset >= upperBound) return { abortedTxns, isComplete: true };
    }
    return { abortedTxns, isComplete: false };
  }

  /** Drops the entries whose marker is at or after `offset` (log truncation). */
  truncateTo(offset: bigint): void {
    const keep = this.entries.findIndex((t) => t.lastOffset >= offset);
    if (keep < 0) return;
    this.entries = this.entries.slice(0, keep);
    ftruncateSync(this.fd, keep * ABORTED_TXN_ENTRY_SIZE);
  }

  all(): AbortedTxn[] {
    return this.entries.map((t) => ({ ...t }));
  }

  flush(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Closes and removes the file (segment deletion). */
  delete(): void {
    this.close();
    if (existsSync(this.path)) unlinkSync(this.path);
  }
}
