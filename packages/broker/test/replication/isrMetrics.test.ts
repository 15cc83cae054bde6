/**
 * ISR shrink and expand counts of a leader partition (metrics): each committed change counts
 * once, whether the AlterPartition answer or the metadata carrying it arrives first; re-delivered
 * metadata and a change of leader epoch count nothing.
 */
import { DEFAULT_TOPIC_CONFIG } from '@samsa/metadata';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Log } from '../../src/log/index.js';
import type { PartitionInfo } from '../../src/metadata/image.js';
import { Partition } from '../../src/partition.js';
import type { AlterPartitionItem, AlterPartitionItemResult } from '../../src/replication/alterPartition.js';
import { tempDir } from '../log/helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function leader(info: Partial<PartitionInfo> = {}) {
  const { dir, cleanup } = tempDir('samsa-isr-metrics-');
  const log = Log.open(dir, {}, { clock: () => Date.now() });
  cleanups.push(() => {
    log.close();
    cleanup();
  });
  const sent: Array<{ item: AlterPartitionItem; answer: (r: AlterPartitionItemResult) => void }> = [];
  const counted: string[] = [];
  const p = new Partition(
    't',
    0,
    log,
    { ...DEFAULT_TOPIC_CONFIG },
    1,
    { partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2, 3], isr: [1, 2], ...info },
    () => 1_000,
    {
      replicaLagTimeMaxMs: 1_000,
      alterPartitionRetryBackoffMs: 100,
      isReplicaIsrEligible: () => true,
      submitAlterPartition: (item) => new Promise((answer) => sent.push({ item, answer })),
      listener: { onHighWatermarkChanged: () => undefined, onIsrChanged: () => undefined },
      logger: pino({ level: 'silent' }),
      metrics: { isrChanged: (kind) => counted.push(kind) },
    },
  );
  return { p, sent, counted };
}

const fetchAt = (offset: bigint) => ({
  currentLeaderEpoch: 0,
  fetchOffset: offset,
  lastFetchedEpoch: 0,
  logStartOffset: 0n,
  brokerEpoch: 5n,
  maxBytes: 1 << 20,
});
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('ISR change counts', () => {
  it('an expansion counts once its answer commits it, not when proposed', async () => {
    const { p, sent, counted } = leader();
    p.fetchRecordsForFollower(3, fetchAt(0n), true);
    expect(sent).toHaveLength(1);
    expect(counted).toEqual([]);
    sent[0]!.answer({ errorCode: 0, leaderId: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 2, 3] });
    await flush();
    expect(counted).toEqual(['expand']);
    // The same commit re-delivered through metadata counts nothing more.
    p.applyRegistration({ partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 1, replicas: [1, 2, 3], isr: [1, 2, 3] });
    expect(counted).toEqual(['expand']);
  });

  it('a commit seen in metadata before the answer counts once', async () => {
    const { p, sent, counted } = leader();
    p.fetchRecordsForFollower(3, fetchAt(0n), true);
    p.applyRegistration({ partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 1, replicas: [1, 2, 3], isr: [1, 2, 3] });
    expect(counted).toEqual(['expand']);
    sent[0]!.answer({ errorCode: 0, leaderId: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 2, 3] });
    await flush();
    expect(counted).toEqual(['expand']);
  });

  it('the controller removing a fenced broker from the ISR counts as a shrink; a refused change counts nothing', async () => {
    const { p, sent, counted } = leader();
    p.applyRegistration({ partition: 0, leader: 1, leaderEpoch: 0, partitionEpoch: 1, replicas: [1, 2, 3], isr: [1] });
    expect(counted).toEqual(['shrink']);
    p.fetchRecordsForFollower(2, fetchAt(0n), true);
    expect(sent).toHaveLength(1);
    sent[0]!.answer({ errorCode: 0, leaderId: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 2] });
    await flush();
    expect(counted).toEqual(['shrink']);
  });

  it('a new leader epoch is a new leadership, not an ISR change', () => {
    const { p, counted } = leader();
    p.applyRegistration({ partition: 0, leader: 1, leaderEpoch: 1, partitionEpoch: 1, replicas: [1, 2, 3], isr: [1] });
    expect(counted).toEqual([]);
  });
});
