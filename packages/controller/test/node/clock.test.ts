/**
 * A controller node on a clock the test moves by hand (ControllerNodeConfig.timers): the Raft tick,
 * broker sessions and the fencing interval all run on it, so a session expiry is driven, not slept
 * for. One voter over real gRPC and LevelDB; only the clock is the test's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNEL_OPTIONS, ErrorCode, controllerProto, grpc } from '@samsa/protocol';
import type { BrokerHeartbeatResponse__Output, ControllerClient, RegisterBrokerResponse__Output } from '@samsa/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startControllerNode, type ControllerNode } from '../../src/index.js';
import { freePorts, manualTimers, waitFor, type ManualTimers } from '@samsa/testkit';
import { silentLogger } from './helpers.js';

const SESSION_MS = 4_000;
const TICK_MS = 50;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function startManual(): Promise<{ node: ControllerNode; clock: ManualTimers; client: ControllerClient }> {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-controller-clock-'));
  const [port] = await freePorts(1);
  const clock = manualTimers();
  const node = await startControllerNode({
    nodeId: 1,
    listenHost: '127.0.0.1',
    listenPort: port!,
    dataDir: dir,
    logger: silentLogger,
    tickMs: TICK_MS,
    voters: [{ id: 1, host: '127.0.0.1', port: port! }],
    brokerSessionTimeoutMs: SESSION_MS,
    autoLeaderRebalanceEnable: false,
    timers: clock,
  });
  const client = new (controllerProto().samsa.v1.Controller)(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
    CHANNEL_OPTIONS,
  ) as ControllerClient;
  cleanups.push(async () => {
    client.close();
    const closing = node.close({ transferLeadership: false });
    // The shutdown's force timer runs on the manual clock too.
    clock.advance(1_000);
    await closing;
    rmSync(dir, { recursive: true, force: true });
  });
  return { node, clock, client };
}

function call<Res>(client: ControllerClient, method: string, request: object): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (
      client as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void>
    )[method]!;
    fn.call(client, request, { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r!)));
  });
}

describe('a controller node on an injected clock', () => {
  it('elects itself only as its clock ticks, and fences a silent broker once that clock passes the session timeout', async () => {
    const { node, clock, client } = await startManual();
    // No time passes, no tick, no election: the node does not run on the wall clock.
    expect(node.isActive()).toBe(false);
    await waitFor(
      'the single voter to become active as the clock ticks',
      () => {
        clock.advance(TICK_MS);
        return node.isActive();
      },
      10_000,
    );

    const reg = await call<RegisterBrokerResponse__Output>(client, 'RegisterBroker', {
      brokerId: 7,
      incarnationId: 'inc-7',
      host: 'b7.test',
      port: 9092,
    });
    expect(reg.errorCode).toBe(0);
    const unfenced = await call<BrokerHeartbeatResponse__Output>(client, 'BrokerHeartbeat', {
      brokerId: 7,
      brokerEpoch: reg.brokerEpoch,
      currentMetadataOffset: reg.brokerEpoch,
      wantFence: false,
      wantShutDown: false,
    });
    expect(unfenced).toMatchObject({ errorCode: ErrorCode.NONE, isFenced: false });
    await waitFor('broker 7 unfenced in the image', () => node.image().broker(7)?.fenced === false, 5_000);
    const heardAt = clock.now();

    // The session expires on the node's clock alone: move it past the timeout (the fencing
    // interval, a quarter of it, fires on the way) and the broker is fenced.
    clock.advance(SESSION_MS + SESSION_MS / 4 + TICK_MS);
    expect(clock.now() - heardAt).toBeGreaterThan(SESSION_MS);
    await waitFor(
      'broker 7 fenced after its session expired on the manual clock',
      () => {
        clock.advance(TICK_MS);
        return node.image().broker(7)?.fenced === true;
      },
      10_000,
    );
  });
});
