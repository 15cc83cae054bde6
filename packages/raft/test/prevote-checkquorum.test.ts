// Pre-vote (§9.6) and check-quorum / leader lease: a flapping node cannot depose a healthy leader.
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/index.js';
import { TestCluster, makeNode, messagesOf } from './helpers/cluster.js';

const both = { preVote: true, checkQuorum: true };

describe('pre-vote', () => {
  it('a partitioned node that rejoins does not disrupt a stable leader', () => {
    const c = new TestCluster(3, both);
    c.elect(1);
    c.isolate(3);
    c.tickAll(100); // ten election timeouts: node 3 pre-campaigns again and again
    expect(c.raft(3).status().term).toBe(1);
    expect(c.raft(1).status()).toMatchObject({ role: 'leader', term: 1 });
    c.heal();
    c.tickAll(5);
    expect(c.raft(1).status()).toMatchObject({ role: 'leader', term: 1 });
    expect(c.raft(3).status()).toMatchObject({ role: 'follower', term: 1, leaderId: 1 });
  });

  it('without pre-vote, the same node returns with a higher term and forces a new election', () => {
    const c = new TestCluster(3, { preVote: false, checkQuorum: false });
    c.elect(1);
    c.isolate(3);
    c.tickAll(100);
    expect(c.raft(3).status().term).toBeGreaterThan(1);
    c.heal();
    c.tickAll(50);
    const leaders = c.leaders();
    expect(leaders).toHaveLength(1);
    expect(c.raft(leaders[0]!).status().term).toBeGreaterThan(1);
  });

  it("a pre-vote changes neither the voter's term nor its vote, and is granted at the future term", () => {
    const s = new MemoryStorage([1, 2, 3]);
    s.setHardState({ term: 1, vote: 1, commit: 0 });
    const n = makeNode(2, [1, 2, 3], s, { preVote: true });
    n.step({ type: 'preVote', from: 3, to: 2, term: 2, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
    expect(n.status()).toMatchObject({ term: 1, vote: 1 });
    expect(messagesOf(n, s)).toMatchObject([{ type: 'preVoteResponse', to: 3, term: 2, reject: false }]);
  });

  it('a pre-candidate bumps its term only once a quorum grants the pre-vote', () => {
    const s = new MemoryStorage([1, 2, 3]);
    const n = makeNode(1, [1, 2, 3], s, { preVote: true });
    n.campaign();
    expect(n.status()).toMatchObject({ role: 'preCandidate', term: 0 });
    expect(messagesOf(n, s)).toMatchObject([
      { type: 'preVote', to: 2, term: 1 },
      { type: 'preVote', to: 3, term: 1 },
    ]);
    n.step({ type: 'preVoteResponse', from: 2, to: 1, term: 1, reject: false });
    expect(n.status()).toMatchObject({ role: 'candidate', term: 1, vote: 1 });
  });

  it('a pre-candidate that a majority rejects goes back to follower at its old term', () => {
    const s = new MemoryStorage([1, 2, 3]);
    const n = makeNode(1, [1, 2, 3], s, { preVote: true });
    n.campaign();
    n.step({ type: 'preVoteResponse', from: 2, to: 1, term: 0, reject: true });
    n.step({ type: 'preVoteResponse', from: 3, to: 1, term: 0, reject: true });
    expect(n.status()).toMatchObject({ role: 'follower', term: 0 });
  });
});

describe('check-quorum and the leader lease', () => {
  it('a leader that has not heard from a quorum within an election timeout steps down', () => {
    const c = new TestCluster(3, both);
    c.elect(1);
    c.isolate(1);
    c.tick(1, 10); // the first check resets the activity marks
    c.tick(1, 10);
    expect(c.raft(1).status()).toMatchObject({ role: 'follower', term: 1, leaderId: 0 });
  });

  it('a leader that hears from a quorum stays leader', () => {
    const c = new TestCluster(3, both);
    c.elect(1);
    c.isolate(3);
    c.tickAll(50);
    expect(c.raft(1).status()).toMatchObject({ role: 'leader', term: 1 });
  });

  it('without check-quorum an isolated leader keeps believing it leads', () => {
    const c = new TestCluster(3, { checkQuorum: false });
    c.elect(1);
    c.isolate(1);
    c.tick(1, 50);
    expect(c.raft(1).status().role).toBe('leader');
  });

  it('a follower that heard from its leader within the lease ignores a vote request of a higher term', () => {
    const c = new TestCluster(3, both);
    c.elect(1);
    const n2 = c.node(2);
    n2.raft.step({ type: 'vote', from: 3, to: 2, term: 5, lastLogIndex: 9, lastLogTerm: 9, transfer: false });
    expect(n2.raft.status()).toMatchObject({ term: 1, vote: 1, leaderId: 1 });
    expect(messagesOf(n2.raft, n2.storage)).toEqual([]);
  });

  it('once the lease has run out (no leader heard for an election timeout) the vote is considered', () => {
    const c = new TestCluster(3, { ...both, preVote: false });
    c.elect(1);
    const n2 = c.node(2);
    for (let i = 0; i < 10; i++) n2.raft.tick(); // 10 ticks ≤ randomized timeout: still a follower
    n2.raft.step({ type: 'vote', from: 3, to: 2, term: 5, lastLogIndex: 9, lastLogTerm: 9, transfer: false });
    expect(n2.raft.status()).toMatchObject({ term: 5, vote: 3 });
  });

  it.each([
    [true, 'answers'],
    [false, 'silently drops'],
  ])("with pre-vote %s, a node of a newer term %s a stale leader's heartbeat, so the stale leader steps down", (preVote) => {
    const c = new TestCluster(3, { preVote });
    c.elect(1); // leader of term 1
    const s = new MemoryStorage([1, 2, 3]);
    s.setHardState({ term: 2, vote: 3, commit: 0 });
    const n2 = makeNode(2, [1, 2, 3], s, { preVote });
    n2.step({ type: 'heartbeat', from: 1, to: 2, term: 1, commit: 0 });
    const replies = messagesOf(n2, s);
    if (!preVote) {
      expect(replies).toEqual([]);
      return;
    }
    expect(replies).toMatchObject([{ type: 'appendResponse', to: 1, term: 2 }]);
    c.raft(1).step(replies[0]!);
    expect(c.raft(1).status()).toMatchObject({ role: 'follower', term: 2 });
  });
});
