/**
 * The active controller's writes, one at a time (QuorumController's requirement, see its header):
 * compute `{ response, records }` from the committed image, propose the records as one Raft entry,
 * wait until that entry is applied, answer; only then compute the next operation. Operations
 * without records answer at once, still in queue order.
 *
 * A caller's timeout answers it early (REQUEST_TIMED_OUT), but the queue keeps waiting for the
 * entry's fate (applied, or leadership lost) before it computes the next operation: otherwise the
 * next one would be validated against an image lacking a proposal that may still commit.
 */
import { encodeMetadataEntry } from '@samsa/metadata';
import { ErrorCode } from '@samsa/protocol';
import type { Timers } from '@samsa/server';
import type { ProposeResult } from '@samsa/raft';
import type { ControllerResult } from '../metadata/index.js';
import type { ControllerLogger } from './logger.js';

export interface WriteFailure {
  readonly errorCode: number;
  readonly errorMessage: string;
  /** The active controller as far as this node knows; -1 when unknown. */
  readonly leaderId: number;
  /** The Raft term `leaderId` leads in (0 when unknown): callers ignore hints older than one they have. */
  readonly leaderEpoch: number;
}

export type WriteOutcome<T> = { readonly ok: true; readonly response: T } | ({ readonly ok: false } & WriteFailure);

export type ActiveState = 'active' | 'notActive' | 'timeout';

/** What the queue needs from the controller node. */
export interface WriteContext {
  /** This node is the Raft leader (active, or about to be once its term's first entry applies). */
  isLeader(): boolean;
  /** Resolves once this node is the active controller, is no longer leader, or the deadline passes. */
  awaitActive(deadline: number): Promise<ActiveState>;
  propose(data: Uint8Array): ProposeResult;
  /** Resolves true once the entry at `index` is applied with `term`, false if that can no longer happen here. */
  awaitApplied(index: number, term: number): Promise<boolean>;
  /** NOT_CONTROLLER with the leader hint, or CONTROLLER_QUORUM_UNAVAILABLE when no leader is known. */
  notActive(): WriteFailure;
  /** This node's current Raft term (the epoch of answers this node gives as the leader). */
  leaderEpoch(): number;
  readonly selfId: number;
  readonly logger: ControllerLogger;
}

export class WriteQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  /** `timers` is the controller node's clock: deadlines and caller timeouts run on it. */
  constructor(
    private readonly ctx: WriteContext,
    private readonly timers: Timers,
  ) {}

  /** Operations queued or running. */
  get size(): number {
    return this.pending;
  }

  /**
   * Runs `compute` on the active controller in queue order and answers once its records are
   * applied. `compute` runs synchronously right before the proposal, so what it reads (the image,
   * the Raft log's last index) is exactly what the entry will follow.
   */
  submit<T>(name: string, compute: () => ControllerResult<T>, timeoutMs: number): Promise<WriteOutcome<T>> {
    const ctx = this.ctx;
    if (!ctx.isLeader()) return Promise.resolve({ ok: false, ...ctx.notActive() });
    const deadline = this.timers.now() + timeoutMs;
    return new Promise<WriteOutcome<T>>((resolve) => {
      let answered = false;
      const answer = (outcome: WriteOutcome<T>): void => {
        if (answered) return;
        answered = true;
        this.timers.clearTimeout(timer);
        resolve(outcome);
      };
      const timer = this.timers.setTimeout(
        () =>
          answer({
            ok: false,
            errorCode: ErrorCode.REQUEST_TIMED_OUT,
            leaderId: ctx.selfId,
            leaderEpoch: ctx.leaderEpoch(),
            errorMessage: `${name} did not commit within ${timeoutMs} ms`,
          }),
        timeoutMs,
      );

      this.pending++;
      const run = async (): Promise<void> => {
        if (answered) return; // timed out while queued: never computed, nothing proposed
        const state = await ctx.awaitActive(deadline);
        if (state !== 'active') {
          if (state === 'notActive') answer({ ok: false, ...ctx.notActive() });
          return;
        }
        if (answered) return;
        let result: ControllerResult<T>;
        let data: Uint8Array | undefined;
        try {
          result = compute();
          if (result.records.length > 0) data = encodeMetadataEntry(result.records);
        } catch (err) {
          ctx.logger.error({ err, op: name }, 'controller operation failed');
          answer({
            ok: false,
            errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
            leaderId: ctx.selfId,
            leaderEpoch: ctx.leaderEpoch(),
            errorMessage: `${name} failed: ${errorText(err)}`,
          });
          return;
        }
        if (data === undefined) {
          answer({ ok: true, response: result.response });
          return;
        }
        const proposed = ctx.propose(data);
        if (!proposed.ok) {
          answer({ ok: false, ...ctx.notActive() });
          return;
        }
        const applied = await ctx.awaitApplied(proposed.index, proposed.term);
        answer(applied ? { ok: true, response: result.response } : { ok: false, ...ctx.notActive() });
      };
      this.tail = this.tail
        .then(run)
        .catch((err: unknown) => {
          ctx.logger.error({ err, op: name }, 'controller write queue failure');
          answer({
            ok: false,
            errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
            leaderId: ctx.selfId,
            leaderEpoch: ctx.leaderEpoch(),
            errorMessage: errorText(err),
          });
        })
        .finally(() => {
          this.pending--;
        });
    });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
