/**
 * Replica placement for new topics: Kafka's rack-unaware assignment
 * (AdminUtils.assignReplicasToBrokersRackUnaware), with its random start replaced by a
 * deterministic one so that the same image and request always give the same records.
 *
 * With brokers b[0..n-1] (usable brokers sorted by id), start index s and a shift that starts at s
 * and grows by one after every n partitions:
 *   leader of partition p    = b[(s + p) % n]                         (leaders go round-robin)
 *   j-th follower (j = 0..)  = b[(first + 1 + (shift + j) % (n - 1)) % n]
 * The follower offsets 1 + (shift + j) % (n - 1) are distinct and never 0 while RF <= n, so a
 * partition's replicas are distinct; the growing shift varies which brokers follow which leader.
 * The start index is the broker that currently leads the fewest partitions (lowest id on a tie), so
 * leadership stays spread across topics too.
 */

/** Replica lists for partitions 0..numPartitions-1; requires 1 <= replicationFactor <= brokerIds.length. */
export function assignReplicas(
  brokerIds: readonly number[],
  numPartitions: number,
  replicationFactor: number,
  startIndex: number,
): number[][] {
  const n = brokerIds.length;
  if (replicationFactor < 1 || replicationFactor > n) throw new RangeError(`replication factor ${replicationFactor} with ${n} brokers`);
  const start = ((startIndex % n) + n) % n;
  const assignment: number[][] = [];
  let shift = start;
  for (let p = 0; p < numPartitions; p++) {
    if (p > 0 && p % n === 0) shift += 1;
    const first = (start + p) % n;
    const replicas = [brokerIds[first]!];
    for (let j = 0; j < replicationFactor - 1; j++) replicas.push(brokerIds[(first + 1 + ((shift + j) % (n - 1))) % n]!);
    assignment.push(replicas);
  }
  return assignment;
}

/** The index in `brokerIds` of the broker leading the fewest partitions (the first such on a tie). */
export function leastLoadedIndex(brokerIds: readonly number[], leaderCounts: ReadonlyMap<number, number>): number {
  let best = 0;
  for (let i = 1; i < brokerIds.length; i++) {
    if ((leaderCounts.get(brokerIds[i]!) ?? 0) < (leaderCounts.get(brokerIds[best]!) ?? 0)) best = i;
  }
  return best;
}
