// Leader election (Raft §5.2, §5.4.1).
import { describe, expect, it } from 'vitest';
import { SeededRng } from '@samsa/protocol';
import { MemoryStorage, RaftNode, RaftConfigError } from '../src/index.js';
import type { Message, VoteMessage } from '../src/index.js';
import { TestCluster, makeNode, messagesOf } from './helpers/cluster.js';
import { storageWithLog } from './helpers/logs.js';

const voteRequest = (from: number, to: number, term: number, lastLogIndex: number, lastLogTerm: number): VoteMessage => ({
  type: 'vote',
  from,
  to,
  term,
  lastLogIndex,
  lastLogTerm,
  transfer: false,
});

describe('leader election', () => {
  it('a follower that hears nothing for an election timeout becomes a candidate, votes for itself and asks the others', () => {
    const storage = new MemoryStorage([1, 2, 3]);
    const n = makeNode(1, [1, 2, 3], storage);
    for (let i = 0; i < 20 && n.status().role === 'follower'; i++) n.tick();
    expect(n.status()).toMatchObject({ role: 'candidate', term: 1, vote: 1 });
    const rd = n.ready()!;
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    expect(rd.messages.map((m) => [m.type, m.to, m.term])).toEqual([
      ['vote', 2, 1],
      ['vote', 3, 1],
    ]);
  });

  it('election timeouts are drawn from [electionTicks, 2 * electionTicks) using the injected rng', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 200; seed++) {
      const n = new RaftNode({
        id: 1,
        voters: [1, 2, 3],
        storage: new MemoryStorage(),
        rng: new SeededRng(seed),
        electionTicks: 10,
        heartbeatTicks: 1,
        preVote: false,
        checkQuorum: false,
      });
      let ticks = 0;
      while (n.status().role === 'follower') {
        n.tick();
        ticks++;
      }
      seen.add(ticks);
    }
    expect(Math.min(...seen)).toBe(10);
    expect(Math.max(...seen)).toBe(19);
    expect(seen.size).toBe(10);
  });

  it('the same seed gives the same timeout (no hidden randomness)', () => {
    const ticksToCampaign = (): number => {
      const n = makeNode(1, [1, 2, 3], new MemoryStorage(), { seed: 42 });
      let ticks = 0;
      while (n.status().role === 'follower') {
        n.tick();
        ticks++;
      }
      return ticks;
    };
    expect(ticksToCampaign()).toBe(ticksToCampaign());
  });

  it('a candidate that receives votes from a majority becomes leader', () => {
    const c = new TestCluster(5);
    c.raft(1).campaign();
    c.flush();
    // Only nodes 2 and 3 hear the request: with its own vote that is 3 of 5.
    c.deliver((m) => m.to === 2 || m.to === 3);
    c.inFlight = [];
    c.flush();
    expect(c.inFlight.filter((m) => m.type === 'voteResponse' && !m.reject)).toHaveLength(2);
    c.deliver();
    expect(c.raft(1).status()).toMatchObject({ role: 'leader', term: 1, leaderId: 1 });
  });

  it('a candidate with only a minority of votes stays a candidate', () => {
    const c = new TestCluster(5);
    c.raft(1).campaign();
    c.flush();
    c.deliver((m) => m.to === 2);
    c.inFlight = [];
    c.flush();
    c.deliver();
    expect(c.raft(1).status().role).toBe('candidate');
  });

  it('a candidate that a majority rejects returns to follower', () => {
    // Nodes 2 and 3 already voted for 3 in term 1.
    const voted = (): MemoryStorage => {
      const s = new MemoryStorage([1, 2, 3]);
      s.setHardState({ term: 1, vote: 3, commit: 0 });
      return s;
    };
    const s1 = new MemoryStorage([1, 2, 3]);
    const n1 = makeNode(1, [1, 2, 3], s1);
    const s2 = voted();
    const s3 = voted();
    const others = new Map([
      [2, { raft: makeNode(2, [1, 2, 3], s2), storage: s2 }],
      [3, { raft: makeNode(3, [1, 2, 3], s3), storage: s3 }],
    ]);
    n1.campaign();
    expect(n1.status()).toMatchObject({ role: 'candidate', term: 1 });
    for (const req of messagesOf(n1, s1)) {
      const peer = others.get(req.to)!;
      peer.raft.step(req);
      for (const resp of messagesOf(peer.raft, peer.storage)) n1.step(resp);
    }
    expect(n1.status()).toMatchObject({ role: 'follower', term: 1 });
  });

  it('a node grants at most one vote per term, on a first-come basis', () => {
    const n = makeNode(1, [1, 2, 3], new MemoryStorage());
    const storage = new MemoryStorage();
    n.step(voteRequest(2, 1, 1, 0, 0));
    n.step(voteRequest(3, 1, 1, 0, 0));
    n.step(voteRequest(2, 1, 1, 0, 0)); // a retransmission is granted again
    const responses = messagesOf(n, storage).map((m) => [m.to, m.type, m.type === 'voteResponse' && m.reject]);
    expect(responses).toEqual([
      [2, 'voteResponse', false],
      [3, 'voteResponse', true],
      [2, 'voteResponse', false],
    ]);
    expect(storage.hardState()).toEqual({ term: 1, vote: 2, commit: 0 });
  });

  it.each([
    // [candidate lastLogIndex, lastLogTerm, granted]  voter log terms: [1, 1, 2]
    [3, 1, false], // older last term
    [2, 2, false], // same last term, shorter
    [3, 2, true], // identical
    [9, 2, true], // same last term, longer
    [1, 3, true], // newer last term wins even if shorter
  ])(
    'a voter grants its vote only to a candidate at least as up to date (last index %i, last term %i → %s)',
    (lastIndex, lastTerm, granted) => {
      const storage = storageWithLog([1, 2], [1, 1, 2]);
      const n = makeNode(1, [1, 2], storage);
      n.step(voteRequest(2, 1, 3, lastIndex, lastTerm));
      const [resp] = messagesOf(n, storage) as Message[];
      expect(resp).toMatchObject({ type: 'voteResponse', to: 2, reject: !granted });
    },
  );

  it('a candidate that hears from a leader of its own term becomes its follower', () => {
    const storage = new MemoryStorage([1, 2, 3]);
    const n = makeNode(1, [1, 2, 3], storage);
    n.campaign();
    messagesOf(n, storage);
    n.step({ type: 'heartbeat', from: 2, to: 1, term: 1, commit: 0 });
    expect(n.status()).toMatchObject({ role: 'follower', term: 1, leaderId: 2 });
  });

  it('any node that sees a higher term adopts it and becomes a follower', () => {
    const c = new TestCluster(3);
    c.elect(1);
    expect(c.raft(1).status()).toMatchObject({ role: 'leader', term: 1 });
    c.raft(1).step({ type: 'appendResponse', from: 2, to: 1, term: 5, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    expect(c.raft(1).status()).toMatchObject({ role: 'follower', term: 5, leaderId: 0, vote: 0 });
  });

  it('a new leader appends a noop entry of its own term and commits it with a majority', () => {
    const c = new TestCluster(3);
    c.elect(1);
    const s = c.raft(1).status();
    expect(s).toMatchObject({ role: 'leader', term: 1, lastIndex: 1, commit: 1 });
    expect(c.node(2).applied).toMatchObject([{ index: 1, term: 1, type: 'noop' }]);
  });

  it('split votes are resolved by randomized timeouts', () => {
    const c = new TestCluster(5, { seed: 7 });
    // Everyone campaigns at once; whatever happens, ticking eventually yields exactly one leader.
    for (const id of c.ids) c.raft(id).campaign();
    c.stabilize();
    for (let i = 0; i < 200 && c.leaders().length !== 1; i++) c.tickAll();
    expect(c.leaders()).toHaveLength(1);
  });

  it('a single-voter cluster elects itself and commits alone', () => {
    const c = new TestCluster(1, { preVote: true });
    c.elect(1);
    expect(c.raft(1).status()).toMatchObject({ role: 'leader', commit: 1 });
    c.propose(1, 'x');
    expect(c.appliedData(1)).toEqual(['x']);
  });

  it('rejects an invalid configuration', () => {
    const base = { id: 1, voters: [1], storage: new MemoryStorage(), rng: new SeededRng(1), preVote: false, checkQuorum: false };
    expect(() => new RaftNode({ ...base, electionTicks: 1, heartbeatTicks: 1 })).toThrow(RaftConfigError);
    expect(() => new RaftNode({ ...base, voters: [], electionTicks: 10, heartbeatTicks: 1 })).toThrow(RaftConfigError);
  });
});
