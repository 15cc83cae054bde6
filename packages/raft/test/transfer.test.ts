// Leadership transfer (Raft thesis §3.10).
import { describe, expect, it } from 'vitest';
import { TestCluster, bytes } from './helpers/cluster.js';

describe('leadership transfer', () => {
  it('a leader hands over to an up-to-date follower, which wins at once without waiting for its timeout', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.raft(1).transferLeadership(2);
    c.stabilize();
    expect(c.raft(2).status()).toMatchObject({ role: 'leader', term: 2 });
    expect(c.raft(1).status()).toMatchObject({ role: 'follower', leaderId: 2 });
  });

  it('the leader first brings a lagging transferee up to date, then sends timeoutNow', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.isolate(3);
    c.propose(1, 'a');
    c.heal();
    c.raft(1).transferLeadership(3);
    const toThree: string[] = [];
    for (let i = 0; i < 50; i++) {
      c.flush();
      if (c.inFlight.length === 0) break;
      c.deliver((m) => {
        if (m.from === 1 && m.to === 3) toThree.push(m.type);
        return true;
      });
    }
    expect(toThree.indexOf('timeoutNow')).toBeGreaterThan(toThree.indexOf('append'));
    expect(c.raft(3).status().role).toBe('leader');
    expect(c.appliedData(3)).toEqual(['a']);
  });

  it('while a transfer is in progress the leader refuses proposals', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.isolate(3);
    c.propose(1, 'a');
    c.raft(1).transferLeadership(3);
    expect(c.raft(1).propose(bytes('b'))).toEqual({ ok: false, reason: 'transferring', leaderId: 1, transferee: 3 });
  });

  it('a transfer that does not finish within an election timeout is abandoned', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.isolate(3);
    c.raft(1).transferLeadership(3);
    c.tickAll(10);
    expect(c.raft(1).status()).toMatchObject({ role: 'leader', leadTransferee: 0 });
    expect(c.raft(1).propose(bytes('b')).ok).toBe(true);
  });

  it("the transferee's campaign overrides the voters' leader lease", () => {
    const c = new TestCluster(3, { preVote: true, checkQuorum: true });
    c.elect(1);
    c.tickAll(3);
    c.raft(1).transferLeadership(2);
    c.stabilize();
    expect(c.raft(2).status()).toMatchObject({ role: 'leader', term: 2 });
  });

  it('a follower forwards a transfer request to its leader', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.raft(3).transferLeadership(2);
    c.stabilize();
    expect(c.leaders()).toEqual([2]);
  });

  it('a transfer to itself or to a non-voter is ignored', () => {
    const c = new TestCluster(3);
    c.elect(1);
    c.raft(1).transferLeadership(1);
    c.raft(1).transferLeadership(9);
    c.stabilize();
    expect(c.raft(1).status()).toMatchObject({ role: 'leader', leadTransferee: 0, term: 1 });
  });
});
