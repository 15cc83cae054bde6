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

/** Picks the partition of a record that names none. */
export type Partitioner = (args: PartitionerArgs) => number;

/**
 * Kafka's default choice: a non-null key goes to toPositive(murmur2(key)) % partitionCount (same
 * partition as the Java client), a null key round-robins per topic over the partitions that have a
 * leader (all partitions when none has). The round-robin start is random so producers spread.
 */
export function defaultPartitioner(random: Random = Math.random): Partitioner {
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
