/**
 * One partition's registration and the pure rules that change it: how a PartitionChange record
 * merges (replay), and how the controller elects a leader when a broker goes away or comes back.
 * Replay and the controller share these functions, so what the controller proposes is exactly what
 * replay will produce.
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
  return undefined;
}

export function sameReplicaList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** What an election may use: which brokers can lead, and whether an out-of-sync replica may. */
export interface ElectionPolicy {
  /** Registered, unfenced and not in controlled shutdown. */
  isUsable(brokerId: number): boolean;
  /** The topic's unclean.leader.election.enable. */
  readonly uncleanAllowed: boolean;
}

export interface ElectionResult {
  readonly leader: number;
  readonly isr: readonly number[];
  readonly unclean: boolean;
}

/**
 * Clean election: the first replica, in replica order, that is in the ISR and usable. Failing
 * that, when the topic allows it, the first usable replica at all, which becomes the whole ISR
 * (unclean: acknowledged writes it lacks are lost). Otherwise NO_LEADER and the ISR unchanged.
 */
export function electLeader(replicas: readonly number[], isr: readonly number[], policy: ElectionPolicy): ElectionResult {
  const clean = replicas.find((b) => isr.includes(b) && policy.isUsable(b));
  if (clean !== undefined) return { leader: clean, isr, unclean: false };
  if (policy.uncleanAllowed) {
    const unclean = replicas.find((b) => policy.isUsable(b));
    if (unclean !== undefined) return { leader: unclean, isr: [unclean], unclean: true };
  }
  return { leader: NO_LEADER, isr, unclean: false };
}

/**
 * The change that takes `brokerId` out of a partition's ISR and leadership (it was fenced, is
 * shutting down, re-registered or unregistered); undefined when it holds neither. The ISR never
 * becomes empty: as in Kafka without ELR, the last member stays in the ISR and the partition goes
 * offline (leader -1) until that broker returns or an unclean election picks another replica.
 */
export function changeRemovingBroker(p: PartitionRegistration, brokerId: number, policy: ElectionPolicy): PartitionChangeFields | undefined {
  if (p.leader !== brokerId && !p.isr.includes(brokerId)) return undefined;
  const remaining = p.isr.filter((b) => b !== brokerId);
  const isr = remaining.length > 0 ? remaining : p.isr;
  if (p.leader !== brokerId && p.leader !== NO_LEADER) return diff(p, { leader: p.leader, isr, unclean: false });
  return diff(p, electLeader(p.replicas, isr, policy));
}

/** For an offline partition: the change that elects a leader now that more brokers are usable. */
export function changeElectingOfflineLeader(p: PartitionRegistration, policy: ElectionPolicy): PartitionChangeFields | undefined {
  if (p.leader !== NO_LEADER) return undefined;
  return diff(p, electLeader(p.replicas, p.isr, policy));
}

function diff(p: PartitionRegistration, next: ElectionResult): PartitionChangeFields | undefined {
  const leaderChanged = next.leader !== p.leader;
  const isrChanged = !sameReplicaList(next.isr, p.isr);
  if (!leaderChanged && !isrChanged) return undefined;
  return {
    ...(leaderChanged ? { leader: next.leader } : {}),
    ...(isrChanged ? { isr: [...next.isr] } : {}),
    ...(next.unclean ? { unclean: true } : {}),
  };
}

function freezePartition(p: PartitionRegistration): PartitionRegistration {
  return Object.freeze({
    replicas: Object.freeze([...p.replicas]),
    isr: Object.freeze([...p.isr]),
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch,
  });
}
