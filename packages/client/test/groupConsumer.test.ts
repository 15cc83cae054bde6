/**
 * The group consumer's state machine against an in-memory one-member coordinator and the fake
 * cluster, on a manual clock: MEMBER_ID_REQUIRED, leader assignment, processed-only commits, a
 * rebalance that waits for poll() while processing is slow, and the poll-interval leave.
 */
import { ErrorCode, encodeRecordBatch } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { Samsa, decodeAssignment, decodeSubscription, seededRandom, serdes } from '../src/index.js';
import type { GroupsConnection, TopicPartition } from '../src/index.js';
import { FakeCluster, ManualClock } from './fakes.js';

const batchOf = (values: string[]) =>
  encodeRecordBatch(values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1000n + BigInt(i) })));

class FakeCoordinator {
  readonly calls: Array<{ method: string; request: any }> = [];
  heartbeatCode = 0;
  generation = 0;
  nextMember = 1;
  assignment = Buffer.alloc(0);
  readonly offsets = new Map<string, string>();
  constructor(private readonly address: string) {}
  connection = (address: string): GroupsConnection => {
    const record = (method: string, request: any) => this.calls.push({ method, request });
    const self = this;
    const ok = <T>(value: T) => Promise.resolve(value);
    return {
      address,
      findCoordinator(r: any) {
        record('findCoordinator', r);
        const [host, port] = self.address.split(':');
        return ok({ errorCode: 0, errorMessage: '', nodeId: 1, host: host!, port: Number(port) });
      },
      joinGroup(r: any) {
        record('joinGroup', r);
        if (!r.memberId)
          return ok({
            errorCode: ErrorCode.MEMBER_ID_REQUIRED,
            errorMessage: '',
            generationId: -1,
            protocolType: '',
            protocolName: '',
            leader: '',
            memberId: `member-${self.nextMember++}`,
            members: [],
            skipAssignment: false,
          });
        self.generation++;
        return ok({
          errorCode: 0,
          errorMessage: '',
          generationId: self.generation,
          protocolType: 'consumer',
          protocolName: r.protocols[0].name,
          leader: r.memberId,
          memberId: r.memberId,
          members: [{ memberId: r.memberId, groupInstanceId: '', metadata: r.protocols[0].metadata }],
          skipAssignment: false,
        });
      },
      syncGroup(r: any) {
        record('syncGroup', r);
        if (r.assignments.length) self.assignment = Buffer.from(r.assignments[0].assignment);
        return ok({ errorCode: 0, errorMessage: '', protocolType: 'consumer', protocolName: r.protocolName, assignment: self.assignment });
      },
      heartbeat(r: any) {
        record('heartbeat', r);
        return ok({ errorCode: self.heartbeatCode, errorMessage: '' });
      },
      leaveGroup(r: any) {
        record('leaveGroup', r);
        return ok({ errorCode: 0, errorMessage: '', members: [] });
      },
      offsetCommit(r: any) {
        record('offsetCommit', r);
        for (const t of r.topics) for (const p of t.partitions) self.offsets.set(`${t.name}-${p.partition}`, p.committedOffset);
        return ok({
          topics: r.topics.map((t: any) => ({
            name: t.name,
            partitions: t.partitions.map((p: any) => ({ partition: p.partition, errorCode: 0, errorMessage: '' })),
          })),
        });
      },
      offsetFetch(r: any) {
        record('offsetFetch', r);
        return ok({
          errorCode: 0,
          errorMessage: '',
          topics: r.topics.map((t: any) => ({
            name: t.name,
            partitions: t.partitions.map((p: number) => ({
              partition: p,
              committedOffset: self.offsets.get(`${t.name}-${p}`) ?? '-1',
              committedLeaderEpoch: -1,
              metadata: '',
              errorCode: 0,
              errorMessage: '',
            })),
          })),
        });
      },
      listGroups() {
        return ok({ errorCode: 0, errorMessage: '', groups: [] });
      },
      describeGroups() {
        return ok({ groups: [] });
      },
      deleteGroups() {
        return ok({ results: [] });
      },
      close() {},
    } as unknown as GroupsConnection;
  };
  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }
}

function setupGroup(options: { maxPollIntervalMs?: number } = {}) {
  const fake = new FakeCluster([1]);
  fake.createTopic('t', 2);
  fake.append('t', 0, batchOf(['a', 'b', 'c']));
  fake.append('t', 1, batchOf(['d', 'e']));
  const clock = new ManualClock();
  // An empty Fetch long-polls on the clock, as a broker's would.
  fake.clock = clock;
  const coordinator = new FakeCoordinator(fake.addressOf(1));
  const samsa = new Samsa({
    brokers: [fake.addressOf(1)],
    connectionFactory: fake.connectionFactory,
    groupsConnectionFactory: coordinator.connection,
    clock,
    random: seededRandom(1),
    retry: { retries: 2, initialRetryTimeMs: 10, jitter: 0 },
  });
  const events: string[] = [];
  const names = (tps: TopicPartition[]) => tps.map((tp) => `${tp.topic}-${tp.partition}`).join(',');
  const consumer = samsa.consumer({
    groupId: 'g',
    value: serdes.string,
    autoOffsetReset: 'earliest',
    partitionAssignors: ['range'],
    heartbeatIntervalMs: 1_000,
    sessionTimeoutMs: 10_000,
    autoCommitIntervalMs: 5_000,
    maxPollIntervalMs: options.maxPollIntervalMs ?? 60_000,
    rebalanceListener: {
      assigned: (tps) => {
        events.push(`assigned ${names(tps)}`);
      },
      revoked: (tps) => {
        events.push(`revoked ${names(tps)}`);
      },
      lost: (tps) => {
        events.push(`lost ${names(tps)}`);
      },
    },
  });
  consumer.subscribe('t');
  /** poll() with the manual clock moving until it resolves (bounded). */
  const poll = async () => {
    const p = consumer.poll({ maxWaitMs: 100 });
    let done = false;
    void p.finally(() => {
      done = true;
    });
    for (let i = 0; i < 50 && !done; i++) await clock.advance(10);
    return p;
  };
  return { fake, clock, coordinator, samsa, consumer, events, poll };
}

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
