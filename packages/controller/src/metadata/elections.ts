/**
 * The controller's election rules (Kafka's PartitionChangeBuilder and Election): how it picks a
 * leader when a broker goes away or comes back, as a PartitionChange to propose. Only the
 * controller elects; brokers replay the result with metadata's mergePartitionChange.
 */
import { NO_LEADER, sameReplicaList, type PartitionChangeFields, type PartitionRegistration } from '@samsa/metadata';

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
export function changeRemovingBroker(
  p: PartitionRegistration,
  brokerId: number,
  policy: ElectionPolicy,
): PartitionChangeFields | undefined {
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
