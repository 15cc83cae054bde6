/**
 * Partition assignors, run by the group leader between JoinGroup and SyncGroup. Pure: members'
 * subscriptions and the partition counts in, one assignment per member out.
 *
 * - `range` (eager): per topic, the subscribed members in order each take a contiguous range; the
 *   first `partitions % members` take one more (Kafka's RangeAssignor).
 * - `roundrobin` (eager): every topic-partition in (topic, partition) order dealt in turn to the
 *   members subscribed to its topic (Kafka's RoundRobinAssignor).
 * - `cooperative-sticky` (cooperative, KIP-429): balanced, keeps every valid owned partition where
 *   balance allows, and never hands a partition straight from one member to another: a partition
 *   that moves is withheld this generation, its old owner revokes it, and the follow-up rebalance
 *   assigns it (README.md).
 *
 * Members are ordered by group instance id when they have one, then member id, so static members
 * get the same partitions back after a restart.
 */
import { topicPartitionKey as key } from '@samsa/protocol';
import type { Subscription } from './protocol.js';

export interface AssignorMember {
  memberId: string;
  groupInstanceId: string | null;
  subscription: Subscription;
}

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

/** memberId -> its partitions, sorted by (topic, partition). Every member appears (maybe empty). */
export type GroupAssignment = Map<string, TopicPartitionRef[]>;

export type RebalanceProtocol = 'eager' | 'cooperative';

export interface PartitionAssignor {
  readonly name: string;
  readonly protocol: RebalanceProtocol;
  /** `partitionsPerTopic` holds the topics that exist; subscribed topics missing from it are skipped. */
  assign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment;
}

function compareTp(a: TopicPartitionRef, b: TopicPartitionRef): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

function compareMembers(a: AssignorMember, b: AssignorMember): number {
  const ka = a.groupInstanceId ?? '';
  const kb = b.groupInstanceId ?? '';
  if (ka !== kb) {
    // Static members first, in instance-id order; dynamic ones after, in member-id order.
    if (!ka) return 1;
    if (!kb) return -1;
    return ka < kb ? -1 : 1;
  }
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}

function emptyAssignment(members: readonly AssignorMember[]): GroupAssignment {
  return new Map(members.map((m) => [m.memberId, [] as TopicPartitionRef[]]));
}

function sortAll(assignment: GroupAssignment): GroupAssignment {
  for (const list of assignment.values()) list.sort(compareTp);
  return assignment;
}

export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  protocol: 'eager',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    const ordered = [...members].sort(compareMembers);
    const topics = [...new Set(members.flatMap((m) => m.subscription.topics))].sort();
    for (const topic of topics) {
      const count = partitionsPerTopic.get(topic);
      if (count === undefined) continue;
      const consumers = ordered.filter((m) => m.subscription.topics.includes(topic));
      const per = Math.floor(count / consumers.length);
      const extra = count % consumers.length;
      consumers.forEach((m, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        for (let p = start; p < start + length; p++) out.get(m.memberId)!.push({ topic, partition: p });
      });
    }
    return sortAll(out);
  },
};

export const roundRobinAssignor: PartitionAssignor = {
  name: 'roundrobin',
  protocol: 'eager',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    const ordered = [...members].sort(compareMembers);
    if (ordered.length === 0) return out;
    const topics = [...new Set(members.flatMap((m) => m.subscription.topics))].filter((t) => partitionsPerTopic.has(t)).sort();
    let next = 0;
    for (const topic of topics) {
      for (let p = 0; p < partitionsPerTopic.get(topic)!; p++) {
        // The next member in the circle subscribed to this topic (there is at least one).
        for (let tries = 0; tries < ordered.length; tries++) {
          const m = ordered[next++ % ordered.length]!;
          if (m.subscription.topics.includes(topic)) {
            out.get(m.memberId)!.push({ topic, partition: p });
            break;
          }
        }
      }
    }
    return sortAll(out);
  },
};

/**
 * The valid owner of each partition: claims come with the generation they are from; the newest
 * generation wins, and two claims from the same generation cancel (neither member keeps it).
 */
export function validOwners(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): Map<string, string> {
  const claims = new Map<string, { memberId: string | null; generation: number }>();
  for (const m of members) {
    const generation = m.subscription.generationId;
    for (const owned of m.subscription.ownedPartitions) {
      const count = partitionsPerTopic.get(owned.topic);
      if (count === undefined || !m.subscription.topics.includes(owned.topic)) continue;
      for (const p of owned.partitions) {
        if (p < 0 || p >= count) continue;
        const k = key(owned.topic, p);
        const claim = claims.get(k);
        if (!claim || generation > claim.generation) claims.set(k, { memberId: m.memberId, generation });
        else if (generation === claim.generation && claim.memberId !== m.memberId) claim.memberId = null;
      }
    }
  }
  const owners = new Map<string, string>();
  for (const [k, c] of claims) if (c.memberId !== null) owners.set(k, c.memberId);
  return owners;
}

/**
 * Balanced and sticky. Starts from the valid owners, gives each unowned partition to the eligible
 * member with the fewest, then moves partitions from a member with at least two more than an
 * eligible other until none can move. With equal subscriptions the counts end within one of each
 * other; partitions only move when balance needs it.
 */
export function stickyTarget(
  members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
  owners: ReadonlyMap<string, string>,
): GroupAssignment {
  const ordered = [...members].sort(compareMembers);
  const subscribed = new Map(ordered.map((m) => [m.memberId, new Set(m.subscription.topics)]));
  const assigned = new Map<string, Set<string>>(ordered.map((m) => [m.memberId, new Set<string>()]));
  const tps = new Map<string, TopicPartitionRef>();
  const topics = [...new Set(ordered.flatMap((m) => m.subscription.topics))].filter((t) => partitionsPerTopic.has(t)).sort();
  for (const topic of topics) for (let p = 0; p < partitionsPerTopic.get(topic)!; p++) tps.set(key(topic, p), { topic, partition: p });

  const unowned: string[] = [];
  for (const k of tps.keys()) {
    const owner = owners.get(k);
    if (owner !== undefined && assigned.has(owner)) assigned.get(owner)!.add(k);
    else unowned.push(k);
  }
  const eligible = (memberId: string, k: string) => subscribed.get(memberId)!.has(tps.get(k)!.topic);
  for (const k of unowned) {
    let best: string | undefined;
    for (const m of ordered) {
      if (!eligible(m.memberId, k)) continue;
      if (best === undefined || assigned.get(m.memberId)!.size < assigned.get(best)!.size) best = m.memberId;
    }
    if (best !== undefined) assigned.get(best)!.add(k);
  }
  // Balance: bounded, every move lowers the sum of squared counts.
  for (let moves = 0; moves < tps.size * Math.max(1, ordered.length); moves++) {
    const byLoad = [...ordered].sort((a, b) => assigned.get(b.memberId)!.size - assigned.get(a.memberId)!.size || compareMembers(a, b));
    let moved = false;
    for (const from of byLoad) {
      const fromSet = assigned.get(from.memberId)!;
      // Partitions the member did not own before go first, so owned ones stay.
      const candidates = [...fromSet].sort(
        (a, b) => Number(owners.get(a) === from.memberId) - Number(owners.get(b) === from.memberId) || compareTp(tps.get(a)!, tps.get(b)!),
      );
      for (const k of candidates) {
        let to: string | undefined;
        for (const m of ordered) {
          if (m.memberId === from.memberId || !eligible(m.memberId, k)) continue;
          const size = assigned.get(m.memberId)!.size;
          if (size + 1 < fromSet.size && (to === undefined || size < assigned.get(to)!.size)) to = m.memberId;
        }
        if (to !== undefined) {
          fromSet.delete(k);
          assigned.get(to)!.add(k);
          moved = true;
          break;
        }
      }
      if (moved) break;
    }
    if (!moved) break;
  }
  return sortAll(new Map([...assigned].map(([m, set]) => [m, [...set].map((k) => tps.get(k)!)])));
}

export const cooperativeStickyAssignor: PartitionAssignor = {
  name: 'cooperative-sticky',
  protocol: 'cooperative',
  assign(members, partitionsPerTopic) {
    const owners = validOwners(members, partitionsPerTopic);
    const target = stickyTarget(members, partitionsPerTopic, owners);
    // KIP-429: a partition whose valid owner is another member is withheld this generation.
    for (const [memberId, list] of target) {
      target.set(
        memberId,
        list.filter((tp) => {
          const owner = owners.get(key(tp.topic, tp.partition));
          return owner === undefined || owner === memberId;
        }),
      );
    }
    return target;
  },
};

export const BUILTIN_ASSIGNORS: Readonly<Record<string, PartitionAssignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};
