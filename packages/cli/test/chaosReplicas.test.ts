/**
 * The divergent-replicas check on replica logs built from real RecordBatch v2 bytes: identical
 * logs pass; a lagging follower is waited for and then counted; one flipped byte below the high
 * watermark is found at its position; bytes at or above the high watermark do not count.
 */
import { RecordBatchBuilder } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import type { ChaosNode, ClusterDriver } from '../src/chaos/driver.js';
import { History } from '../src/chaos/history.js';
import { committedPrefix, compareReplicas } from '../src/chaos/replicas.js';

/** Three batches of 2 records each: offsets 0-1, 2-3, 4-5. */
function log(batches = 3): Buffer {
  return Buffer.concat(
    Array.from({ length: batches }, (_, b) => {
      const builder = new RecordBatchBuilder({ baseOffset: BigInt(2 * b), now: () => 1_000n });
      builder.append({ key: null, value: Buffer.from(`v${2 * b}`) });
      builder.append({ key: null, value: Buffer.from(`v${2 * b + 1}`) });
      return builder.build();
    }),
  );
}

const brokers: ChaosNode[] = [4, 5, 6].map((nodeId, i) => ({ name: `broker-${i + 1}`, nodeId, role: 'broker' }));

function fakeDriver(logs: Map<string, () => Buffer>): ClusterDriver {
  return { brokers, readPartitionLog: async (b: ChaosNode) => logs.get(b.name)!() } as unknown as ClusterDriver;
}

async function compare(logs: Map<string, () => Buffer>, hw: bigint, timeoutMs = 1_000) {
  const history = new History();
  await compareReplicas(fakeDriver(logs), 'chaos', new Map([[0, [4, 5, 6]]]), new Map([[0, hw]]), history, timeoutMs);
  const [e] = history.events;
  if (e?.type !== 'replicas') throw new Error('no replicas event');
  return e;
}

describe('divergent replicas', () => {
  it('finds the committed prefix: whole batches below the high watermark', () => {
    const full = log();
    expect(committedPrefix(full, 4n)).toMatchObject({ reachesHighWatermark: true, batches: 2 });
    expect(committedPrefix(full, 3n)).toMatchObject({ reachesHighWatermark: false, batches: 1 });
    expect(committedPrefix(full.subarray(0, full.length - 5), 6n)).toMatchObject({ reachesHighWatermark: false, batches: 2 });
    expect(committedPrefix(Buffer.alloc(0), 0n)).toMatchObject({ reachesHighWatermark: true, batches: 0 });
  });

  it('passes identical replicas, ignoring an uncommitted tail on one of them', async () => {
    const e = await compare(
      new Map([
        ['broker-1', () => log(3)],
        ['broker-2', () => log(2)],
        ['broker-3', () => log(3)],
      ]),
      4n,
    );
    expect(e.identical).toBe(true);
    expect(e.detail).toContain('3 replicas, 2 batches');
  });

  it('waits for a follower that is catching up', async () => {
    let reads = 0;
    const catchingUp = () => (++reads < 3 ? log(1) : log(3));
    const e = await compare(
      new Map([
        ['broker-1', () => log(3)],
        ['broker-2', catchingUp],
        ['broker-3', () => log(3)],
      ]),
      6n,
      10_000,
    );
    expect(e.identical).toBe(true);
    expect(reads).toBeGreaterThanOrEqual(3);
  });

  it('counts a follower that never reaches the high watermark', async () => {
    const e = await compare(
      new Map([
        ['broker-1', () => log(3)],
        ['broker-2', () => log(1)],
        ['broker-3', () => log(3)],
      ]),
      6n,
      300,
    );
    expect(e.identical).toBe(false);
    expect(e.detail).toContain('broker-2 did not reach the high watermark 6');
  });

  it('finds one flipped byte below the high watermark, and only there', async () => {
    const bad = log(3);
    const at = bad.length - 3;
    bad[at] = bad[at]! ^ 0xff;
    const below = await compare(
      new Map([
        ['broker-1', () => log(3)],
        ['broker-2', () => log(3)],
        ['broker-3', () => bad],
      ]),
      6n,
    );
    expect(below.identical).toBe(false);
    expect(below.detail).toBe(`broker-3 differs from broker-1 at byte ${at}`);
    // The same flip in the last batch is above a high watermark of 4: not committed, not compared.
    const above = await compare(
      new Map([
        ['broker-1', () => log(3)],
        ['broker-2', () => log(3)],
        ['broker-3', () => bad],
      ]),
      4n,
    );
    expect(above.identical).toBe(true);
  });
});
