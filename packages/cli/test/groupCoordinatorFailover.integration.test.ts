/**
 * The group coordinator with real processes (1 controller, 3 brokers): a member joins, syncs and
 * commits through a hand-written Groups client; the broker coordinating the group (leader of the
 * group's __consumer_offsets partition) is SIGKILLed; the new leader of that partition loads the
 * group from its replica of the log and serves the same generation, member, assignment and
 * committed offsets, and takes new commits.
 */
import { CHANNEL_OPTIONS, ErrorCode, groupsProto, grpc, type GroupsClient } from '@samsa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { clientConnection, startCluster, type TestCluster } from './helpers/cluster.js';

const GROUP = 'failover-group';
const TOPIC = 'orders';

type Call = <Res>(method: string, req: object) => Promise<Res>;

function connect(port: number, clients: grpc.Client[]): Call {
  const client = new (groupsProto().samsa.v1.Groups)(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
    CHANNEL_OPTIONS,
  ) as GroupsClient;
  clients.push(client);
  return <Res>(method: string, req: object) =>
    new Promise<Res>((resolve, reject) => {
      const fn = (
        client as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void>
      )[method]!;
      fn.call(client, req, { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r!)));
    });
}

interface Find {
  errorCode: number;
  nodeId: number;
  port: number;
}
interface Fetched {
  errorCode: number;
  topics: Array<{ name: string; partitions: Array<{ partition: number; committedOffset: string; errorCode: number }> }>;
}

describe('group coordinator failover against real processes', () => {
  let cluster: TestCluster;
  const clients: grpc.Client[] = [];

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 1,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: 2_000,
      brokerArgs: ['--group-initial-rebalance-delay-ms', '0', '--group-min-session-timeout-ms', '1000'],
    });
  }, 90_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
  });

  it('serves the group and its committed offsets from the new leader of the group partition', async () => {
    const admin = clientConnection(cluster.bootstrap[0]!);
    clients.push(admin);
    await new Promise<void>((resolve, reject) =>
      admin.CreateTopics({ topics: [{ name: TOPIC, numPartitions: 2, replicationFactor: 3 }] }, (e, r) =>
        e ? reject(e) : r!.topics[0]!.errorCode === 0 ? resolve() : reject(new Error(r!.topics[0]!.errorMessage)),
      ),
    );

    const byPort = new Map(cluster.brokers.map((b) => [b.port, b]));
    const anyBroker = connect(cluster.brokers[0]!.port, clients);
    const find = (via: Call, notNode?: number) =>
      waitFor(
        `a coordinator for ${GROUP}${notNode === undefined ? '' : ` other than ${notNode}`}`,
        async () => {
          const r = await via<Find>('FindCoordinator', { keyType: 0, key: GROUP });
          return r.errorCode === 0 && r.nodeId !== notNode ? r : undefined;
        },
        30_000,
        100,
      );
    const first = await find(anyBroker);
    // The group's partition fully replicated before the kill (commits are acks=all anyway).
    await waitFor(
      '__consumer_offsets with 3 in-sync replicas everywhere',
      () =>
        new Promise<boolean | undefined>((resolve) => {
          admin.Metadata({ topics: ['__consumer_offsets'] }, (e, r) => {
            const t = r?.topics[0];
            resolve(
              !e && t?.errorCode === 0 && t.partitions.length === 50 && t.partitions.every((p) => p.isr.length === 3) ? true : undefined,
            );
          });
        }),
      30_000,
      200,
    );

    const call = connect(first.port, clients);
    const retry = <T extends { errorCode: number }>(what: string, fn: () => Promise<T>) =>
      waitFor(
        what,
        async () => {
          const r = await fn();
          return r.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || r.errorCode === ErrorCode.NOT_COORDINATOR ? undefined : r;
        },
        30_000,
        100,
      );
    const join = (memberId: string) =>
      call<{ errorCode: number; memberId: string; generationId: number; leader: string }>('JoinGroup', {
        groupId: GROUP,
        sessionTimeoutMs: 15_000,
        rebalanceTimeoutMs: 15_000,
        memberId,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.from('orders') }],
        clientId: 'failover-test',
      });
    const required = await retry('MEMBER_ID_REQUIRED', () => join(''));
    expect(required.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const joined = await join(required.memberId);
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, leader: required.memberId });
    const memberId = joined.memberId;
    const synced = await call<{ errorCode: number; assignment: Buffer }>('SyncGroup', {
      groupId: GROUP,
      generationId: 1,
      memberId,
      assignments: [{ memberId, assignment: Buffer.from('orders-0,orders-1') }],
    });
    expect(synced.errorCode).toBe(0);
    const commit = async (via: Call, offsets: [number, string][]) => {
      const r = await via<{ topics: Array<{ partitions: Array<{ errorCode: number }> }> }>('OffsetCommit', {
        groupId: GROUP,
        generationId: 1,
        memberId,
        topics: [
          {
            name: TOPIC,
            partitions: offsets.map(([partition, committedOffset]) => ({ partition, committedOffset, committedLeaderEpoch: -1 })),
          },
        ],
      });
      return r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
    };
    expect(
      await commit(call, [
        [0, '100'],
        [1, '200'],
      ]),
    ).toEqual([0, 0]);

    const victim = byPort.get(first.port)!;
    await cluster.kill(victim, 'SIGKILL');

    const survivor = cluster.brokers.find((b) => b !== victim)!;
    const moved = await find(connect(survivor.port, clients), first.nodeId);
    const next = connect(moved.port, clients);
    // Same generation and member: the heartbeat is accepted once the group is loaded.
    const hb = await retry('a heartbeat on the new coordinator', () =>
      next<{ errorCode: number }>('Heartbeat', { groupId: GROUP, generationId: 1, memberId }),
    );
    expect(hb.errorCode).toBe(0);
    const fetched = await next<Fetched>('OffsetFetch', { groupId: GROUP, topics: [{ name: TOPIC, partitions: [0, 1] }] });
    expect(fetched.errorCode).toBe(0);
    expect(fetched.topics[0]!.partitions.map((p) => [p.partition, p.committedOffset])).toEqual([
      [0, '100'],
      [1, '200'],
    ]);
    const described = await next<{
      groups: Array<{ groupState: string; generationId: number; members: Array<{ memberId: string; memberAssignment: Buffer }> }>;
    }>('DescribeGroups', { groups: [GROUP] });
    expect(described.groups[0]).toMatchObject({ groupState: 'Stable', generationId: 1 });
    expect(described.groups[0]!.members.map((m) => [m.memberId, m.memberAssignment.toString()])).toEqual([[memberId, 'orders-0,orders-1']]);
    const resynced = await next<{ errorCode: number; assignment: Buffer }>('SyncGroup', { groupId: GROUP, generationId: 1, memberId });
    expect(resynced.errorCode).toBe(0);
    expect(resynced.assignment.toString()).toBe('orders-0,orders-1');

    // New commits go to the new leader's log and are served.
    expect(await commit(next, [[0, '150']])).toEqual([0]);
    const after = await next<Fetched>('OffsetFetch', { groupId: GROUP, topics: [] });
    expect(after.topics[0]!.partitions.map((p) => [p.partition, p.committedOffset]).sort()).toEqual([
      [0, '150'],
      [1, '200'],
    ]);
  }, 120_000);
});
