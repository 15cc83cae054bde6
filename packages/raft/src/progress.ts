// The leader's view of one follower's log, and the flow control of appends to it.
//
//   probe      — we do not know where the follower's log ends: send one append, wait for its answer
//   replicate  — the follower is keeping up: send appends optimistically, at most maxInflight unacked
//   snapshot   — a snapshot is in flight: send nothing until it is acknowledged (or times out)
import type { NodeId } from './messages.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** Last indexes of appends sent but not yet acknowledged, oldest first. */
export class Inflights {
  private readonly queue: number[] = [];

  constructor(readonly capacity: number) {}

  get count(): number {
    return this.queue.length;
  }

  full(): boolean {
    return this.queue.length >= this.capacity;
  }

  add(lastIndex: number): void {
    this.queue.push(lastIndex);
  }

  /** Acknowledges every append whose last index is ≤ `index`. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.queue.length && this.queue[n]! <= index) n++;
    if (n > 0) this.queue.splice(0, n);
  }

  freeFirstOne(): void {
    this.queue.shift();
  }

  reset(): void {
    this.queue.length = 0;
  }
}

export class Progress {
  /** The highest index known to be replicated on the follower. */
  match = 0;
  /** The next index to send. */
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and is not yet answered. */
  probeSent = false;
  /** In snapshot state: the index of the snapshot in flight. */
  pendingSnapshot = 0;
  /** Leader ticks spent in snapshot state, to retry a snapshot that was lost. */
  snapshotTicks = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    readonly id: NodeId,
    next: number,
    maxInflight: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, assume it landed: probing from just past it is the likeliest match.
    const next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.resetState('probe');
    this.next = next;
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** The follower acknowledged entries up to `index`. Returns whether `match` moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * The follower rejected an append with prevLogIndex `rejected`; `matchHint` is the highest index
   * that may match. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** An append ending at `lastIndex` (or an empty probe when undefined) went out. */
  sentEntries(lastIndex: number | undefined): void {
    if (lastIndex === undefined) return;
    if (this.state === 'replicate') {
      this.next = lastIndex + 1;
      this.inflights.add(lastIndex);
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
