/**
 * ElectLeaders over real gRPC against a three-controller quorum, and the active controller's
 * automatic preferred-leader rebalancing timer.
 */
import { ErrorCode } from '@samsa/protocol';
import type { AlterPartitionResponse__Output, BrokerHeartbeatResponse__Output, ElectLeadersResponse__Output } from '@samsa/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { TestCluster, registerAndUnfence, type ClusterOptions } from './helpers.js';

let c: TestCluster | undefined;

afterEach(async () => {
  await c?.destroy();
  c = undefined;
});

async function setUp(options: ClusterOptions) {
  c = await TestCluster.create(3, options);
  await c.startAll();
  const activeId = (await c.waitForActive()).nodeId;
  const epochs = await registerAndUnfence(c, activeId, [11, 12, 13]);
  expect((await c.createTopic(activeId, 't', 3, 3)).topics[0]!.errorCode).toBe(0);
  return { cluster: c, activeId, epochs };
}

/** Fences and unfences the preferred replica of t-0, then puts it back into the ISR: t-0 is led by another broker. */
async function displacePreferred(cluster: TestCluster, activeId: number, epochs: Map<number, string>) {
  const image = () => cluster.node(activeId).image();
  const preferred = image().topic('t')!.partitions[0]!.replicas[0]!;
  const beat = (wantFence: boolean) =>
    cluster.call<BrokerHeartbeatResponse__Output>(activeId, 'BrokerHeartbeat', {
      brokerId: preferred,
      brokerEpoch: epochs.get(preferred),
      currentMetadataOffset: '1000000',
      wantFence,
      wantShutDown: false,
    });
  expect((await beat(true)).isFenced).toBe(true);
  expect((await beat(false)).isFenced).toBe(false);
  const p = image().topic('t')!.partitions[0]!;
  expect(p.leader).not.toBe(preferred);
  const altered = await cluster.call<AlterPartitionResponse__Output>(activeId, 'AlterPartition', {
    brokerId: p.leader,
    brokerEpoch: epochs.get(p.leader),
    topics: [
      {
        name: 't',
        partitions: [{ partition: 0, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch, newIsr: [...p.isr, preferred] }],
      },
    ],
  });
  expect(altered.topics[0]!.partitions[0]!.errorCode).toBe(0);
  return preferred;
}

describe('ElectLeaders on the Controller service', () => {
  it('elects the preferred replica, answers ELECTION_NOT_NEEDED and UNKNOWN_TOPIC_OR_PARTITION, and NOT_CONTROLLER off the active one', async () => {
    const { cluster, activeId, epochs } = await setUp({ autoLeaderRebalanceEnable: false });
    const preferred = await displacePreferred(cluster, activeId, epochs);
    const before = cluster.node(activeId).image().topic('t')!.partitions[0]!;
    const res = await cluster.call<ElectLeadersResponse__Output>(activeId, 'ElectLeaders', {
      electionType: 0,
      topicPartitions: [
        { topic: 't', partitions: [0, 1] },
        { topic: 'missing', partitions: [0] },
      ],
      timeoutMs: 5_000,
    });
    expect(res.errorCode).toBe(0);
    expect(res.results.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.errorCode])])).toEqual([
      [
        't',
        [
          [0, 0],
          [1, ErrorCode.ELECTION_NOT_NEEDED],
        ],
      ],
      ['missing', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    ]);
    const after = cluster.node(activeId).image().topic('t')!.partitions[0]!;
    expect(after.leader).toBe(preferred);
    expect(after.leaderEpoch).toBe(before.leaderEpoch + 1);

    const other = cluster.ids.find((id) => id !== activeId)!;
    const refused = await cluster.call<ElectLeadersResponse__Output>(other, 'ElectLeaders', {
      electionType: 0,
      topicPartitions: [],
      timeoutMs: 1_000,
    });
    expect(refused.errorCode).toBe(ErrorCode.NOT_CONTROLLER);
  }, 30_000);

  it('the active controller rebalances automatically once the preferred replica is back in the ISR', async () => {
    const { cluster, activeId, epochs } = await setUp({ leaderImbalanceCheckIntervalMs: 200, leaderImbalancePerBrokerPercentage: 10 });
    const preferred = await displacePreferred(cluster, activeId, epochs);
    await waitFor(
      'automatic rebalancing of t-0',
      () => cluster.node(activeId).image().topic('t')!.partitions[0]!.leader === preferred,
      5_000,
    );
  }, 30_000);
});
