/**
 * The Streams-aware partition assignor (Kafka's `StreamsPartitionAssignor`, reduced): it assigns
 * tasks, not partitions. A task `<subTopology>_<p>` takes partition p of every source topic of its
 * sub-topology, so co-partitioned inputs always land on one instance. Tasks are spread evenly
 * (counts differ by at most one) and stick to the member (by group.instance.id, else member id) that
 * had them in the previous assignment this leader made. Pure: the topology's shape in, an
 * assignment out. Registered through @samsa/client's PartitionAssignor interface, eager protocol.
 */
import type { AssignorMember, GroupAssignment, PartitionAssignor } from '@samsa/client';

export interface TaskSpec {
  id: string;
  partitions: Array<{ topic: string; partition: number }>;
}

/** Sub-topology id → its source topics (resolved names). */
export type SubTopologySources = ReadonlyArray<{ id: number; topics: readonly string[] }>;

export class CopartitionError extends Error {
  readonly code = 'INCONSISTENT_PARTITION_COUNTS';
}

/** Tasks from the topics' partition counts; sources of one sub-topology must agree. */
export function tasksFor(subTopologies: SubTopologySources, partitionsPerTopic: ReadonlyMap<string, number>): TaskSpec[] {
  const tasks: TaskSpec[] = [];
  for (const sub of subTopologies) {
    const counts = sub.topics.map((t) => partitionsPerTopic.get(t)).filter((n): n is number => n !== undefined);
    if (counts.length === 0) continue;
    if (new Set(counts).size > 1) {
      throw new CopartitionError(
        `sub-topology ${sub.id} reads topics with different partition counts (${sub.topics.map((t) => `${t}: ${partitionsPerTopic.get(t)}`).join(', ')}): they must be co-partitioned`,
      );
    }
    for (let p = 0; p < counts[0]!; p++) {
      tasks.push({
        id: `${sub.id}_${p}`,
        partitions: sub.topics.filter((t) => partitionsPerTopic.has(t)).map((topic) => ({ topic, partition: p })),
      });
    }
  }
  return tasks;
}

const identity = (m: AssignorMember): string => m.groupInstanceId ?? m.memberId;

/** Balanced, sticky task placement: member identity → task ids. */
export function placeTasks(
  taskIds: readonly string[],
  identities: readonly string[],
  previous: ReadonlyMap<string, string>,
): Map<string, string[]> {
  const out = new Map(identities.map((id) => [id, [] as string[]]));
  if (identities.length === 0) return out;
  const cap = Math.ceil(taskIds.length / identities.length);
  const unplaced: string[] = [];
  for (const task of taskIds) {
    const owner = previous.get(task);
    const list = owner === undefined ? undefined : out.get(owner);
    if (list && list.length < cap) list.push(task);
    else unplaced.push(task);
  }
  for (const task of unplaced) {
    let best = identities[0]!;
    for (const id of identities) if (out.get(id)!.length < out.get(best)!.length) best = id;
    out.get(best)!.push(task);
  }
  // Sticky placement may leave one member two above another: move the surplus.
  for (;;) {
    const sorted = [...identities].sort((a, b) => out.get(a)!.length - out.get(b)!.length);
    const low = out.get(sorted[0]!)!;
    const high = out.get(sorted[sorted.length - 1]!)!;
    if (high.length - low.length <= 1) break;
    low.push(high.pop()!);
  }
  return out;
}

export function streamsAssignor(subTopologies: SubTopologySources): PartitionAssignor & { lastTaskOwners(): ReadonlyMap<string, string> } {
  let previous = new Map<string, string>();
  return {
    name: 'samsa-streams',
    protocol: 'eager',
    assign(members: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): GroupAssignment {
      const tasks = tasksFor(subTopologies, partitionsPerTopic);
      const ordered = [...members].sort((a, b) => (identity(a) < identity(b) ? -1 : identity(a) > identity(b) ? 1 : 0));
      const placed = placeTasks(
        tasks.map((t) => t.id),
        ordered.map(identity),
        previous,
      );
      const byId = new Map(tasks.map((t) => [t.id, t]));
      const out: GroupAssignment = new Map();
      const next = new Map<string, string>();
      for (const m of ordered) {
        const ids = placed.get(identity(m)) ?? [];
        for (const id of ids) next.set(id, identity(m));
        out.set(
          m.memberId,
          ids.flatMap((id) => byId.get(id)!.partitions),
        );
      }
      previous = next;
      return out;
    },
    lastTaskOwners: () => previous,
  };
}
