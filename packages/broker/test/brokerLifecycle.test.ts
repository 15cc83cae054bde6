/**
 * The broker's lifecycle with the controller quorum (brokerLifecycleManager.ts), through
 * QuorumMetadataSource against fake controllers over real gRPC: registration and heartbeats,
 * waiting to be unfenced, following NOT_CONTROLLER, re-registering on STALE_BROKER_EPOCH,
 * controlled shutdown, and the cluster id derived from the voters.
 */
import { describe, expect, it } from 'vitest';
import { clusterIdOf } from '../src/metadata/imageView.js';
import { manualTimers, waitFor } from '@samsa/testkit';
import { topicRecords } from './helpers/fakeController.js';
import { quorumOf, source, tearDownQuorumsAfterEach } from './helpers/quorumSource.js';

tearDownQuorumsAfterEach();

describe('registration and heartbeats', () => {
  it('registers with a fresh incarnation, then heartbeats carrying the applied metadata offset', async () => {
    const { quorum, controllers } = await quorumOf(1);
    const s = source(controllers);
    s.start();
    await s.ready();
    expect(quorum.registrations).toHaveLength(1);
    const reg = quorum.registrations[0]!;
    expect(reg).toMatchObject({ brokerId: 1, host: '127.0.0.1', port: 19092, incarnationId: s.incarnationId });
    expect(s.status.brokerEpoch).toBe(reg.brokerEpoch);

    const offset = quorum.append(topicRecords('t', [{ replicas: [1] }]));
    await waitFor(
      'a heartbeat reporting the new offset',
      () => quorum.heartbeats.some((h) => Number(h.currentMetadataOffset) >= offset),
      3_000,
    );
    expect(s.appliedOffset).toBeGreaterThanOrEqual(offset);
    // Every heartbeat carries the registration's epoch and an offset that never goes back.
    const offsets = quorum.heartbeats.map((h) => Number(h.currentMetadataOffset));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(quorum.heartbeats.map((h) => h.brokerEpoch))).toEqual(new Set([reg.brokerEpoch]));
  });

  it('ready() waits until the controller unfences the broker', async () => {
    const { quorum, controllers } = await quorumOf(1);
    quorum.autoUnfence = false;
    const s = source(controllers);
    s.start();
    await waitFor('caught up but fenced', () => s.phase === 'fenced', 3_000);
    // Heartbeats go on and are answered "fenced": after several, ready() has still not resolved.
    let isReady = false;
    void s.ready().then(() => {
      isReady = true;
    });
    const seen = quorum.heartbeats.length;
    await waitFor('three more heartbeats while fenced', () => quorum.heartbeats.length >= seen + 3, 5_000, 10);
    expect(isReady).toBe(false);
    expect(s.brokers()).toEqual([]); // a fenced broker is not offered to clients
    quorum.autoUnfence = true;
    await s.ready();
    expect(s.phase).toBe('running');
    expect(s.brokers()).toEqual([{ nodeId: 1, host: '127.0.0.1', port: 19092 }]);
  });

  it('registers again after STALE_BROKER_EPOCH, keeping its incarnation', async () => {
    const { quorum, controllers } = await quorumOf(1);
    const s = source(controllers);
    s.start();
    await s.ready();
    const first = quorum.registrations[0]!.brokerEpoch;
    quorum.staleOnce.add(1);
    await waitFor('re-registration', () => quorum.registrations.length === 2, 3_000);
    expect(quorum.registrations[1]!.incarnationId).toBe(s.incarnationId);
    expect(quorum.registrations[1]!.brokerEpoch).not.toBe(first);
    await waitFor('running again', () => s.status.brokerEpoch === quorum.registrations[1]!.brokerEpoch && s.phase === 'running', 3_000);
  });

  it('follows the NOT_CONTROLLER leader hint when registering', async () => {
    const { quorum, controllers } = await quorumOf(2, 2);
    const s = source(controllers);
    s.start();
    await s.ready();
    expect(quorum.calls.filter((c) => c.method === 'RegisterBroker').map((c) => c.controllerId)).toEqual([1, 2]);
    expect(s.controllerId).toBe(2);
  });

  it('retries while the quorum has no leader, and registers once one is elected', async () => {
    const { quorum, controllers } = await quorumOf(2, -1);
    const s = source(controllers);
    s.start();
    await waitFor('several attempts', () => quorum.calls.filter((c) => c.method === 'RegisterBroker').length >= 4, 3_000);
    expect(s.phase).toBe('registering');
    expect(s.controllerId).toBe(-1);
    quorum.leaderId = 2;
    await s.ready();
    expect(s.controllerId).toBe(2);
  });

  it('close() asks for a controlled shutdown', async () => {
    const { quorum, controllers } = await quorumOf(1);
    const s = source(controllers);
    s.start();
    await s.ready();
    await s.close();
    expect(quorum.heartbeats.at(-1)).toMatchObject({ brokerId: 1, wantShutDown: true });
  });

  it('close() before ready rejects ready() and waits on no timer, with every controller down', async () => {
    const { controllers } = await quorumOf(1);
    controllers[0]!.stop();
    // The source's clock moves only if the test moves it, and this test never does: a close()
    // that waited for a backoff, a request timeout or the controlled-shutdown bound would hang.
    const clock = manualTimers();
    const s = source(controllers, { timers: clock });
    s.start();
    const ready = s.ready();
    expect(clock.pending()).toEqual([]);
    await waitFor('a failed registration waiting on the clock to retry', () => clock.pending().length > 0, 10_000, 10);
    expect(s.phase).toBe('registering');
    await s.close();
    await expect(ready).rejects.toThrow(/closed before it was ready/);
  });
});

describe('identity', () => {
  it('derives a stable cluster id from the voter list, whatever its order', () => {
    const a = clusterIdOf([
      { id: 2, host: 'b', port: 2 },
      { id: 1, host: 'a', port: 1 },
    ]);
    const b = clusterIdOf([
      { id: 1, host: 'a', port: 1 },
      { id: 2, host: 'b', port: 2 },
    ]);
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{22}$/);
    expect(clusterIdOf([{ id: 1, host: 'a', port: 1 }])).not.toBe(a);
  });
});
