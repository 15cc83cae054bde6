/**
 * Admin calls forwarded to the active controller (controllerForwarder.ts), through
 * QuorumMetadataSource against fake controllers over real gRPC: following NOT_CONTROLLER by
 * leader_id, answering only once the local image shows the change, and a retriable code when no
 * controller answers in time.
 */
import { ErrorCode, errorInfo } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { topicRecords } from './helpers/fakeController.js';
import { quorumOf, source, tearDownQuorumsAfterEach } from './helpers/quorumSource.js';

tearDownQuorumsAfterEach();

describe('topic admin', () => {
  it('createTopics follows NOT_CONTROLLER to the active controller', async () => {
    const { quorum, controllers } = await quorumOf(2, 2);
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.leaderId = 1; // s still believes 2 leads
    quorum.calls.length = 0;
    const [result] = await s.createTopics([{ name: 'moved', numPartitions: 2, replicationFactor: 1, configs: {} }], false, 5_000);
    expect(result).toMatchObject({ name: 'moved', errorCode: 0 });
    const creates = quorum.calls.filter((c) => c.method === 'CreateTopics').map((c) => c.controllerId);
    expect(creates).toEqual([2, 1]);
    expect(s.controllerId).toBe(1);
  });

  it('createTopics follows the leader_id of a NOT_CONTROLLER answer without asking DescribeQuorum', async () => {
    const { quorum, controllers } = await quorumOf(3, 3);
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.leaderId = 2;
    quorum.calls.length = 0;
    const [result] = await s.createTopics([{ name: 'hinted', numPartitions: 1, replicationFactor: 1, configs: {} }], false, 5_000);
    expect(result!.errorCode).toBe(0);
    expect(quorum.calls.filter((c) => c.method === 'CreateTopics').map((c) => c.controllerId)).toEqual([3, 2]);
    expect(quorum.calls.some((c) => c.method === 'DescribeQuorum')).toBe(false);
  });

  it('createTopics tries the next voter when a NOT_CONTROLLER answer names no leader', async () => {
    const { quorum, controllers } = await quorumOf(3, 3);
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.leaderId = 1;
    quorum.leaderHint = false;
    quorum.calls.length = 0;
    const [result] = await s.createTopics([{ name: 'unhinted', numPartitions: 1, replicationFactor: 1, configs: {} }], false, 5_000);
    expect(result!.errorCode).toBe(0);
    // 3 names nobody: the voter after it (1, wrapping around) is tried next and leads.
    expect(quorum.calls.filter((c) => c.method === 'CreateTopics').map((c) => c.controllerId)).toEqual([3, 1]);
    expect(s.controllerId).toBe(1);
  });

  it('createTopics resolves only once the local image has the topic', async () => {
    const { quorum, controllers } = await quorumOf(1);
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.fetchLagMs = 400;
    const t0 = Date.now();
    const [result] = await s.createTopics(
      [{ name: 'lagging', numPartitions: 3, replicationFactor: 1, configs: { 'retention.ms': '1000' } }],
      false,
      5_000,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(result!.errorCode).toBe(0);
    expect(s.topic('lagging')).toBeDefined();
    if (result!.errorCode === 0 && 'topic' in result!) {
      expect(result.topic.partitions).toHaveLength(3);
      expect(result.topic.configs).toEqual({ 'retention.ms': '1000' });
    }
  });

  it('createTopics maps controller errors and validate_only answers', async () => {
    const { controllers } = await quorumOf(1);
    const s = source(controllers);
    s.start();
    await s.ready();
    const results = await s.createTopics(
      [
        { name: 'ok', numPartitions: 1, replicationFactor: 1, configs: {} },
        { name: 'too-many-replicas', numPartitions: 1, replicationFactor: 3, configs: {} },
      ],
      false,
      5_000,
    );
    expect(results.map((r) => r.errorCode)).toEqual([0, ErrorCode.INVALID_REPLICATION_FACTOR]);
    const again = await s.createTopics([{ name: 'ok', numPartitions: 1, replicationFactor: 1, configs: {} }], false, 5_000);
    expect(again[0]!.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    const validated = await s.createTopics([{ name: 'dry', numPartitions: 4, replicationFactor: 1, configs: {} }], true, 5_000);
    expect(validated[0]!.errorCode).toBe(0);
    expect(s.topic('dry')).toBeUndefined();
  });

  it('deleteTopics resolves once the local image no longer has the topic', async () => {
    const { quorum, controllers } = await quorumOf(1);
    quorum.append(topicRecords('doomed', [{ replicas: [1] }]));
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.fetchLagMs = 300;
    const results = await s.deleteTopics(['doomed', 'never-was'], 5_000);
    expect(results.map((r) => r.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(s.topic('doomed')).toBeUndefined();
  });

  it('with every controller down, createTopics fails with a retriable code within its timeout', async () => {
    const { controllers } = await quorumOf(2);
    const s = source(controllers);
    s.start();
    await s.ready();
    for (const c of controllers) c.stop();
    // It gives up at its deadline, not sooner (the test's own timeout catches one that never does).
    const t0 = Date.now();
    const [result] = await s.createTopics([{ name: 'nowhere', numPartitions: 1, replicationFactor: 1, configs: {} }], false, 800);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(result!.errorCode).toBe(ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE);
    expect(errorInfo(result!.errorCode).retriable).toBe(true);
    expect('errorMessage' in result! && result.errorMessage).toMatch(/was not created: no active controller answered in time/);
  });

  it('with a leaderless quorum, createTopics fails with CONTROLLER_QUORUM_UNAVAILABLE', async () => {
    const { quorum, controllers } = await quorumOf(2);
    const s = source(controllers);
    s.start();
    await s.ready();
    quorum.leaderId = -1;
    const [result] = await s.createTopics([{ name: 'leaderless', numPartitions: 1, replicationFactor: 1, configs: {} }], false, 600);
    expect(result!.errorCode).toBe(ErrorCode.CONTROLLER_QUORUM_UNAVAILABLE);
  });
});
