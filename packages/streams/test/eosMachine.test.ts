import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@samsa/protocol';
import { ProducerFencedError, errorFromCode } from '@samsa/client';
import { StreamsError } from '@samsa/streams';
import { EosCommitMachine, EosIllegalEventError } from '../src/runtime/eosMachine.js';
import { classifyEosError } from '../src/runtime/samsaStreams.js';
import type { EosErrorKind, EosEvent, EosPhase } from '../src/runtime/eosMachine.js';

describe('EosCommitMachine (exactly_once_v2 commit and abort)', () => {
  it('begins a transaction lazily at the first send, once', () => {
    const m = new EosCommitMachine();
    expect(m.step({ type: 'send' })).toEqual(['beginTransaction']);
    expect(m.step({ type: 'send' })).toEqual([]);
    expect(m.inTransaction).toBe(true);
  });

  it('commits sends and offsets in one transaction, then checkpoints', () => {
    const m = new EosCommitMachine();
    m.step({ type: 'send' });
    expect(m.step({ type: 'commitDue', offsets: 2 })).toEqual(['flush', 'sendOffsets', 'commitTransaction']);
    expect(m.phase).toBe('COMMITTING');
    expect(() => m.step({ type: 'send' })).toThrow(EosIllegalEventError);
    expect(m.step({ type: 'committed' })).toEqual(['checkpoint']);
    expect(m.phase).toBe('RUNNING');
    expect(m.inTransaction).toBe(false);
    expect(m.step({ type: 'send' })).toEqual(['beginTransaction']);
  });

  it('commits consumed offsets without output in a transaction of their own; nothing to do without either', () => {
    const m = new EosCommitMachine();
    expect(m.step({ type: 'commitDue', offsets: 0 })).toEqual([]);
    expect(m.phase).toBe('RUNNING');
    expect(m.step({ type: 'commitDue', offsets: 1 })).toEqual(['beginTransaction', 'flush', 'sendOffsets', 'commitTransaction']);
    m.step({ type: 'committed' });
    m.step({ type: 'send' });
    expect(m.step({ type: 'commitDue', offsets: 0 })).toEqual(['flush', 'commitTransaction']);
  });

  it('aborts, closes dirty, restores and rewinds after an error while processing or committing', () => {
    for (const during of ['RUNNING', 'COMMITTING'] as const) {
      for (const kind of ['abortable', 'processing', 'migrated'] as EosErrorKind[]) {
        const m = new EosCommitMachine();
        m.step({ type: 'send' });
        if (during === 'COMMITTING') m.step({ type: 'commitDue', offsets: 1 });
        expect(m.step({ type: 'error', kind })).toEqual(['abortTransaction', 'closeTasksDirty']);
        expect(m.phase).toBe('ABORTING');
        expect(m.step({ type: 'aborted' })).toEqual(['restoreTasks', 'rewindConsumer']);
        expect(m.phase).toBe('RESTORING');
        expect(m.inTransaction).toBe(false);
        expect(m.step({ type: 'restored' })).toEqual([]);
        expect(m.phase).toBe('RUNNING');
      }
    }
  });

  it('replaces a fenced producer instead of aborting with it', () => {
    const m = new EosCommitMachine();
    m.step({ type: 'send' });
    m.step({ type: 'commitDue', offsets: 1 });
    expect(m.step({ type: 'error', kind: 'fenced' })).toEqual(['recreateProducer', 'closeTasksDirty']);
    expect(m.step({ type: 'aborted' })).toEqual(['restoreTasks', 'rewindConsumer']);
  });

  it('an error with no transaction open closes dirty without an abort', () => {
    const m = new EosCommitMachine();
    expect(m.step({ type: 'error', kind: 'processing' })).toEqual(['closeTasksDirty']);
    expect(m.step({ type: 'aborted' })).toEqual(['restoreTasks', 'rewindConsumer']);
  });

  it('replaces the producer when the abort itself fails', () => {
    const m = new EosCommitMachine();
    m.step({ type: 'send' });
    m.step({ type: 'error', kind: 'abortable' });
    expect(m.step({ type: 'error', kind: 'abortable' })).toEqual(['recreateProducer', 'closeTasksDirty']);
    expect(m.phase).toBe('ABORTING');
    expect(m.step({ type: 'aborted' })).toEqual(['restoreTasks', 'rewindConsumer']);
  });

  it('retries a failed restore from scratch', () => {
    const m = new EosCommitMachine();
    m.step({ type: 'error', kind: 'processing' });
    m.step({ type: 'aborted' });
    expect(m.step({ type: 'error', kind: 'abortable' })).toEqual(['closeTasksDirty', 'restoreTasks', 'rewindConsumer']);
    expect(m.phase).toBe('RESTORING');
  });

  it('leaves restoration to the coming assignment during a rebalance', () => {
    const m = new EosCommitMachine();
    m.step({ type: 'send' });
    m.step({ type: 'commitDue', offsets: 1 });
    expect(m.step({ type: 'error', kind: 'migrated', rebalancing: true })).toEqual(['abortTransaction', 'closeTasksDirty']);
    expect(m.step({ type: 'aborted' })).toEqual([]);
    expect(m.phase).toBe('RUNNING');
    // The next reset outside a rebalance restores again.
    m.step({ type: 'error', kind: 'processing' });
    expect(m.step({ type: 'aborted' })).toEqual(['restoreTasks', 'rewindConsumer']);
  });

  it('fails after maxResets consecutive resets; a successful commit starts the count again', () => {
    const m = new EosCommitMachine(3);
    const reset = (): void => {
      m.step({ type: 'send' });
      m.step({ type: 'error', kind: 'processing' });
      m.step({ type: 'aborted' });
      m.step({ type: 'restored' });
    };
    reset();
    reset();
    m.step({ type: 'send' });
    m.step({ type: 'commitDue', offsets: 1 });
    m.step({ type: 'committed' });
    expect(m.resets).toBe(0);
    reset();
    reset();
    reset();
    m.step({ type: 'send' });
    expect(m.step({ type: 'error', kind: 'processing' })).toEqual(['abortTransaction', 'fail']);
    expect(m.phase).toBe('FAILED');
    expect(m.step({ type: 'error', kind: 'abortable' })).toEqual([]);
    expect(() => m.step({ type: 'send' })).toThrow(EosIllegalEventError);
  });

  it('close aborts a transaction still open', () => {
    const m = new EosCommitMachine();
    m.step({ type: 'send' });
    expect(m.step({ type: 'close' })).toEqual(['abortTransaction']);
    expect(m.phase).toBe('CLOSED');
    const clean = new EosCommitMachine();
    expect(clean.step({ type: 'close' })).toEqual([]);
  });

  it('rejects events out of order and changes nothing', () => {
    const m = new EosCommitMachine();
    for (const e of [{ type: 'committed' }, { type: 'aborted' }, { type: 'restored' }] as EosEvent[]) {
      expect(() => m.step(e)).toThrow(EosIllegalEventError);
      expect(m.phase).toBe('RUNNING');
    }
    expect(() => new EosCommitMachine(0)).toThrow(RangeError);
  });

  it('a seeded random walk never commits with a failed transaction and never processes outside RUNNING', () => {
    let seed = 22;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const kinds: EosErrorKind[] = ['fenced', 'migrated', 'abortable', 'processing'];
    for (let run = 0; run < 200; run++) {
      const m = new EosCommitMachine(4);
      let poisoned = false; // the open transaction saw an error
      for (let i = 0; i < 60 && m.phase !== 'FAILED'; i++) {
        const phase = m.phase;
        if (phase === 'RUNNING') {
          const r = rand(4);
          if (r === 0) m.step({ type: 'send' });
          else if (r === 1) m.step({ type: 'commitDue', offsets: rand(2) });
          else if (r === 2) {
            m.step({ type: 'error', kind: kinds[rand(4)]!, rebalancing: rand(3) === 0 });
            poisoned = true;
          }
        } else if (phase === 'COMMITTING') {
          if (rand(3) === 0) {
            m.step({ type: 'error', kind: kinds[rand(4)]! });
            poisoned = true;
          } else {
            expect(poisoned).toBe(false);
            expect(m.step({ type: 'committed' })).toEqual(['checkpoint']);
          }
        } else if (phase === 'ABORTING') {
          if (rand(4) === 0) m.step({ type: 'error', kind: 'abortable' });
          else {
            m.step({ type: 'aborted' });
            poisoned = false;
            expect(m.inTransaction).toBe(false);
          }
        } else if (phase === 'RESTORING') {
          if (rand(4) === 0) m.step({ type: 'error', kind: 'abortable' });
          else m.step({ type: 'restored' });
        }
        // The fifth consecutive reset is the one that fails the thread.
        if ((m.phase as EosPhase) === 'FAILED') expect(m.resets).toBe(5);
        else expect(m.resets).toBeLessThanOrEqual(4);
      }
    }
  });
});

describe('classifyEosError (which reset an error asks for)', () => {
  it('reads the error table name on the cause chain, not the message', () => {
    expect(classifyEosError(new ProducerFencedError('x'))).toBe('fenced');
    expect(classifyEosError(errorFromCode(ErrorCode.INVALID_PRODUCER_EPOCH, 'x'))).toBe('fenced');
    expect(classifyEosError(errorFromCode(ErrorCode.ILLEGAL_GENERATION, 'x'))).toBe('migrated');
    expect(classifyEosError(errorFromCode(ErrorCode.UNKNOWN_MEMBER_ID, 'x'))).toBe('migrated');
    expect(classifyEosError(errorFromCode(ErrorCode.NOT_ENOUGH_REPLICAS, 'x'))).toBe('abortable');
    // The collector wraps a failed send; the cause decides.
    const wrapped = new StreamsError('PRODUCTION_ERROR', 'could not produce', { cause: new ProducerFencedError('x') });
    expect(classifyEosError(wrapped)).toBe('fenced');
    expect(classifyEosError(new StreamsError('PRODUCTION_ERROR', 'could not produce'))).toBe('abortable');
    expect(classifyEosError(new Error('a processor threw'))).toBe('processing');
    expect(classifyEosError('not an error')).toBe('processing');
  });
});
