/**
 * The commit machine of one stream thread under exactly_once_v2 (Kafka's `StreamThread` /
 * `TaskManager` / `StreamsProducer` commit and abort paths under KIP-447, reduced to a pure state
 * machine). It owns no I/O: each event returns a plan, an ordered list of steps the thread (the
 * shell) runs; the shell reports the plan's outcome as the next event. README "Exactly-once" has
 * the table this file implements.
 */

export type EosPhase = 'RUNNING' | 'COMMITTING' | 'ABORTING' | 'RESTORING' | 'FAILED' | 'CLOSED';

/**
 * Why a step failed. `fenced`: the producer is fatal (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH).
 * `migrated`: the group moved on (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
 * partitions lost). `abortable`: a send, flush or commit failed otherwise. `processing`: user code
 * or a serde threw.
 */
export type EosErrorKind = 'fenced' | 'migrated' | 'abortable' | 'processing';

export type EosEvent =
  | { type: 'send' }
  | { type: 'commitDue'; offsets: number }
  | { type: 'committed' }
  | { type: 'error'; kind: EosErrorKind; rebalancing?: boolean }
  | { type: 'aborted' }
  | { type: 'restored' }
  | { type: 'close' };

export type EosStep =
  | 'beginTransaction'
  | 'flush'
  | 'sendOffsets'
  | 'commitTransaction'
  | 'checkpoint'
  | 'abortTransaction'
  | 'recreateProducer'
  | 'closeTasksDirty'
  | 'restoreTasks'
  | 'rewindConsumer'
  | 'fail';

export class EosIllegalEventError extends Error {
  readonly code = 'ILLEGAL_STATE';
}

export class EosCommitMachine {
  private phaseValue: EosPhase = 'RUNNING';
  private open = false;
  /** Resets (aborts) since the last successful commit. */
  private resetsValue = 0;
  /** Whether the reset in progress is part of a rebalance (the assignment restores, not us). */
  private rebalancing = false;

  constructor(private readonly maxResets = 5) {
    if (!Number.isInteger(maxResets) || maxResets < 1) throw new RangeError(`maxResets must be a positive integer, got ${maxResets}`);
  }

  get phase(): EosPhase {
    return this.phaseValue;
  }

  /** Whether a transaction is open at the producer (begun, not yet committed or aborted). */
  get inTransaction(): boolean {
    return this.open;
  }

  get resets(): number {
    return this.resetsValue;
  }

  step(event: EosEvent): EosStep[] {
    const phase = this.phaseValue;
    if (phase === 'FAILED' || phase === 'CLOSED') {
      // A dead or closed thread ignores late errors (a send failing after close); anything else is a bug.
      if (event.type === 'error') return [];
      throw new EosIllegalEventError(`event ${event.type} in state ${phase}`);
    }
    switch (event.type) {
      case 'send':
        this.expect(event, 'RUNNING');
        if (this.open) return [];
        this.open = true;
        return ['beginTransaction'];
      case 'commitDue': {
        this.expect(event, 'RUNNING');
        if (!this.open && event.offsets === 0) return [];
        const plan: EosStep[] = [];
        if (!this.open) plan.push('beginTransaction');
        this.open = true;
        plan.push('flush');
        if (event.offsets > 0) plan.push('sendOffsets');
        plan.push('commitTransaction');
        this.phaseValue = 'COMMITTING';
        return plan;
      }
      case 'committed':
        this.expect(event, 'COMMITTING');
        this.open = false;
        this.resetsValue = 0;
        this.phaseValue = 'RUNNING';
        return ['checkpoint'];
      case 'error':
        return this.onError(event.kind, event.rebalancing === true);
      case 'aborted':
        this.expect(event, 'ABORTING');
        this.open = false;
        if (this.rebalancing) {
          this.phaseValue = 'RUNNING';
          return [];
        }
        this.phaseValue = 'RESTORING';
        return ['restoreTasks', 'rewindConsumer'];
      case 'restored':
        this.expect(event, 'RESTORING');
        this.phaseValue = 'RUNNING';
        return [];
      case 'close': {
        this.expect(event, 'RUNNING');
        const plan: EosStep[] = this.open ? ['abortTransaction'] : [];
        this.open = false;
        this.phaseValue = 'CLOSED';
        return plan;
      }
    }
  }

  private onError(kind: EosErrorKind, rebalancing: boolean): EosStep[] {
    const phase = this.phaseValue;
    this.resetsValue++;
    if (this.resetsValue > this.maxResets) {
      const plan: EosStep[] = this.open && kind !== 'fenced' && phase !== 'ABORTING' ? ['abortTransaction', 'fail'] : ['fail'];
      this.open = false;
      this.phaseValue = 'FAILED';
      return plan;
    }
    this.rebalancing = rebalancing || (phase === 'ABORTING' && this.rebalancing);
    if (phase === 'RESTORING') {
      if (rebalancing) {
        // The assignment that follows restores; drop the half-restored tasks.
        this.phaseValue = 'RUNNING';
        return ['closeTasksDirty'];
      }
      return ['closeTasksDirty', 'restoreTasks', 'rewindConsumer'];
    }
    if (phase === 'ABORTING') {
      // The abort itself failed: the producer is unusable. A new producer's InitProducerId makes the
      // coordinator abort whatever the old one left open.
      return ['recreateProducer', 'closeTasksDirty'];
    }
    // RUNNING or COMMITTING.
    this.phaseValue = 'ABORTING';
    if (kind === 'fenced') return ['recreateProducer', 'closeTasksDirty'];
    return this.open ? ['abortTransaction', 'closeTasksDirty'] : ['closeTasksDirty'];
  }

  private expect(event: EosEvent, phase: EosPhase): void {
    if (this.phaseValue !== phase) throw new EosIllegalEventError(`event ${event.type} in state ${this.phaseValue}, expected ${phase}`);
  }
}
