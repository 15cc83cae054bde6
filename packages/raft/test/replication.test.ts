// Log replication and commitment (Raft §5.3, §5.4.2) and the Ready contract.
import { describe, expect, it } from 'vitest';
import type { AppendResponseMessage, Message } from '../src/index.js';
import { TestCluster, bytes, handleReady, makeNode, messagesOf, text } from './helpers/cluster.js';
import { storageWithLog } from './helpers/logs.js';

const ack = (from: number, term: number, index: number): AppendResponseMessage => ({
  type: 'appendResponse',
  from,
  to: 1,
  term,
  index,
  reject: false,
  hintIndex: 0,
  hintTerm: 0,
});

describe('log replication', () => {
  it('a leader replicates a proposal to every follower and all apply it once a majority has it', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.propose(1, 'a');
    c.propose(1, 'b');
    for (const id of c.ids) expect(c.appliedData(id)).toEqual(['a', 'b']);
    expect(c.raft(1).status()).toMatchObject({ commit: 3, applied: 3, lastIndex: 3 });
  });

  it('an entry commits with a majority even while a minority is unreachable, and the minority catches up later', () => {
    const c = new TestCluster(5);
    c.elect(1);
    c.isolate(4);
    c.isolate(5);
    c.propose(1, 'x');
    expect(c.appliedData(1)).toEqual(['x']);
    expect(c.appliedData(4)).toEqual([]);
    c.heal();
    c.tickAll(2); // heartbeats reveal the lag; the leader resends
    expect(c.appliedData(4)).toEqual(['x']);
    expect(c.appliedData(5)).toEqual(['x']);
  });

  it('nothing commits without a majority', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.isolate(1);
    c.propose(1, 'lonely');
    expect(c.raft(1).status().commit).toBe(1);
    expect(c.appliedData(1)).toEqual([]);
  });

  it('a leader does not commit an entry from a previous term by counting replicas (Figure 8)', () => {
    // Node 1 holds [t1, t2] from earlier terms and wins term 4.
    const s1 = storageWithLog([1, 2, 3], [1, 2], { term: 3 });
    const n = makeNode(1, [1, 2, 3], s1);
    n.campaign();
    messagesOf(n, s1);
    n.step({ type: 'voteResponse', from: 2, to: 1, term: 4, reject: false });
    expect(n.status()).toMatchObject({ role: 'leader', term: 4, lastIndex: 3 });
    messagesOf(n, s1);
    // Follower 2 now holds index 2 (term 2): it is on a majority, but of an old term.
    n.step(ack(2, 4, 2));
    expect(n.status().commit).toBe(0);
    // Once the leader's own noop (term 4) reaches a majority, it and everything before commit.
    n.step(ack(2, 4, 3));
    expect(n.status().commit).toBe(3);
  });

  it('a follower rejects an append whose prevLogTerm does not match, hinting where its log could match', () => {
    const s = storageWithLog([1, 2], [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], { term: 7 });
    const n = makeNode(2, [1, 2], s);
    n.step({ type: 'append', from: 1, to: 2, term: 8, prevLogIndex: 10, prevLogTerm: 6, entries: [], commit: 0 });
    const [resp] = messagesOf(n, s) as Message[];
    // Its entry 10 has term 3 ≤ 6: the leader should look at its own log at or below (10, term 3).
    expect(resp).toMatchObject({ type: 'appendResponse', reject: true, index: 10, hintIndex: 10, hintTerm: 3 });
    expect(n.status().lastIndex).toBe(11); // nothing was truncated by a rejected append
  });

  // Figure 7: a leader of term 8 and followers whose logs differ in every way the paper shows.
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  it.each([
    ['(a) missing one entry', [1, 1, 1, 4, 4, 5, 5, 6, 6]],
    ['(b) missing many', [1, 1, 1, 4]],
    ['(c) an extra entry of the current term', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]],
    ['(d) extra entries of a later term', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]],
    ['(e) missing entries and extra ones of an old term', [1, 1, 1, 4, 4, 4, 4]],
    ['(f) a long divergent history', [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]],
  ])("a follower with log %s is brought to the leader's log, the leader backing off a term at a time", (_name, followerLog) => {
    const c = new TestCluster(3, {}, [leaderLog, followerLog, leaderLog]);
    let rejections = 0;
    c.raft(1).campaign();
    for (let round = 0; round < 50; round++) {
      c.flush();
      if (c.inFlight.length === 0) break;
      c.deliver((m) => {
        if (m.type === 'appendResponse' && m.reject && m.from === 2) rejections++;
        return true;
      });
    }
    const { role, term } = c.raft(1).status();
    expect(role).toBe('leader');
    expect(c.persistedTerms(2)).toEqual([...leaderLog, term]);
    // With the conflict hint one or two round trips suffice, where backing off one index at a time
    // would take up to nine.
    expect(rejections).toBeLessThanOrEqual(2);
  });

  it('a heartbeat never makes a follower commit beyond what the leader knows it matches', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.dropType('append');
    c.raft(1).propose(bytes('x'));
    c.stabilize();
    // Node 2 did not get the entry (appends dropped), so it cannot be told to commit it.
    c.heal();
    c.isolate(3);
    c.dropType('append');
    c.tickAll(1);
    expect(c.raft(2).status().commit).toBe(1);
  });

  it('a lost append is repaired: the next heartbeat response reveals the gap and the leader resends', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.dropType('append');
    c.raft(1).propose(bytes('x'));
    c.stabilize();
    expect(c.raft(1).status().commit).toBe(1);
    c.heal();
    c.tickAll(2);
    for (const id of c.ids) expect(c.appliedData(id)).toEqual(['x']);
  });

  it('proposals to a follower are refused, naming the leader', () => {
    const c = new TestCluster(3);
    expect(c.raft(2).propose(bytes('x'))).toEqual({ ok: false, reason: 'notLeader', leaderId: 0 });
    c.elect(1);
    expect(c.raft(2).propose(bytes('x'))).toEqual({ ok: false, reason: 'notLeader', leaderId: 1 });
    expect(c.raft(1).propose(bytes('x'))).toEqual({ ok: true, index: 2, term: 1 });
  });

  it('appends carry at most maxSizePerMsg bytes of entries (but always at least one entry)', () => {
    const c = new TestCluster(3, { maxSizePerMsg: 100 });
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 5; i++) c.propose(1, 'x'.repeat(60));
    c.heal();
    let maxEntries = 0;
    for (const id of c.ids) c.raft(id).tick();
    for (let round = 0; round < 50; round++) {
      c.flush();
      if (c.inFlight.length === 0) break;
      c.deliver((m) => {
        if (m.type === 'append' && m.to === 3) maxEntries = Math.max(maxEntries, m.entries.length);
        return true;
      });
    }
    expect(maxEntries).toBe(1);
    expect(c.appliedData(3)).toHaveLength(5);
  });

  it('a follower that restarts keeps its term, vote and log, and applies its committed entries again', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.propose(1, 'a');
    c.restart(2);
    expect(c.raft(2).status()).toMatchObject({ term: 1, vote: 1, lastIndex: 2, commit: 2, applied: 0 });
    c.stabilize();
    expect(c.appliedData(2)).toEqual(['a']);
  });
});

describe('the Ready contract', () => {
  it('a vote travels in the same Ready as the hard state recording it, so it is persisted before it is sent', () => {
    const s = storageWithLog([1, 2], []);
    const n = makeNode(1, [1, 2], s);
    n.step({ type: 'vote', from: 2, to: 1, term: 1, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
    const rd = n.ready()!;
    expect(rd.hardState).toEqual({ term: 1, vote: 2, commit: 0 });
    expect(rd.messages).toMatchObject([{ type: 'voteResponse', reject: false }]);
  });

  it('an append acknowledgement travels with the entries it acknowledges', () => {
    const s = storageWithLog([1, 2], []);
    const n = makeNode(2, [1, 2], s);
    const e = { term: 1, index: 1, type: 'normal' as const, data: bytes('a') };
    n.step({ type: 'append', from: 1, to: 2, term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [e], commit: 1 });
    const rd = n.ready()!;
    expect(rd.entries).toEqual([e]);
    expect(rd.committedEntries).toEqual([e]); // apply after persisting, from the same Ready
    expect(rd.messages).toMatchObject([{ type: 'appendResponse', index: 1, reject: false }]);
  });

  it('ready() cannot be taken twice without advance(), but the node keeps stepping meanwhile', () => {
    const c = new TestCluster(3);
    c.elect(1);
    const n = c.node(1);
    n.raft.propose(bytes('a'));
    const rd = n.raft.ready()!;
    expect(() => n.raft.ready()).toThrow(/advance/);
    expect(n.raft.hasReady()).toBe(false);
    n.raft.propose(bytes('b')); // arrives while the driver persists `rd`
    c.inFlight.push(...handleReady(n, rd));
    const next = n.raft.ready()!;
    expect(next.entries.map((e) => text(e.data))).toEqual(['b']);
    n.raft.advance(next);
  });

  it("status() on the leader reports every voter's match, next and lag", () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.isolate(3);
    c.propose(1, 'a');
    const st = c.raft(1).status();
    expect(st.progress.map((p) => [p.id, p.match, p.lag])).toEqual([
      [1, 2, 0],
      [2, 2, 0],
      [3, 1, 1],
    ]);
    expect(c.raft(2).status().progress).toEqual([]);
  });
});
