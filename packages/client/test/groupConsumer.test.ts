/**
 * The group consumer's state machine against an in-memory one-member coordinator and the fake
 * cluster, on a manual clock: MEMBER_ID_REQUIRED, leader assignment, processed-only commits, a
 * rebalance that waits for poll() while processing is slow, and the poll-interval leave.
 */
import { ErrorCode } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { decodeAssignment, decodeSubscription } from '../src/index.js';
import { setupGroup } from './groupFixture.js';

describe('GroupConsumer', () => {
  it('joins with MEMBER_ID_REQUIRED, assigns as leader, and auto-commits only processed records', async () => {
    const { clock, coordinator, samsa, consumer, events, poll } = setupGroup();
    const first = await poll();
    const joins = coordinator.calls.filter((c) => c.method === 'joinGroup').map((c) => c.request);
    expect(joins.map((j) => j.memberId)).toEqual(['', 'member-1']);
    expect(joins[1].rebalanceTimeoutMs).toBe(60_000);
    expect(decodeSubscription(Buffer.from(joins[1].protocols[0].metadata)).topics).toEqual(['t']);
    const sync = coordinator.calls.find((c) => c.method === 'syncGroup')!.request;
    expect(decodeAssignment(Buffer.from(sync.assignments[0].assignment)).partitions).toEqual([{ topic: 't', partitions: [0, 1] }]);
    expect(events).toEqual(['assigned t-0,t-1']);
    const got = [...first];
    for (let i = 0; i < 5 && got.length < 5; i++) got.push(...(await poll()));
    expect(got.map((r) => r.value).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    // Returned but not yet processed (no poll since): the auto commit leaves them alone.
    const before = coordinator.count('offsetCommit');
    await clock.advance(5_000);
    expect(coordinator.count('offsetCommit')).toBe(before);
    await poll(); // marks the previous records processed
    await clock.advance(5_000);
    expect(Object.fromEntries(coordinator.offsets)).toEqual({ 't-0': '3', 't-1': '2' });
    expect(consumer.groupMetadata()).toMatchObject({ generationId: 1, memberId: 'member-1', state: 'stable' });
    await samsa.close();
    expect(coordinator.count('leaveGroup')).toBe(1);
    expect(events).toEqual(['assigned t-0,t-1', 'revoked t-0,t-1']);
  });

  it('a JoinGroup answered UNKNOWN_MEMBER_ID (coordinator moved between the KIP-394 joins) joins again without an id', async () => {
    const { coordinator, samsa, consumer, events, poll } = setupGroup();
    coordinator.forgetPending = 1;
    const got = [...(await poll())];
    for (let i = 0; i < 5 && got.length < 5; i++) got.push(...(await poll()));
    expect(got.map((r) => r.value).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const joins = coordinator.calls.filter((c) => c.method === 'joinGroup').map((c) => c.request.memberId);
    expect(joins).toEqual(['', 'member-1', '', 'member-2']);
    expect(events).toEqual(['assigned t-0,t-1']);
    expect(consumer.groupMetadata()).toMatchObject({ generationId: 1, memberId: 'member-2', state: 'stable' });
    await samsa.close();
  });

  it('a rebalance asked by heartbeat waits for poll(): slow processing keeps heartbeating and never leaves', async () => {
    const { clock, coordinator, samsa, consumer, events, poll } = setupGroup();
    const records = await poll();
    expect(records.length).toBeGreaterThan(0);
    coordinator.heartbeatCode = ErrorCode.REBALANCE_IN_PROGRESS;
    const heartbeats = coordinator.count('heartbeat');
    // The application processes for 30 s (below maxPollIntervalMs): no join, no leave, heartbeats go on.
    await clock.advance(30_000);
    expect(coordinator.count('heartbeat') - heartbeats).toBeGreaterThanOrEqual(25);
    expect(coordinator.count('joinGroup')).toBe(2);
    expect(coordinator.count('leaveGroup')).toBe(0);
    expect(consumer.groupMetadata().state).toBe('rebalancing');
    coordinator.heartbeatCode = 0;
    await poll();
    // Eager: the processed offsets are committed and everything revoked before JoinGroup.
    const commit = coordinator.calls.find((c) => c.method === 'offsetCommit')!;
    expect(coordinator.calls.indexOf(commit)).toBeLessThan(coordinator.calls.map((c) => c.method).lastIndexOf('joinGroup'));
    expect(events.slice(0, 2)).toEqual(['assigned t-0,t-1', 'revoked t-0,t-1']);
    expect(coordinator.count('joinGroup')).toBe(3);
    await samsa.close();
  });

  it('leaves the group when poll() is not called within maxPollIntervalMs; the partitions are lost, then it joins again', async () => {
    const { clock, coordinator, samsa, events, poll } = setupGroup({ maxPollIntervalMs: 5_000 });
    await poll();
    await clock.advance(6_000);
    expect(coordinator.count('leaveGroup')).toBe(1);
    const commits = coordinator.count('offsetCommit');
    await poll();
    expect(events.slice(0, 2)).toEqual(['assigned t-0,t-1', 'lost t-0,t-1']);
    expect(coordinator.count('offsetCommit')).toBe(commits); // nothing is committed for lost partitions
    const joins = coordinator.calls.filter((c) => c.method === 'joinGroup').map((c) => c.request.memberId);
    expect(joins.slice(2)).toEqual(['', 'member-2']);
    await samsa.close();
  });
});
