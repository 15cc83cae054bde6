// The simulator must fail on real violations: the SafetyChecker is fed broken histories, and the
// simulation is run with deliberately broken drivers.
import { describe, expect, it } from 'vitest';
import { SeededRng } from '@samsa/protocol';
import { MemoryStorage, RaftNode } from '../../src/index.js';
import type { Entry } from '../../src/index.js';
import { InvariantViolation, SafetyChecker } from './invariants.js';
import type { CheckedNode } from './invariants.js';
import { SimulationFailure, runSimulation } from './simulator.js';
import type { SimBug } from './simulator.js';

const enc = new TextEncoder();
const entry = (index: number, term: number, value: string): Entry => ({ index, term, type: 'normal', data: enc.encode(value) });

function soloLeader(id: number): CheckedNode {
  const storage = new MemoryStorage([id]);
  const raft = new RaftNode({
    id,
    voters: [id],
    storage,
    rng: new SeededRng(id),
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: false,
    checkQuorum: false,
  });
  raft.campaign();
  const rd = raft.ready()!;
  storage.append(rd.entries);
  storage.setHardState(rd.hardState!);
  raft.advance(rd);
  return { id, storage, raft };
}

/** The first seed (up to `limit`) whose run fails, with its failure. */
function firstFailure(bug: SimBug, nodes: number, limit: number): SimulationFailure | undefined {
  for (let seed = 1; seed <= limit; seed++) {
    try {
      runSimulation({ seed, nodes, events: 20_000, bug });
    } catch (e) {
      if (e instanceof SimulationFailure) return e;
      throw e;
    }
  }
  return undefined;
}

describe('the safety checker', () => {
  it('flags two leaders in one term', () => {
    const a = soloLeader(1);
    const b = soloLeader(2); // each believes it leads term 1
    const checker = new SafetyChecker([a, b], new Set());
    checker.afterEvent(a);
    expect(() => checker.afterEvent(b)).toThrow(/election safety: nodes 1 and 2 both lead term 1/);
  });

  it('flags two different entries persisted with the same index and term', () => {
    const a: CheckedNode = { id: 1, storage: new MemoryStorage(), raft: undefined };
    const b: CheckedNode = { id: 2, storage: new MemoryStorage(), raft: undefined };
    const checker = new SafetyChecker([a, b], new Set(['x', 'y']));
    a.storage.append([entry(1, 1, 'x')]);
    checker.onPersistEntries(a, [entry(1, 1, 'x')]);
    expect(() => checker.onPersistEntries(b, [entry(1, 1, 'y')])).toThrow(/log matching/);
  });

  it('flags two nodes applying different entries at one index', () => {
    const a: CheckedNode = { id: 1, storage: new MemoryStorage(), raft: undefined };
    const b: CheckedNode = { id: 2, storage: new MemoryStorage(), raft: undefined };
    const checker = new SafetyChecker([a, b], new Set(['x', 'y']));
    checker.onApply(a, 0, 0, entry(1, 1, 'x'));
    expect(() => checker.onApply(b, 0, 0, entry(1, 2, 'y'))).toThrow(InvariantViolation);
  });

  it('flags a value that no client proposed, or one applied twice', () => {
    const a: CheckedNode = { id: 1, storage: new MemoryStorage(), raft: undefined };
    expect(() => new SafetyChecker([a], new Set(['x'])).onApply(a, 0, 0, entry(1, 1, 'ghost'))).toThrow(/no client proposed/);
    const checker = new SafetyChecker([a], new Set(['x']));
    const d = checker.onApply(a, 0, 0, entry(1, 1, 'x'));
    expect(() => checker.onApply(a, 1, d, entry(2, 1, 'x'))).toThrow(/applied at both/);
  });
});

describe('the simulation catches a broken driver', () => {
  it("that sends a Ready's messages before persisting it (acknowledged entries vanish in crashes)", () => {
    const failure = firstFailure('sendBeforePersist', 3, 20);
    expect(failure, 'no seed caught sendBeforePersist').toBeDefined();
    expect(failure!.message).toMatch(/replay: RAFT_SEED=\d+ RAFT_NODES=3/);
  });

  it("that never writes a Ready's entries", () => {
    expect(firstFailure('skipEntries', 5, 20)).toBeDefined();
  });

  it('that persists the hard state without the vote (a restarted node votes twice in a term)', () => {
    const failure = firstFailure('forgetVote', 3, 300);
    expect(failure, 'no seed caught forgetVote').toBeDefined();
    expect(String(failure!.violation)).toMatch(/election safety|leader completeness|log matching|durability|state machine/);
  }, 120_000);
});
