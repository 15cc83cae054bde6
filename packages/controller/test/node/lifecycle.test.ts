/**
 * Starting and stopping a controller: bad configuration is refused with a clear message, a port
 * already in use fails the start and leaves the data directory reusable, close is idempotent, and
 * the Raft service ignores batches that are not meant for this controller.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNEL_OPTIONS, ErrorCode, grpc, raftProto } from '@samsa/protocol';
import type { RaftSendResponse__Output } from '@samsa/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startControllerNode } from '../../src/index.js';
import type { ControllerNodeConfig } from '../../src/index.js';
import { freePorts, waitFor } from '@samsa/testkit';
import { silentLogger } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function config(overrides: Partial<ControllerNodeConfig> = {}): Promise<ControllerNodeConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-controller-life-'));
  dirs.push(dir);
  const [port] = await freePorts(1);
  return {
    nodeId: 1,
    listenHost: '127.0.0.1',
    listenPort: port!,
    dataDir: dir,
    logger: silentLogger,
    tickMs: 20,
    voters: [{ id: 1, host: '127.0.0.1', port: port! }],
    ...overrides,
  };
}

describe('controller node lifecycle', () => {
  it('refuses a node id that is not among the voters, and duplicate voter ids', async () => {
    const base = await config();
    await expect(startControllerNode({ ...base, nodeId: 4 })).rejects.toThrow(/not among the controller quorum voters/);
    await expect(startControllerNode({ ...base, voters: [...base.voters, ...base.voters] })).rejects.toThrow(/twice/);
  });

  it('fails to start on a port in use and leaves the data directory usable', async () => {
    const base = await config();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(base.listenPort, '127.0.0.1', resolve));
    try {
      await expect(startControllerNode(base)).rejects.toThrow(/cannot listen/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    const node = await startControllerNode(base);
    try {
      // A single voter elects itself and becomes active.
      await waitFor('the single voter to become active', () => node.isActive(), 10_000, 10);
      expect(node.leaderId()).toBe(1);
    } finally {
      await Promise.all([node.close(), node.close()]);
    }
  });

  it('answers a Raft batch addressed to another controller with INVALID_REQUEST and ignores it', async () => {
    const base = await config();
    const node = await startControllerNode(base);
    const Client = raftProto().samsa.v1.Raft;
    const client = new Client(`127.0.0.1:${base.listenPort}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    try {
      const send = (envelope: object) =>
        new Promise<RaftSendResponse__Output>((resolve, reject) =>
          client.Send(envelope, { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : resolve(res!))),
        );
      expect((await send({ from: 1, to: 2, messages: [] })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
      expect(
        (await send({ from: 7, to: 1, messages: [{ type: 'RAFT_MESSAGE_TYPE_TIMEOUT_NOW', from: 7, to: 1, term: '99' }] })).errorCode,
      ).toBe(ErrorCode.INVALID_REQUEST);
    } finally {
      client.close();
      await node.close();
    }
  });
});
