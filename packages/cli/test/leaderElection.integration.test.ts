/**
 * Preferred leader election with real processes: 3 controllers and 3 brokers; the broker leading a
 * partition is SIGKILLed (leadership moves), restarted and back in the ISR, and
 * `samsa leader-election --election-type preferred --all-topic-partitions` gives leadership back
 * to the preferred replica. An offline partition whose only live replica is out of sync gets a
 * leader with `--election-type unclean` (KIP-460).
 */
import { Samsa } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { runCliAsync } from './helpers/processes.js';

const SESSION_TIMEOUT_MS = 2_000;
const TOPIC = 'elect';

describe('samsa leader-election against real processes', () => {
  let cluster: TestCluster;
  let samsa: Samsa;

  beforeAll(async () => {
    cluster = await startCluster({ controllers: 3, brokers: 3, heartbeatIntervalMs: 250, sessionTimeoutMs: SESSION_TIMEOUT_MS });
    samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000 });
  }, 90_000);

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  const describeTopic = async () => (await samsa.admin().describeTopics([TOPIC]))[0]!;

  it('moves leadership back to the preferred replica after its broker returned', async () => {
    const bootstrap = cluster.bootstrap.join(',');
    await samsa.admin().createTopics([{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }]);
    const created = await waitFor(
      'every partition led by its preferred replica',
      async () => {
        const d = await describeTopic();
        return d.partitions.every((p) => p.leader === p.replicas[0] && p.isr.length === 3) ? d : undefined;
      },
      20_000,
      100,
    );

    // Nothing to do yet: every partition already has its preferred leader.
    const noop = await runCliAsync([
      'leader-election',
      '--bootstrap-server',
      bootstrap,
      '--election-type',
      'preferred',
      '--all-topic-partitions',
    ]);
    expect(noop.status, noop.stderr).toBe(0);
    expect(noop.stdout).toContain(`Valid replica already elected for partitions ${TOPIC}-0, ${TOPIC}-1, ${TOPIC}-2`);
    expect(noop.stdout).not.toContain('Successfully completed');

    const preferred = created.partitions[0]!.replicas[0]!;
    const victim = cluster.brokers.find((b) => b.nodeId === preferred)!;
    await cluster.kill(victim, 'SIGKILL');
    await waitFor(
      `leadership of ${TOPIC}-0 moves away from broker ${preferred}`,
      async () => {
        const p = (await describeTopic()).partitions[0]!;
        return p.leader !== preferred && p.leader >= 0;
      },
      20_000,
      100,
    );

    await cluster.start(victim);
    await waitFor(
      `broker ${preferred} back in every ISR`,
      async () => {
        const d = await describeTopic();
        return d.partitions.every((p) => p.isr.includes(preferred) && p.leader >= 0);
      },
      30_000,
      200,
    );
    expect((await describeTopic()).partitions[0]!.leader).not.toBe(preferred);

    const run = await runCliAsync(
      ['leader-election', '--bootstrap-server', bootstrap, '--election-type', 'preferred', '--all-topic-partitions'],
      { timeoutMs: 40_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const line = /Successfully completed leader election \(PREFERRED\) for partitions (.*)/.exec(run.stdout)?.[1] ?? '';
    expect(line.split(', ')).toContain(`${TOPIC}-0`);

    const after = await waitFor(
      'every partition led by its preferred replica again',
      async () => {
        const d = await describeTopic();
        return d.partitions.every((p) => p.leader === p.replicas[0]) ? d : undefined;
      },
      10_000,
      100,
    );
    expect(after.partitions[0]!.leader).toBe(preferred);
    const described = await runCliAsync(['topics', '--describe', '--topic', TOPIC, '--bootstrap-server', bootstrap]);
    expect(described.status).toBe(0);
    expect(described.stdout).toMatch(new RegExp(`Partition: 0\\s+Leader: ${preferred}\\b`));
  }, 150_000);

  it('elects an out-of-sync replica of an offline partition with --election-type unclean, and only then', async () => {
    const bootstrap = cluster.bootstrap.join(',');
    const topic = 'unclean-on-request';
    await samsa.admin().createTopics([{ topic, numPartitions: 1, replicationFactor: 2 }]);
    const created = await waitFor(
      'both replicas in the ISR',
      async () => {
        const p = (await samsa.admin().describeTopics([topic]))[0]!.partitions[0]!;
        return p.leader >= 0 && p.isr.length === 2 ? p : undefined;
      },
      20_000,
      100,
    );
    const leaderNode = cluster.brokers.find((b) => b.nodeId === created.leader)!;
    const followerNode = cluster.brokers.find((b) => b.nodeId === created.replicas.find((r) => r !== created.leader))!;
    const partitionNow = async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions[0]!;

    // With a leader in place an unclean election is not needed.
    const notNeeded = await runCliAsync([
      'leader-election',
      '--bootstrap-server',
      bootstrap,
      '--election-type',
      'unclean',
      '--topic',
      topic,
    ]);
    expect(notNeeded.status, notNeeded.stderr).toBe(0);
    expect(notNeeded.stdout).toContain(`Valid replica already elected for partitions ${topic}-0`);

    // The follower dies and leaves the ISR, then the leader dies: the partition is offline, its ISR
    // the dead leader alone; the follower comes back but is not eligible for a clean election.
    await cluster.kill(followerNode, 'SIGKILL');
    await waitFor('the ISR to shrink to the leader', async () => ((await partitionNow()).isr.length === 1 ? true : undefined), 20_000, 100);
    await cluster.kill(leaderNode, 'SIGKILL');
    await waitFor('the partition to go offline', async () => ((await partitionNow()).leader === -1 ? true : undefined), 20_000, 100);
    await cluster.start(followerNode);
    // A broker starts serving once the controller unfenced it; the controller elects leaders for a
    // returning broker in the same batch as its unfencing. So the committed image, read after the
    // start, already shows any clean election its return caused: none.
    const { records } = await cluster.controllerImage(await cluster.activeController());
    expect(records).toContainEqual(expect.objectContaining({ type: 'RegisterBroker', brokerId: followerNode.nodeId, fenced: false }));
    const topicId = records.flatMap((r) => (r.type === 'Topic' && r.name === topic ? [r.topicId] : []))[0];
    expect(records).toContainEqual(
      expect.objectContaining({ type: 'Partition', topicId, partition: 0, leader: -1, isr: [leaderNode.nodeId] }),
    );
    expect(await partitionNow()).toMatchObject({ leader: -1, isr: [leaderNode.nodeId] });

    const run = await runCliAsync(['leader-election', '--bootstrap-server', bootstrap, '--election-type', 'unclean', '--topic', topic], {
      timeoutMs: 40_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Successfully completed leader election (UNCLEAN) for partitions ${topic}-0`);
    expect(await partitionNow()).toMatchObject({ leader: followerNode.nodeId, isr: [followerNode.nodeId] });
    await cluster.start(leaderNode);
  }, 150_000);

  it('refuses bad flags and reports unknown partitions', async () => {
    const bootstrap = cluster.bootstrap.join(',');
    const usage = await runCliAsync(['leader-election', '--bootstrap-server', bootstrap, '--election-type', 'preferred']);
    expect(usage.status).toBe(2);
    const unknown = await runCliAsync([
      'leader-election',
      '--bootstrap-server',
      bootstrap,
      '--election-type',
      'preferred',
      '--topic',
      TOPIC,
      '--partition',
      '7',
    ]);
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toContain(`Error completing leader election (PREFERRED) for partition: ${TOPIC}-7`);
  }, 60_000);
});
