/**
 * Bad input on the Kafka listener: a seeded fuzz run throws thousands of random and mutated frames
 * (mutations of real requests KafkaJS sent to this broker, captured from its sockets) at a live
 * broker, over many connections, then checks the node is still up and serves well-formed clients
 * on both protocols, and that no topic appeared (auto-create is off; CreateTopics is not among the
 * captured requests). A failure prints its seed; SAMSA_FUZZ_SEED replays one.
 */
import * as net from 'node:net';
import { Samsa } from '@samsa/client';
import { seededRandom } from '@samsa/protocol';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { RawKafkaConnection } from './helpers/kafkaWire.js';

const SEED = Number(process.env.SAMSA_FUZZ_SEED ?? 0x5eed_14);
const FRAMES = 6_000;
const FRAMES_PER_CONNECTION = 3;
const PARALLEL = 16;

/** The project's one seeded RNG (the test's only randomness). */
const rng = seededRandom;

/** Splits captured client bytes into request bodies (without the size). */
function splitFrames(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 4 <= bytes.length) {
    const size = bytes.readInt32BE(at);
    if (size < 0 || at + 4 + size > bytes.length) break;
    out.push(Buffer.from(bytes.subarray(at + 4, at + 4 + size)));
    at += 4 + size;
  }
  return out;
}

function sized(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** One frame to send: a mutation of a captured request, or random bytes. */
function mutate(random: () => number, corpus: Buffer[]): Buffer {
  const int = (n: number) => Math.floor(random() * n);
  const kind = int(8);
  if (kind === 0 || corpus.length === 0) {
    // Random bytes behind a plausible header: a known or unknown API key and version.
    const body = Buffer.alloc(8 + int(200));
    for (let i = 0; i < body.length; i++) body[i] = int(256);
    body.writeInt16BE(random() < 0.8 ? int(70) : int(65536) - 32768, 0);
    body.writeInt16BE(random() < 0.8 ? int(14) : int(65536) - 32768, 2);
    return sized(body);
  }
  const body = Buffer.from(corpus[int(corpus.length)]!);
  switch (kind) {
    case 1: {
      // flip a few bytes (header fields stay mostly intact)
      for (let n = 1 + int(6); n > 0; n--) body[8 + int(Math.max(1, body.length - 8))] ^= 1 + int(255);
      return sized(body);
    }
    case 2: // truncate
      return sized(body.subarray(0, int(body.length)));
    case 3: // append junk
      return sized(Buffer.concat([body, Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)))]));
    case 4: {
      // a length or count field becomes negative or huge
      if (body.length < 12) return sized(body);
      const at = 8 + int(body.length - 11);
      body.writeInt32BE(random() < 0.5 ? -1 - int(1000) : 0x7fff0000 + int(0xffff), at);
      return sized(body);
    }
    case 5: {
      // the right bytes under another API or version
      body.writeInt16BE(int(70), 0);
      body.writeInt16BE(int(16), 2);
      return sized(body);
    }
    case 6: {
      // a varint run: bytes with the continuation bit set
      const at = 8 + int(Math.max(1, body.length - 8));
      for (let i = at; i < Math.min(body.length, at + 6); i++) body[i] = 0x80 | int(128);
      return sized(body);
    }
    default: {
      // a size prefix that disagrees with the body
      const out = sized(body);
      out.writeInt32BE(random() < 0.5 ? body.length + 1 + int(100) : Math.max(0, body.length - 1 - int(10)), 0);
      return out;
    }
  }
}

/** Writes `frames` on one connection and waits (bounded) until the broker answered them all or closed it. */
async function throwAt(port: number, frames: Buffer[]): Promise<{ closed: boolean; answers: number }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answers = 0;
    let pending = Buffer.alloc(0);
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ closed, answers });
    };
    // A frame whose size promises more than was sent keeps the broker waiting: we give up after a while.
    const timer = setTimeout(() => finish(false), 1_000);
    socket.on('connect', () => socket.write(Buffer.concat(frames)));
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        pending = pending.subarray(4 + pending.readInt32BE(0));
        answers++;
      }
      if (answers >= frames.length) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
  });
}

describe(`fuzzing the Kafka listener (seed ${SEED})`, () => {
  let cluster: TestCluster;
  let samsa: Samsa;
  const captured: Buffer[] = [];

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 1,
      brokers: 1,
      brokerArgs: [
        '--auto-create-topics-enable',
        'false',
        '--group-initial-rebalance-delay-ms',
        '0',
        '--group-min-session-timeout-ms',
        '1000',
      ],
    });
    samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000 });
    await samsa.admin().createTopics([{ topic: 'fuzz', numPartitions: 2, replicationFactor: 1 }]);
    await waitFor(
      'fuzz has leaders',
      async () => (await samsa.admin().describeTopics(['fuzz']))[0]!.partitions.every((p) => p.leader >= 0),
      20_000,
      100,
    );
  }, 90_000);

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  /** A KafkaJS client whose sockets record every byte it sends. */
  function capturingKafka(clientId: string, record: boolean): Kafka {
    return new Kafka({
      clientId,
      brokers: cluster.bootstrap,
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 100 },
      socketFactory: ({ host, port, onConnect }) => {
        const socket = net.connect({ host, port }, onConnect);
        if (record) {
          const chunks: Buffer[] = [];
          const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
          socket.write = ((data: unknown, ...rest: unknown[]) => {
            chunks.push(Buffer.from(data as Buffer));
            return write(data, ...rest);
          }) as typeof socket.write;
          socket.on('close', () => captured.push(...splitFrames(Buffer.concat(chunks))));
        }
        return socket;
      },
    });
  }

  async function roundTrip(kafka: Kafka, tag: string): Promise<void> {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic: 'fuzz',
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `${tag}-${i}`, value: `${tag}-value-${i}`, headers: { tag } })),
    });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `fuzz-${tag}`, sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
    const seen = new Set<string>();
    await consumer.connect();
    await consumer.subscribe({ topic: 'fuzz', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString().startsWith(`${tag}-`)) seen.add(message.key.toString());
      },
    });
    await waitFor(`the ${tag} records`, () => seen.size >= 10, 30_000, 100);
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    expect((await admin.fetchTopicOffsets('fuzz')).length).toBe(2);
    await admin.disconnect();
  }

  it('stays up and keeps serving well-formed clients after thousands of random and mutated frames', async () => {
    await roundTrip(capturingKafka('fuzz-capture', true), 'before');
    await waitFor('captured requests', () => captured.length > 0 || undefined, 10_000, 50);
    const apis = new Set(captured.map((f) => f.readInt16BE(0)));
    // Metadata, ApiVersions, Produce, InitProducerId, FindCoordinator, JoinGroup, SyncGroup, Fetch, OffsetCommit, ListOffsets...
    expect(apis.size).toBeGreaterThanOrEqual(8);

    const random = rng(SEED);
    const port = cluster.brokers[0]!.port;
    let closed = 0;
    let answered = 0;
    let sent = 0;
    try {
      while (sent < FRAMES) {
        const batch = [];
        for (let c = 0; c < PARALLEL && sent < FRAMES; c++) {
          const frames = Array.from({ length: FRAMES_PER_CONNECTION }, () => mutate(random, captured));
          sent += frames.length;
          batch.push(throwAt(port, frames));
        }
        for (const r of await Promise.all(batch)) {
          if (r.closed) closed++;
          answered += r.answers;
        }
        if (cluster.brokers[0]!.child?.exitCode !== null) throw new Error(`the broker exited after ${sent} frames`);
      }
    } catch (err) {
      throw new Error(`seed ${SEED}: ${(err as Error).message}\n${cluster.brokers[0]!.output.slice(-3000)}`);
    }
    console.log(`fuzz seed ${SEED}: ${sent} frames, ${closed} connections closed by the broker, ${answered} answers`);
    // Most connections were closed on a bad frame; some requests were still answered.
    expect(closed).toBeGreaterThan(0);
    expect(answered).toBeGreaterThan(0);

    expect(cluster.brokers[0]!.child?.exitCode).toBe(null);
    const raw = await RawKafkaConnection.connect(port);
    const r = await raw.request<{ errorCode: number }>(18, 3, 1, { clientSoftwareName: 'after-fuzz', clientSoftwareVersion: '1' });
    raw.close();
    expect(r.errorCode).toBe(0);
    await roundTrip(capturingKafka('fuzz-after', false), 'after');
    // The gRPC side of the address too, and no topic was made up by a mutated request.
    const topics = (await samsa.admin().describeTopics()).map((t) => t.name).filter((n) => !n.startsWith('__'));
    expect(topics).toEqual(['fuzz']);
    // No handler threw (a throw is a bug the fuzz found: it closes the connection and logs 'kafka request failed').
    expect(cluster.brokers[0]!.output).not.toMatch(/uncaught|unhandled|kafka request failed/i);
  }, 300_000);
});
