/**
 * The Groups service on in-process brokers following a fake controller quorum, driven by a
 * minimal hand-written gRPC client: FindCoordinator creates __consumer_offsets and names the
 * leader of the group's partition; join (KIP-394 two steps) / sync / heartbeat / commit / fetch /
 * describe / list / leave / delete work end to end; another broker answers NOT_COORDINATOR; and
 * when leadership of the group's partition moves, the new leader loads the group and its offsets
 * from the replicated log and serves them.
 */
import { join } from 'node:path';
import { CHANNEL_OPTIONS, ErrorCode, decodeRecords, groupsProto, grpc, type GroupsClient } from '@samsa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { OFFSETS_TOPIC, partitionFor, startBrokerNode, type BrokerNode, type GroupCoordinatorSettings } from '../../src/index.js';
import { decodeCoordinatorRecord } from '../../src/group/records.js';
import { waitFor } from '@samsa/testkit';
import { FakeQuorum, startFakeQuorum, topicRecords } from '../helpers/fakeController.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const PARTITIONS = 4;

async function cluster(
  brokerIds: number[],
  groups: Partial<GroupCoordinatorSettings> = {},
): Promise<{
  quorum: FakeQuorum;
  brokers: Map<number, BrokerNode>;
  addBroker: (nodeId: number) => Promise<void>;
}> {
  const { quorum, controller, root } = await startFakeQuorum('samsa-groups-', cleanups);
  const brokers = new Map<number, BrokerNode>();
  const addBroker = async (nodeId: number) => {
    const node = await startBrokerNode({
      nodeId,
      listenHost: '127.0.0.1',
      listenPort: 0,
      dataDir: join(root, `broker-${nodeId}`),
      logger,
      controllers: [controller.address],
      heartbeatIntervalMs: 100,
      replicaFetch: { maxWaitMs: 100, backoffMs: 20, backoffMaxMs: 200 },
      groups: {
        offsetsTopicNumPartitions: PARTITIONS,
        offsetsTopicReplicationFactor: brokerIds.length,
        groupInitialRebalanceDelayMs: 0,
        groupMinSessionTimeoutMs: 100,
        tickIntervalMs: 20,
        ...groups,
      },
    });
    brokers.set(nodeId, node);
    cleanups.push(() => node.close());
  };
  await Promise.all(brokerIds.map(addBroker));
  return { quorum, brokers, addBroker };
}

type Call = <Res>(method: string, req: object) => Promise<Res>;

function groupsClient(node: BrokerNode): Call {
  const client = new (groupsProto().samsa.v1.Groups)(
    `127.0.0.1:${node.port}`,
    grpc.credentials.createInsecure(),
    CHANNEL_OPTIONS,
  ) as GroupsClient;
  cleanups.push(() => client.close());
  return <Res>(method: string, req: object) =>
    new Promise<Res>((resolve, reject) => {
      const fn = (
        client as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void>
      )[method]!;
      fn.call(client, req, { deadline: Date.now() + 15_000 }, (e, r) => (e ? reject(e) : resolve(r!)));
    });
}

interface FindResponse {
  errorCode: number;
  nodeId: number;
  port: number;
}
interface JoinResponse {
  errorCode: number;
  errorMessage: string;
  memberId: string;
  generationId: number;
  leader: string;
  protocolName: string;
  members: Array<{ memberId: string; metadata: Buffer }>;
}

/** Asks until a coordinator is named (and, with `nodeId`, until it is that broker). */
async function find(call: Call, group: string, nodeId?: number): Promise<FindResponse> {
  return waitFor(
    `a coordinator for ${group}${nodeId === undefined ? '' : ` on broker ${nodeId}`}`,
    async () => {
      const r = await call<FindResponse>('FindCoordinator', { keyType: 0, key: group });
      if (r.errorCode !== 0) expect(r.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      return r.errorCode === 0 && (nodeId === undefined || r.nodeId === nodeId) ? r : undefined;
    },
    15_000,
  );
}

/** Retries while the coordinator is loading; answers the first other response. */
async function untilLoaded<T extends { errorCode: number }>(fn: () => Promise<T>): Promise<T> {
  return waitFor(
    'the coordinator to finish loading',
    async () => {
      const r = await fn();
      return r.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ? undefined : r;
    },
    15_000,
    20,
  );
}

const join1 = (group: string, memberId: string) => ({
  groupId: group,
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
  memberId,
  groupInstanceId: '',
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: Buffer.from('sub-a') }],
  clientId: 'client-a',
});

describe('Groups service', () => {
  it('creates __consumer_offsets only once offsets.topic.replication.factor brokers are registered', async () => {
    const { quorum, brokers, addBroker } = await cluster([1, 2], { offsetsTopicReplicationFactor: 3 });
    const any = groupsClient(brokers.get(1)!);
    // Until both brokers have registered the count in the sentence may still be lower; wait for 2.
    const answer = await waitFor(
      'an answer naming 2 registered brokers',
      async () => {
        const r = await any<FindResponse & { errorMessage: string }>('FindCoordinator', { keyType: 0, key: 'g' });
        expect(r.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        return r.errorMessage.includes('but 2 broker(s)') ? r : undefined;
      },
      15_000,
    );
    expect(answer.errorMessage).toContain('offsets.topic.replication.factor is 3');
    expect(quorum.image.topic(OFFSETS_TOPIC)).toBeUndefined();
    await addBroker(3);
    await find(any, 'g');
    expect(quorum.image.topic(OFFSETS_TOPIC)!.partitions.every((p) => p.replicas.length === 3)).toBe(true);
  });

  it('serves a whole group life cycle on the coordinator and NOT_COORDINATOR elsewhere', async () => {
    const { quorum, brokers } = await cluster([1, 2]);
    quorum.append(topicRecords('orders', [{ replicas: [1] }, { replicas: [2] }]));
    const group = 'life-cycle';
    const any = groupsClient(brokers.get(1)!);
    const found = await find(any, group);
    const offsetsTopic = quorum.image.topic(OFFSETS_TOPIC)!;
    expect(offsetsTopic.partitions.length).toBe(PARTITIONS);
    expect(found.nodeId).toBe(offsetsTopic.partitions[partitionFor(group, PARTITIONS)]!.leader);
    const coordinator = brokers.get(found.nodeId)!;
    expect(found.port).toBe(coordinator.port);
    const call = groupsClient(coordinator);
    const other = groupsClient(brokers.get(found.nodeId === 1 ? 2 : 1)!);

    const first = await untilLoaded(() => call<JoinResponse>('JoinGroup', join1(group, '')));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^client-a-/);
    const joined = await call<JoinResponse>('JoinGroup', join1(group, first.memberId));
    expect(joined).toMatchObject({
      errorCode: 0,
      memberId: first.memberId,
      leader: first.memberId,
      generationId: 1,
      protocolName: 'range',
    });
    expect(joined.members.map((m) => [m.memberId, m.metadata.toString()])).toEqual([[first.memberId, 'sub-a']]);

    const notHere = await other<{ errorCode: number }>('Heartbeat', { groupId: group, generationId: 1, memberId: first.memberId });
    expect(notHere.errorCode).toBe(ErrorCode.NOT_COORDINATOR);

    const synced = await call<{ errorCode: number; assignment: Buffer }>('SyncGroup', {
      groupId: group,
      generationId: 1,
      memberId: first.memberId,
      assignments: [{ memberId: first.memberId, assignment: Buffer.from('orders:0,1') }],
    });
    expect(synced.errorCode).toBe(0);
    expect(synced.assignment.toString()).toBe('orders:0,1');
    expect((await call<{ errorCode: number }>('Heartbeat', { groupId: group, generationId: 1, memberId: first.memberId })).errorCode).toBe(
      0,
    );
    expect((await call<{ errorCode: number }>('Heartbeat', { groupId: group, generationId: 0, memberId: first.memberId })).errorCode).toBe(
      ErrorCode.ILLEGAL_GENERATION,
    );

    const commit = await call<{ topics: Array<{ name: string; partitions: Array<{ partition: number; errorCode: number }> }> }>(
      'OffsetCommit',
      {
        groupId: group,
        generationId: 1,
        memberId: first.memberId,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partition: 0, committedOffset: '42', committedLeaderEpoch: 0, committedMetadata: 'm0' },
              { partition: 1, committedOffset: '7', committedLeaderEpoch: -1 },
            ],
          },
          { name: 'nope', partitions: [{ partition: 0, committedOffset: '1', committedLeaderEpoch: -1 }] },
        ],
      },
    );
    const codes = Object.fromEntries(commit.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partition}`, p.errorCode])));
    expect(codes).toEqual({ 'orders-0': 0, 'orders-1': 0, 'nope-0': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    const stale = await call<{ topics: Array<{ partitions: Array<{ errorCode: number }> }> }>('OffsetCommit', {
      groupId: group,
      generationId: -1,
      memberId: '',
      topics: [{ name: 'orders', partitions: [{ partition: 0, committedOffset: '1', committedLeaderEpoch: -1 }] }],
    });
    expect(stale.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

    const fetched = await call<{
      errorCode: number;
      topics: Array<{ name: string; partitions: Array<{ partition: number; committedOffset: string; metadata: string }> }>;
    }>('OffsetFetch', { groupId: group, topics: [{ name: 'orders', partitions: [0, 1, 5] }] });
    expect(fetched.errorCode).toBe(0);
    expect(fetched.topics[0]!.partitions.map((p) => [p.partition, p.committedOffset, p.metadata])).toEqual([
      [0, '42', 'm0'],
      [1, '7', ''],
      [5, '-1', ''],
    ]);

    const described = await call<{
      groups: Array<{
        groupState: string;
        protocolData: string;
        generationId: number;
        members: Array<{ memberId: string; clientId: string; clientHost: string; memberMetadata: Buffer; memberAssignment: Buffer }>;
      }>;
    }>('DescribeGroups', { groups: [group, 'unknown-group'] });
    expect(described.groups[0]).toMatchObject({ groupState: 'Stable', protocolData: 'range', generationId: 1 });
    expect(
      described.groups[0]!.members.map((m) => [
        m.memberId,
        m.clientId,
        m.clientHost,
        m.memberMetadata.toString(),
        m.memberAssignment.toString(),
      ]),
    ).toEqual([[first.memberId, 'client-a', '/127.0.0.1', 'sub-a', 'orders:0,1']]);
    expect(described.groups[1]!.groupState).toBe('Dead');
    const listed = await call<{ groups: Array<{ groupId: string; groupState: string; protocolType: string }> }>('ListGroups', {});
    expect(listed.groups).toContainEqual({ groupId: group, groupState: 'Stable', protocolType: 'consumer' });

    expect((await call<{ results: Array<{ errorCode: number }> }>('DeleteGroups', { groupsNames: [group] })).results[0]!.errorCode).toBe(
      ErrorCode.NON_EMPTY_GROUP,
    );
    const left = await call<{ errorCode: number; members: Array<{ errorCode: number }> }>('LeaveGroup', {
      groupId: group,
      members: [{ memberId: first.memberId }],
    });
    expect(left.members.map((m) => m.errorCode)).toEqual([0]);
    await waitFor(
      'the group to be Empty',
      () =>
        brokers
          .get(found.nodeId)!
          .groupCoordinator.committedOffsets()
          .find((g) => g.groupId === group)?.state === 'Empty',
      5_000,
    );
    // OffsetDelete (KIP-496) on the empty group: orders-1's offset goes, orders-0's stays.
    const offsetDelete = await call<{ errorCode: number; partitions: Array<{ topic: string; partition: number; errorCode: number }> }>(
      'OffsetDelete',
      { groupId: group, topics: [{ name: 'orders', partitions: [1] }] },
    );
    expect(offsetDelete).toMatchObject({ errorCode: 0, partitions: [{ topic: 'orders', partition: 1, errorCode: 0 }] });
    const afterDelete = await call<{ topics: Array<{ partitions: Array<{ partition: number; committedOffset: string }> }> }>(
      'OffsetFetch',
      {
        groupId: group,
        topics: [{ name: 'orders', partitions: [0, 1] }],
      },
    );
    expect(afterDelete.topics[0]!.partitions.map((p) => [p.partition, p.committedOffset])).toEqual([
      [0, '42'],
      [1, '-1'],
    ]);
    // A group of the same __consumer_offsets partition that does not exist.
    let neverWas = 'never-was';
    for (let i = 0; partitionFor(neverWas, PARTITIONS) !== partitionFor(group, PARTITIONS); i++) neverWas = `never-was-${i}`;
    expect(
      (await call<{ results: Array<{ errorCode: number }> }>('DeleteGroups', { groupsNames: [group, neverWas] })).results.map(
        (r) => r.errorCode,
      ),
    ).toEqual([0, ErrorCode.GROUP_ID_NOT_FOUND]);
    const gone = await call<{ topics: Array<{ partitions: Array<{ committedOffset: string }> }> }>('OffsetFetch', {
      groupId: group,
      topics: [{ name: 'orders', partitions: [0] }],
    });
    expect(gone.topics[0]!.partitions[0]!.committedOffset).toBe('-1');
  });

  it('loads the group and its offsets on the new leader of the group partition', async () => {
    const { quorum, brokers } = await cluster([1, 2]);
    quorum.append(topicRecords('orders', [{ replicas: [1, 2] }]));
    const any = groupsClient(brokers.get(1)!);
    // RF 2 for __consumer_offsets: both brokers hold every partition.
    const group = 'moving';
    const found = await find(any, group);
    const offsetsTopic = quorum.image.topic(OFFSETS_TOPIC)!;
    const partition = partitionFor(group, PARTITIONS);
    expect(offsetsTopic.partitions[partition]!.replicas.length).toBe(2);
    const call = groupsClient(brokers.get(found.nodeId)!);
    const first = await untilLoaded(() => call<JoinResponse>('JoinGroup', { ...join1(group, ''), groupInstanceId: '' }));
    const joined = await call<JoinResponse>('JoinGroup', join1(group, first.memberId));
    expect(joined.errorCode).toBe(0);
    await call('SyncGroup', {
      groupId: group,
      generationId: 1,
      memberId: first.memberId,
      assignments: [{ memberId: first.memberId, assignment: Buffer.from('a') }],
    });
    const commit = await call<{ topics: Array<{ partitions: Array<{ errorCode: number }> }> }>('OffsetCommit', {
      groupId: group,
      generationId: 1,
      memberId: first.memberId,
      topics: [{ name: 'orders', partitions: [{ partition: 0, committedOffset: '99', committedLeaderEpoch: -1 }] }],
    });
    expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(0);

    const next = found.nodeId === 1 ? 2 : 1;
    quorum.append([{ type: 'PartitionChange', topicId: offsetsTopic.topicId, partition, leader: next }]);
    await find(any, group, next);
    const newCall = groupsClient(brokers.get(next)!);
    const hb = await untilLoaded(() =>
      newCall<{ errorCode: number }>('Heartbeat', { groupId: group, generationId: 1, memberId: first.memberId }),
    );
    expect(hb.errorCode).toBe(0);
    const fetched = await newCall<{ topics: Array<{ partitions: Array<{ committedOffset: string }> }> }>('OffsetFetch', {
      groupId: group,
      topics: [{ name: 'orders', partitions: [0] }],
    });
    expect(fetched.topics[0]!.partitions[0]!.committedOffset).toBe('99');
    const synced = await newCall<{ errorCode: number; assignment: Buffer }>('SyncGroup', {
      groupId: group,
      generationId: 1,
      memberId: first.memberId,
    });
    expect(synced.errorCode).toBe(0);
    expect(synced.assignment.toString()).toBe('a');
    // The old coordinator dropped the group.
    const oldCall = groupsClient(brokers.get(found.nodeId)!);
    expect(
      (await oldCall<{ errorCode: number }>('Heartbeat', { groupId: group, generationId: 1, memberId: first.memberId })).errorCode,
    ).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('expires standalone offsets with tombstones that a new leader replays', async () => {
    const { quorum, brokers } = await cluster([1, 2], { offsetsRetentionMs: 1_500, offsetsRetentionCheckIntervalMs: 100 });
    quorum.append(topicRecords('orders', [{ replicas: [1, 2] }]));
    const any = groupsClient(brokers.get(1)!);
    const group = 'standalone';
    const found = await find(any, group);
    const call = groupsClient(brokers.get(found.nodeId)!);
    const commit = (offset: string) =>
      untilLoaded(async () => {
        const r = await call<{ topics: Array<{ partitions: Array<{ errorCode: number }> }> }>('OffsetCommit', {
          groupId: group,
          generationId: -1,
          memberId: '',
          topics: [{ name: 'orders', partitions: [{ partition: 0, committedOffset: offset, committedLeaderEpoch: -1 }] }],
        });
        return r.topics[0]!.partitions[0]!;
      });
    expect((await commit('5')).errorCode).toBe(0);
    const fetch = async (via: Call) =>
      (
        await via<{ topics: Array<{ partitions: Array<{ committedOffset: string }> }> }>('OffsetFetch', {
          groupId: group,
          topics: [{ name: 'orders', partitions: [0] }],
        })
      ).topics[0]!.partitions[0]!.committedOffset;
    expect(await fetch(call)).toBe('5');
    const coordinator = brokers.get(found.nodeId)!.groupCoordinator;
    await waitFor('the offsets to expire', () => !coordinator.committedOffsets().some((g) => g.groupId === group), 10_000);
    expect(await fetch(call)).toBe('-1');

    // The tombstones are in the log, replicated to the follower: the next leader does not bring the offset back.
    const next = found.nodeId === 1 ? 2 : 1;
    const replica = brokers.get(next)!.replicaManager.getPartition(OFFSETS_TOPIC, partitionFor(group, PARTITIONS))!;
    const records = () =>
      decodeRecords(replica.log.read(replica.logStartOffset, 1 << 20, replica.logEndOffset).records)
        .map((r) => decodeCoordinatorRecord(r.key!, r.value))
        .filter((r) => r.group === group);
    await waitFor('the tombstones on the follower', () => records().length === 3, 10_000).catch((e) => {
      throw new Error(`${e}: ${JSON.stringify(records(), (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    });
    expect(records().map((r) => [r.type, r.value === null])).toEqual([
      ['offset', false],
      ['offset', true],
      ['group', true],
    ]);
    const offsetsTopic = quorum.image.topic(OFFSETS_TOPIC)!;
    quorum.append([{ type: 'PartitionChange', topicId: offsetsTopic.topicId, partition: partitionFor(group, PARTITIONS), leader: next }]);
    await find(any, group, next);
    const newCall = groupsClient(brokers.get(next)!);
    const fetched = await untilLoaded(async () => {
      const r = await newCall<{ errorCode: number; topics: Array<{ partitions: Array<{ committedOffset: string }> }> }>('OffsetFetch', {
        groupId: group,
        topics: [{ name: 'orders', partitions: [0] }],
      });
      return r;
    });
    expect(fetched.errorCode).toBe(0);
    expect(fetched.topics[0]!.partitions[0]!.committedOffset).toBe('-1');
  });
});
