import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ABORTED_TXN_ENTRY_SIZE, type AbortedTxn } from '../../src/txn/producerTxnState.js';
import { TransactionIndex } from '../../src/txn/transactionIndex.js';
import { tempDir } from '../log/helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function indexPath(): string {
  const { dir, cleanup } = tempDir('samsa-txnindex-');
  cleanups.push(cleanup);
  return join(dir, '00000000000000000000.txnindex');
}

const e = (producerId: bigint, firstOffset: bigint, lastOffset: bigint, lastStableOffset: bigint): AbortedTxn => ({
  producerId,
  firstOffset,
  lastOffset,
  lastStableOffset,
});

describe('TransactionIndex (.txnindex)', () => {
  it('persists entries and reads them back after reopening', () => {
    const path = indexPath();
    const idx = new TransactionIndex(path);
    idx.append(e(1n, 0n, 5n, 6n));
    idx.append(e(2n, 3n, 9n, 10n));
    idx.flush();
    idx.close();
    expect(statSync(path).size).toBe(2 * ABORTED_TXN_ENTRY_SIZE);
    const again = new TransactionIndex(path);
    cleanups.push(() => again.close());
    expect(again.all()).toEqual([e(1n, 0n, 5n, 6n), e(2n, 3n, 9n, 10n)]);
  });

  it('refuses an entry whose marker is not after the last one, writing nothing', () => {
    const path = indexPath();
    const idx = new TransactionIndex(path);
    cleanups.push(() => idx.close());
    idx.append(e(1n, 0n, 5n, 6n));
    expect(() => idx.append(e(2n, 1n, 5n, 6n))).toThrow(RangeError);
    expect(statSync(path).size).toBe(ABORTED_TXN_ENTRY_SIZE);
  });

  it('cuts a torn tail at open, as recovery after a crash mid-write', () => {
    const path = indexPath();
    const idx = new TransactionIndex(path);
    idx.append(e(1n, 0n, 5n, 6n));
    idx.close();
    appendFileSync(path, Buffer.alloc(10, 1));
    const again = new TransactionIndex(path);
    cleanups.push(() => again.close());
    expect(again.all()).toEqual([e(1n, 0n, 5n, 6n)]);
    expect(readFileSync(path).length).toBe(ABORTED_TXN_ENTRY_SIZE);
  });

  it('collects overlapping entries and stops once an entry is stable past the upper bound', () => {
    const path = indexPath();
    const idx = new TransactionIndex(path);
    cleanups.push(() => idx.close());
    idx.append(e(1n, 0n, 5n, 2n)); // producer 2 still open from offset 2 when this aborted
    idx.append(e(2n, 2n, 8n, 9n));
    idx.append(e(3n, 9n, 12n, 13n));
    expect(idx.collectAbortedTxns(0n, 4n)).toEqual({ abortedTxns: [e(1n, 0n, 5n, 2n), e(2n, 2n, 8n, 9n)], isComplete: true });
    expect(idx.collectAbortedTxns(6n, 20n)).toEqual({ abortedTxns: [e(2n, 2n, 8n, 9n), e(3n, 9n, 12n, 13n)], isComplete: false });
  });

  it('truncates with the log and is deleted with its segment', () => {
    const path = indexPath();
    const idx = new TransactionIndex(path);
    idx.append(e(1n, 0n, 5n, 6n));
    idx.append(e(2n, 6n, 9n, 10n));
    idx.truncateTo(9n);
    expect(idx.all()).toEqual([e(1n, 0n, 5n, 6n)]);
    expect(statSync(path).size).toBe(ABORTED_TXN_ENTRY_SIZE);
    idx.append(e(3n, 7n, 11n, 12n));
    expect(idx.all().map((t) => t.producerId)).toEqual([1n, 3n]);
    idx.delete();
    expect(existsSync(path)).toBe(false);
  });
});
