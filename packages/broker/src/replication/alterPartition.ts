/**
 * ISR changes on their way to the active controller (Kafka's AlterPartitionManager): partitions
 * submit one change each (the partition keeps at most one in flight); changes submitted while a
 * request is out are sent together in the next one, so a broker losing a follower of many
 * partitions sends one AlterPartition, not hundreds. Each submission resolves with the
 * controller's answer for its partition, or an error result (never rejects).
 */
import { ErrorCode } from '@samsa/protocol';
import type { Logger } from 'pino';

export interface AlterPartitionItem {
  topic: string;
  partition: number;
  leaderEpoch: number;
  /** Compare-and-set: the change applies only to this partition epoch. */
  partitionEpoch: number;
  newIsr: readonly number[];
}

export type AlterPartitionItemResult =
  | { errorCode: 0; leaderId: number; leaderEpoch: number; partitionEpoch: number; isr: number[] }
  | { errorCode: number; errorMessage: string };

/**
 * What a failed AlterPartition says about whether the change — or an earlier attempt of the same
 * change — was committed:
 * - 'unknown': it may have been (the request timed out or was cut off);
 * - 'stale': the compare-and-set failed: the partition changed since; metadata will show how (an
 *   earlier attempt of this change may be what changed it);
 * - 'refused': checked against the current partition epoch and refused (e.g. an ineligible
 *   replica): the partition is as the request saw it, so no attempt of this change was committed;
 * - 'notChecked': refused before the partition epoch was looked at (not the leader any more, stale
 *   broker epoch, no active controller): says nothing about earlier attempts.
 */
export type AlterPartitionFailure = 'unknown' | 'stale' | 'refused' | 'notChecked';

export function alterPartitionFailure(errorCode: number): AlterPartitionFailure {
  switch (errorCode) {
    case ErrorCode.REQUEST_TIMED_OUT:
    case ErrorCode.UNKNOWN_SERVER_ERROR:
    case ErrorCode.BROKER_NOT_AVAILABLE:
      return 'unknown';
    // The controller checks the partition epoch before the new ISR (Kafka's order), so every
    // refusal of the ISR itself comes after a passed compare-and-set.
    case ErrorCode.INVALID_UPDATE_VERSION:
      return 'stale';
    case ErrorCode.INELIGIBLE_REPLICA:
    case ErrorCode.INVALID_REQUEST:
      return 'refused';
    default:
      return 'notChecked';
  }
}

/** Sends one AlterPartition request; one result per item, in order. Implemented by QuorumMetadataSource. */
export interface AlterPartitionChannel {
  alterPartition(items: readonly AlterPartitionItem[]): Promise<AlterPartitionItemResult[]>;
}

interface Queued {
  item: AlterPartitionItem;
  resolve: (result: AlterPartitionItemResult) => void;
}

export class AlterPartitionManager {
  private queue: Queued[] = [];
  private sending = false;
  private closed = false;

  constructor(
    private readonly channel: AlterPartitionChannel,
    private readonly logger: Logger,
  ) {}

  submit(item: AlterPartitionItem): Promise<AlterPartitionItemResult> {
    if (this.closed) return Promise.resolve({ errorCode: ErrorCode.BROKER_NOT_AVAILABLE, errorMessage: 'the broker is shutting down' });
    return new Promise((resolve) => {
      this.queue.push({ item, resolve });
      // Let the rest of this turn's submissions join the same request.
      if (!this.sending) queueMicrotask(() => void this.sendQueued());
    });
  }

  close(): void {
    this.closed = true;
    for (const q of this.queue.splice(0))
      q.resolve({ errorCode: ErrorCode.BROKER_NOT_AVAILABLE, errorMessage: 'the broker is shutting down' });
  }

  private async sendQueued(): Promise<void> {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.queue.splice(0);
        let results: AlterPartitionItemResult[];
        try {
          results = await this.channel.alterPartition(batch.map((q) => q.item));
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.logger.warn({ err: message, partitions: batch.length }, 'AlterPartition failed');
          results = batch.map(() => ({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: message }));
        }
        batch.forEach((q, i) =>
          q.resolve(results[i] ?? { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'no answer for this partition' }),
        );
      }
    } finally {
      this.sending = false;
    }
  }
}
