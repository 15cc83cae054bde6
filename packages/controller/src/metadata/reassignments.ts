/**
 * Partition reassignment (KIP-455), pure: the PartitionChange that starts, completes or cancels a
 * reassignment of one partition, mirroring Kafka's PartitionReassignmentReplicas and the
 * reassignment half of PartitionChangeBuilder. States and rules: README.md, "Partition
 * reassignment". The controller decides when to call these; replay merges the result.
 */
import {
  NO_LEADER,
  isReassigning,
  originalReplicas,
  sameReplicaList,
  targetReplicas,
  type PartitionChangeFields,
  type PartitionRegistration,
} from '@samsa/metadata';
import { protocolError } from '@samsa/protocol';

/** Whether a broker may lead (registered, unfenced, not shutting down). */
export type IsUsable = (brokerId: number) => boolean;

/**
 * The change that moves `p` towards `target` (Kafka's PartitionReassignmentReplicas): replicas =
 * target then the original replicas outside it, adding = target − original, removing = original −
 * target. A partition already reassigning is re-targeted from its original replicas. Undefined when
 * nothing changes. Throws INVALID_REPLICA_ASSIGNMENT when the change would leave no in-sync replica.
 */
export function startReassignment(
  p: PartitionRegistration,
  target: readonly number[],
  isUsable: IsUsable,
): PartitionChangeFields | undefined {
  const original = originalReplicas(p);
  const adding = target.filter((b) => !original.includes(b));
  const removing = original.filter((b) => !target.includes(b));
  const replicas = [...target, ...removing];
  if (sameReplicaList(replicas, p.replicas) && sameReplicaList(adding, p.addingReplicas) && sameReplicaList(removing, p.removingReplicas)) {
    return undefined;
  }
  const isr = p.isr.filter((b) => replicas.includes(b));
  if (isr.length === 0) {
    throw protocolError(
      'INVALID_REPLICA_ASSIGNMENT',
      `no in-sync replica of [${p.isr.join(',')}] would remain among the new replicas [${replicas.join(',')}]`,
    );
  }
  return {
    replicas,
    addingReplicas: adding,
    removingReplicas: removing,
    ...leaderAndIsr(p, replicas, isr, isUsable),
  };
}

/**
 * The change that finishes a running reassignment once every target replica is in the ISR (Kafka's
 * PartitionChangeBuilder.completeReassignmentIfNeeded): replicas = target, the removed replicas
 * leave the ISR, and a leader outside the target hands over to the first usable target replica in
 * the ISR. Undefined while the target is not all in sync, or when no target replica could lead.
 */
export function completeReassignment(p: PartitionRegistration, isUsable: IsUsable): PartitionChangeFields | undefined {
  if (!isReassigning(p)) return undefined;
  const target = targetReplicas(p);
  if (!target.every((b) => p.isr.includes(b))) return undefined;
  const isr = p.isr.filter((b) => target.includes(b));
  let leader = p.leader;
  if (!target.includes(leader)) {
    leader = target.find((b) => isr.includes(b) && isUsable(b)) ?? NO_LEADER;
    if (leader === NO_LEADER) return undefined;
  }
  return {
    replicas: target,
    addingReplicas: [],
    removingReplicas: [],
    ...(sameReplicaList(isr, p.isr) ? {} : { isr }),
    ...(leader === p.leader ? {} : { leader }),
  };
}

/**
 * The change that cancels a running reassignment: back to the original replicas, the adding ones
 * leave the ISR (and leadership, to the first usable original replica in the ISR). Throws
 * NO_REASSIGNMENT_IN_PROGRESS when none runs, INVALID_REPLICA_ASSIGNMENT when no original replica
 * is in the ISR any more (reverting would lose what only the new replicas hold).
 */
export function cancelReassignment(p: PartitionRegistration, isUsable: IsUsable): PartitionChangeFields {
  if (!isReassigning(p)) throw protocolError('NO_REASSIGNMENT_IN_PROGRESS', 'no reassignment is in progress');
  const original = originalReplicas(p);
  const isr = p.isr.filter((b) => original.includes(b));
  if (isr.length === 0) {
    throw protocolError(
      'INVALID_REPLICA_ASSIGNMENT',
      `none of the original replicas [${original.join(',')}] is in the ISR [${p.isr.join(',')}]; cannot cancel`,
    );
  }
  return {
    replicas: original,
    addingReplicas: [],
    removingReplicas: [],
    ...leaderAndIsr(p, original, isr, isUsable),
  };
}

/** The ISR (when it changed) and, when the leader left it, a clean election among `replicas`. */
function leaderAndIsr(
  p: PartitionRegistration,
  replicas: readonly number[],
  isr: readonly number[],
  isUsable: IsUsable,
): { isr?: number[]; leader?: number } {
  const out: { isr?: number[]; leader?: number } = {};
  if (!sameReplicaList(isr, p.isr)) out.isr = [...isr];
  if (p.leader === NO_LEADER || isr.includes(p.leader)) return out;
  out.leader = replicas.find((b) => isr.includes(b) && isUsable(b)) ?? NO_LEADER;
  return out;
}
