import { partitionForKey } from '@samsa/protocol';
import type { Random } from '../clock.js';

export interface PartitionerArgs {
  topic: string;
  /** The serialized key; null for a null key. */
  key: Buffer | null;
  partitionCount: number;
  /** Partitions that have a leader right now (ascending); may be empty. */
  availablePartitions: readonly number[];
}

/**
 * Picks the partition of a record that names none. `onNewBatch`, when present, is told that the
 * partition it last chose for `topic` is about to start a new batch (the sticky partitioner moves on).
 */
export interface Partitioner {
  (args: PartitionerArgs): number;
  onNewBatch?(topic: string, partition: number, args: PartitionerArgs): void;
}

function randomPick(random: Random, partitionCount: number, available: readonly number[], avoid: number): number {
  const candidates = available.length > 0 ? available : Array.from({ length: partitionCount }, (_, i) => i);
  if (candidates.length === 1) return candidates[0]!;
  for (;;) {
    const p = candidates[Math.floor(random() * candidates.length)]!;
    if (p !== avoid) return p;
  }
}

/**
 * Kafka's default choice (2.4+): a non-null key goes to toPositive(murmur2(key)) % partitionCount
 * (same partition as the Java client); null keys are STICKY: they stay on one partition (picked at
 * random among those with a leader) until its batch is closed, then move to another, so batches
 * fill up instead of spreading one record per partition.
 */
export function defaultPartitioner(random: Random = Math.random): Partitioner {
  const sticky = new Map<string, number>();
  const partitioner: Partitioner = ({ topic, key, partitionCount, availablePartitions }) => {
    if (key !== null) return partitionForKey(key, partitionCount);
    const current = sticky.get(topic);
    if (current !== undefined && current < partitionCount && (availablePartitions.length === 0 || availablePartitions.includes(current)))
      return current;
    const next = randomPick(random, partitionCount, availablePartitions, -1);
    sticky.set(topic, next);
    return next;
  };
  partitioner.onNewBatch = (topic, partition, { partitionCount, availablePartitions }) => {
    // Only the partition we are sticking to moves us; a keyed record's new batch does not.
    if (sticky.get(topic) !== partition) return;
    sticky.set(topic, randomPick(random, partitionCount, availablePartitions, partition));
  };
  return partitioner;
}

/**
 * The pre-2.4 choice for null keys: round-robin per topic over the partitions that have a leader
 * (all partitions when none has), starting at a random one. Keyed records as defaultPartitioner.
 */
export function roundRobinPartitioner(random: Random = Math.random): Partitioner {
  const counters = new Map<string, number>();
  return ({ topic, key, partitionCount, availablePartitions }) => {
    if (key !== null) return partitionForKey(key, partitionCount);
    let counter = counters.get(topic);
    if (counter === undefined) counter = Math.floor(random() * 0x7fffffff);
    counters.set(topic, (counter + 1) & 0x7fffffff);
    if (availablePartitions.length > 0 && availablePartitions.length < partitionCount) {
      return availablePartitions[counter % availablePartitions.length]!;
    }
    return counter % partitionCount;
  };
}
