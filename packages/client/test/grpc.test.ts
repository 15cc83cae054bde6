/**
 * The real connection layer against an in-process gRPC server that implements samsa.v1.Samsa with
 * the fake cluster's handlers: bootstrap past a dead seed, admin, produce, consume, deadlines,
 * cancellation and transport error mapping.
 */
import { clientProto, grpc } from '@samsa/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '@samsa/testkit';
import { GrpcConnection, Samsa, SamsaConnectionError, TopicAlreadyExistsError, serdes } from '../src/index.js';
import { FakeCluster } from './fakes.js';
import type { Method } from './fakes.js';

const METHODS: Record<string, Method> = {
  Metadata: 'metadata',
  CreateTopics: 'createTopics',
  DeleteTopics: 'deleteTopics',
  Produce: 'produce',
  Fetch: 'fetch',
  ListOffsets: 'listOffsets',
  IncrementalAlterConfigs: 'incrementalAlterConfigs',
  DescribeConfigs: 'describeConfigs',
  InitProducerId: 'initProducerId',
};

let server: grpc.Server;
let address: string;
let deadAddress: string;
const fake = new FakeCluster([1]);
/** Metadata calls hang (never answered) while set. */
let hangMetadata = false;
/** Fetches the fake broker holds open right now (waiting for data, max_wait or a cancel). */
let longPolls = 0;

beforeAll(async () => {
  server = new grpc.Server();
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [rpc, method] of Object.entries(METHODS)) {
    handlers[rpc] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (method === 'metadata' && hangMetadata) return;
      void (async () => {
        let response = fake.handle(1, method, call.request) as { topics?: { partitions: { records?: Buffer }[] }[] };
        if (method === 'fetch') {
          // A small long poll: wait for data up to max_wait_ms, unless the client cancels.
          const request = call.request as { maxWaitMs: number };
          const deadline = Date.now() + request.maxWaitMs;
          longPolls++;
          while (
            !response.topics!.some((t) => t.partitions.some((p) => p.records!.length > 0)) &&
            Date.now() < deadline &&
            !call.cancelled
          ) {
            await new Promise((r) => setTimeout(r, 10));
            response = fake.handle(1, method, call.request) as typeof response;
          }
          longPolls--;
        }
        callback(null, response);
      })().catch((error: Error) => callback({ code: grpc.status.INTERNAL, details: error.message }));
    };
  }
  server.addService(clientProto().samsa.v1.Samsa.service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
  fake.brokers.set(1, { host: '127.0.0.1', port });
  deadAddress = `127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

describe('gRPC connection layer', () => {
  it('bootstraps past a dead seed, then creates, produces and consumes over gRPC', async () => {
    const samsa = new Samsa({
      brokers: [deadAddress, address],
      clientId: 'grpc-test',
      requestTimeoutMs: 5_000,
      retry: { retries: 3, initialRetryTimeMs: 20 },
    });
    try {
      const admin = samsa.admin();
      expect(await admin.createTopics([{ topic: 'g', numPartitions: 2 }])).toEqual([
        { topic: 'g', numPartitions: 2, replicationFactor: 1, configs: {} },
      ]);
      await expect(admin.createTopics([{ topic: 'g' }])).rejects.toBeInstanceOf(TopicAlreadyExistsError);
      expect((await admin.describeCluster()).brokers.map((b) => b.address)).toEqual([address]);

      const producer = samsa.producer({ key: serdes.string, value: serdes.json<{ n: number }>() });
      const sent = await producer.send({
        topic: 'g',
        messages: [1, 2, 3].map((n) => ({ key: `k${n}`, value: { n }, headers: { h: 'v' } })),
      });
      expect(sent.every((r) => r.offset >= 0n)).toBe(true);
      const batch = await producer.sendBatch({
        topic: 'g',
        partition: 1,
        messages: Array.from({ length: 100 }, (_, i) => ({ key: null, value: { n: 100 + i } })),
      });
      expect(batch.count).toBe(100);

      const consumer = samsa.consumer({
        key: serdes.string,
        value: serdes.json<{ n: number }>(),
        autoOffsetReset: 'earliest',
        maxWaitMs: 200,
      });
      consumer.assign([
        { topic: 'g', partition: 0 },
        { topic: 'g', partition: 1 },
      ]);
      const got: number[] = [];
      for (let i = 0; i < 50 && got.length < 103; i++) got.push(...(await consumer.poll()).map((r) => r.value!.n));
      expect(got.sort((a, b) => a - b)).toEqual([1, 2, 3, ...Array.from({ length: 100 }, (_, i) => 100 + i)]);
      const offsets = await admin.listOffsets('g', [{ partition: 1, timestamp: 'latest' }]);
      expect(offsets[0]!.offset).toBe(consumer.position({ topic: 'g', partition: 1 }));

      // close() cancels a long poll in flight instead of waiting it out: the poll's max_wait is
      // far beyond the test's timeout, and the broker sees the call cancelled.
      const polling = consumer.poll({ maxWaitMs: 600_000 });
      await waitFor('the long poll to reach the broker', () => longPolls === 1, 10_000);
      await consumer.close();
      expect(await polling).toEqual([]);
      await waitFor('the broker to see the long poll cancelled', () => longPolls === 0, 10_000);
    } finally {
      await samsa.close();
    }
  });

  it('alters and describes topic configs over gRPC', async () => {
    const samsa = new Samsa({ brokers: [address], requestTimeoutMs: 5_000, retry: { retries: 1, initialRetryTimeMs: 20 } });
    try {
      const admin = samsa.admin();
      await admin.createTopics([{ topic: 'cfg' }]);
      await admin.incrementalAlterConfigs([{ topic: 'cfg', set: { 'retention.ms': '1000' } }]);
      const [described] = await admin.describeConfigs(['cfg']);
      expect(described!.configs.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '1000', source: 'topic', readOnly: false });
    } finally {
      await samsa.close();
    }
  });

  it('maps an unreachable broker to a retriable NETWORK_EXCEPTION with the gRPC error as cause', async () => {
    const connection = new GrpcConnection(deadAddress, { requestTimeoutMs: 2_000 });
    try {
      const error = await connection.metadata({ topics: [], allTopics: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SamsaConnectionError);
      expect(error).toMatchObject({
        errorName: 'NETWORK_EXCEPTION',
        retriable: true,
        address: deadAddress,
        grpcCode: grpc.status.UNAVAILABLE,
      });
      expect((error as Error).cause).toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      connection.close();
    }
  });

  it('maps a passed deadline to REQUEST_TIMED_OUT, and reuses one channel per address', async () => {
    const connection = new GrpcConnection(address, { requestTimeoutMs: 5_000 });
    try {
      await connection.metadata({ topics: [], allTopics: false });
      hangMetadata = true;
      const error = await connection.metadata({ topics: [], allTopics: false }, { timeoutMs: 150 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SamsaConnectionError);
      expect(error).toMatchObject({ errorName: 'REQUEST_TIMED_OUT', grpcCode: grpc.status.DEADLINE_EXCEEDED });

      const aborter = new AbortController();
      const pending = connection.metadata({ topics: [], allTopics: false }, { signal: aborter.signal });
      aborter.abort(new Error('stop'));
      await expect(pending).rejects.toThrow('stop');
    } finally {
      hangMetadata = false;
      connection.close();
    }
  });
});
