/**
 * One partition's registration and the pure rule that changes it: how a PartitionChange record
 * merges (replay). Replay on brokers and controllers shares it, so what the controller proposes is
 * exactly what replay produces. The election rules (who leads next) are the controller's own:
 * @samsa/controller's metadata/elections.ts.
 */
import type { PartitionChangeRecord, PartitionRecord } from './records.js';

/** The leader of a partition that has none (offline). */
export const NO_LEADER = -1;

export interface PartitionRegistration {
  /** Ordered; the first is the preferred leader. */
  readonly replicas: readonly number[];
  /** In-sync replicas. Never empty: when the last member goes away it stays, with leader -1. */
  readonly isr: readonly number[];
  /** NO_LEADER (-1) when offline. When set, it is a member of the ISR. */
  readonly leader: number;
  /** Increases with every leader change. */
  readonly leaderEpoch: number;
  /** Increases with every change of leader, ISR or replicas (AlterPartition's compare-and-set). */
  readonly partitionEpoch: number;
  /** KIP-455: replicas a running reassignment adds (a subset of `replicas`); empty when none runs. */
  readonly addingReplicas: readonly number[];
  /** KIP-455: replicas a running reassignment removes once it completes (a subset of `replicas`). */
  readonly removingReplicas: readonly number[];
}

/** The fields a PartitionChange may carry, without its address. */
export type PartitionChangeFields = Omit<PartitionChangeRecord, 'type' | 'topicId' | 'partition'>;

export function partitionFromRecord(record: PartitionRecord): PartitionRegistration {
  return freezePartition({
    replicas: record.replicas,
    isr: record.isr,
    leader: record.leader,
    leaderEpoch: record.leaderEpoch,
    partitionEpoch: record.partitionEpoch,
    addingReplicas: record.addingReplicas ?? [],
    removingReplicas: record.removingReplicas ?? [],
  });
}

/** Kafka's PartitionRegistration.merge: a present `leader` bumps leaderEpoch; every change bumps partitionEpoch. */
export function mergePartitionChange(before: PartitionRegistration, change: PartitionChangeFields): PartitionRegistration {
  return freezePartition({
    replicas: change.replicas ?? before.replicas,
    isr: change.isr ?? before.isr,
    leader: change.leader ?? before.leader,
    leaderEpoch: change.leader === undefined ? before.leaderEpoch : before.leaderEpoch + 1,
    partitionEpoch: before.partitionEpoch + 1,
    addingReplicas: change.addingReplicas ?? before.addingReplicas,
    removingReplicas: change.removingReplicas ?? before.removingReplicas,
  });
}

/** Why a registration breaks the partition invariants, or undefined when it holds them. */
export function partitionProblem(p: PartitionRegistration): string | undefined {
  if (p.replicas.length === 0) return 'no replicas';
  if (new Set(p.replicas).size !== p.replicas.length) return `duplicate replicas [${p.replicas.join(',')}]`;
  if (p.isr.length === 0) return 'an empty ISR';
  if (new Set(p.isr).size !== p.isr.length) return `duplicate ISR members [${p.isr.join(',')}]`;
  if (!p.isr.every((b) => p.replicas.includes(b))) return `ISR [${p.isr.join(',')}] is not a subset of replicas [${p.replicas.join(',')}]`;
  if (p.leader !== NO_LEADER && !p.isr.includes(p.leader)) return `leader ${p.leader} is not in ISR [${p.isr.join(',')}]`;
  if (p.leader < NO_LEADER) return `leader ${p.leader}`;
  if (!p.addingReplicas.every((b) => p.replicas.includes(b))) return `adding replicas [${p.addingReplicas.join(',')}] outside replicas`;
  if (!p.removingReplicas.every((b) => p.replicas.includes(b) && !p.addingReplicas.includes(b)))
    return `removing replicas [${p.removingReplicas.join(',')}] outside replicas or also adding`;
  return undefined;
}

export function sameReplicaList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function freezePartition(p: PartitionRegistration): PartitionRegistration {
  return Object.freeze({
    replicas: Object.freeze([...p.replicas]),
    isr: Object.freeze([...p.isr]),
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch,
    addingReplicas: Object.freeze([...p.addingReplicas]),
    removingReplicas: Object.freeze([...p.removingReplicas]),
  });
}

/** A reassignment runs (KIP-455): some replica is being added or removed. */
export function isReassigning(p: PartitionRegistration): boolean {
  return p.addingReplicas.length > 0 || p.removingReplicas.length > 0;
}

/** The replicas before the running reassignment started (Kafka's PartitionReassignmentReplicas.originalReplicas). */
export function originalReplicas(p: PartitionRegistration): number[] {
  return p.replicas.filter((b) => !p.addingReplicas.includes(b));
}

/** The replicas the running reassignment moves to (its target). */
export function targetReplicas(p: PartitionRegistration): number[] {
  return p.replicas.filter((b) => !p.removingReplicas.includes(b));
}
