/**
 * Test doubles: a fake clock and a small in-memory Samsa cluster that answers the RPCs like a
 * broker would (leaders, leader epochs, offsets, OFFSET_OUT_OF_RANGE, NOT_LEADER_OR_FOLLOWER), and
 * hands out BrokerConnections per address. Hooks let a test fail a call or change the cluster
 * between calls. The same handlers back the in-process gRPC server of the gRPC test.
 */
import {
  ConfigResource,
  ErrorCode,
  decodeRecords,
  iterateBatches,
  lastOffsetOf,
  setBaseOffset,
  setPartitionLeaderEpoch,
  toBigInt,
  validateProducedBatch,
} from '@samsa/protocol';
import type {
  BrokerConnection,
  Clock,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  FetchRequest,
  FetchResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
  RequestOptions,
} from '../src/index.js';
import type {
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse__Output as OffsetForLeaderEpochResponse,
  TransactionDescription__Output as TransactionDescriptionWire,
} from '@samsa/protocol';
import { SamsaConnectionError } from '../src/index.js';

/**
 * Virtual time. A sleep records its length and, on the next macrotask, moves time forward to its
 * end and resolves; one aborted before then (e.g. a poll's timer that lost a race) leaves time alone.
 */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    const end = this.time + ms;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearImmediate(timer);
        reject(signal!.reason);
      };
      const timer = setImmediate(() => {
        signal?.removeEventListener('abort', onAbort);
        this.time = Math.max(this.time, end);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * Virtual time that moves only when the test says so: advance(ms) fires due sleeps in time order,
 * letting the code under test run (microtasks and setImmediate) after each. For linger, backoff
 * and timeout tests, where FakeClock's jump-to-the-end of every sleep would be too eager.
 */
export class ManualClock implements Clock {
  readonly sleeps: number[] = [];
  private timers: { end: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = {
        end: this.time + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }
  /** Lets pending callbacks run without moving time. */
  async settle(rounds = 5): Promise<void> {
    for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
  }
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await this.settle();
    for (;;) {
      const due = this.timers.filter((t) => t.end <= target).sort((a, b) => a.end - b.end || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.end);
      due.resolve();
      await this.settle();
    }
    this.time = target;
    await this.settle();
  }
}

export interface FakeBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  bytes: Buffer;
}

export interface FakePartition {
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  log: FakeBatch[];
  logStartOffset: bigint;
  logEndOffset: bigint;
}

export type Method =
  | 'metadata'
  | 'createTopics'
  | 'deleteTopics'
  | 'createPartitions'
  | 'produce'
  | 'fetch'
  | 'listOffsets'
  | 'offsetForLeaderEpoch'
  | 'incrementalAlterConfigs'
  | 'describeConfigs'
  | 'electLeaders'
  | 'initProducerId'
  | 'listTransactions'
  | 'describeTransactions'
  | 'addPartitionsToTxn'
  | 'addOffsetsToTxn'
  | 'endTxn'
  | 'describeProducers'
  | 'writeTxnMarkers';

/** The topic configs the fake knows, with their defaults. */
export const FAKE_CONFIG_DEFAULTS: Readonly<Record<string, string>> = {
  'cleanup.policy': 'delete',
  'min.insync.replicas': '1',
  'retention.ms': '604800000',
};

export interface Call {
  nodeId: number;
  address: string;
  method: Method;
  request: unknown;
}

/** Returns a response or throws to replace the call; undefined lets the fake broker answer. */
export type Hook = (call: Call) => unknown;

const fetchBytes = (r: FetchResponse): number => r.topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.records.length, 0), 0);

const NO_LEADER = { leaderId: -1, leaderEpoch: -1 };

export class FakeCluster {
  readonly brokers = new Map<number, { host: string; port: number }>();
  readonly topics = new Map<string, FakePartition[]>();
  /** Configs set on each topic (incrementalAlterConfigs). */
  readonly topicConfigs = new Map<string, Record<string, string>>();
  /** Dynamic broker configs by resource name (a broker id, or '' for the cluster-wide default). */
  readonly brokerConfigs = new Map<string, Record<string, string>>();
  readonly calls: Call[] = [];
  readonly hooks: Hook[] = [];
  /** Addresses whose connections fail with a connection error. */
  readonly down = new Set<string>();
  readonly connectionsMade: string[] = [];
  controllerId = 1;
  /** Topic ids Metadata answers with, by name (unset: '' as from a broker that sends none). */
  readonly topicIds = new Map<string, string>();
  /** What a read_committed Fetch answers as aborted transactions, per `topic-partition` (the fake keeps no LSO). */
  readonly abortedTransactions = new Map<string, Array<{ producerId: string; firstOffset: string }>>();
  /** InitProducerId hands out ids from here (no sequence checks: the real broker's are tested there). */
  nextProducerId = 1000;
  /** Per broker: the transactions it coordinates (ListTransactions/DescribeTransactions answer from here). */
  readonly transactions = new Map<number, TransactionDescriptionWire[]>();

  /** When set, a Fetch with no data waits max_wait_ms on it, like a broker's long poll. */
  clock: Clock | undefined;

  constructor(brokerIds: number[] = [1, 2, 3]) {
    for (const id of brokerIds) this.brokers.set(id, { host: `broker${id}`, port: 9092 });
  }

  addressOf(nodeId: number): string {
    const b = this.brokers.get(nodeId)!;
    return `${b.host}:${b.port}`;
  }

  /** Creates a topic with partition p led by leaders[p] (default: round-robin over brokers). */
  createTopic(name: string, partitions: number, leaders?: number[]): void {
    const ids = [...this.brokers.keys()];
    this.topics.set(
      name,
      Array.from({ length: partitions }, (_, p) => {
        const leader = leaders?.[p] ?? ids[p % ids.length]!;
        return { leader, leaderEpoch: 0, replicas: [leader], log: [], logStartOffset: 0n, logEndOffset: 0n };
      }),
    );
  }

  growTopic(name: string, count: number): void {
    const ids = [...this.brokers.keys()];
    const partitions = this.topics.get(name)!;
    for (let p = partitions.length; p < count; p++) {
      const leader = ids[p % ids.length]!;
      partitions.push({ leader, leaderEpoch: 0, replicas: [leader], log: [], logStartOffset: 0n, logEndOffset: 0n });
    }
  }

  moveLeader(topic: string, partition: number, leader: number): void {
    const p = this.topics.get(topic)![partition]!;
    p.leader = leader;
    p.leaderEpoch++;
    p.replicas = [leader];
  }

  callsOf(method: Method): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Adds a one-shot hook that fires on the first call matching `match`. */
  failOnce(match: (call: Call) => boolean, answer: (call: Call) => unknown): void {
    let fired = false;
    this.hooks.push((call) => {
      if (fired || !match(call)) return undefined;
      fired = true;
      return answer(call);
    });
  }

  connectionFactory = (address: string): BrokerConnection => {
    this.connectionsMade.push(address);
    const call = async (method: Method, request: unknown, _options?: RequestOptions): Promise<any> => {
      await Promise.resolve();
      const nodeId = [...this.brokers].find(([id]) => this.addressOf(id) === address)?.[0];
      if (nodeId === undefined || this.down.has(address)) {
        throw new SamsaConnectionError(`${method} to ${address} failed: unreachable`, { address });
      }
      const c: Call = { nodeId, address, method, request };
      this.calls.push(c);
      for (const hook of this.hooks) {
        const answer = hook(c);
        if (answer !== undefined) return answer;
      }
      if (method === 'fetch' && this.clock) {
        const fetchRequest = request as FetchRequest;
        const first = this.fetch(nodeId, fetchRequest);
        if (fetchBytes(first) >= (fetchRequest.minBytes ?? 1) || first.topics.some((t) => t.partitions.some((p) => p.errorCode !== 0)))
          return first;
        await this.clock.sleep(fetchRequest.maxWaitMs ?? 0, _options?.signal);
        return this.fetch(nodeId, fetchRequest);
      }
      return this.handle(nodeId, method, request);
    };
    return {
      address,
      metadata: (r, o) => call('metadata', r, o),
      createTopics: (r, o) => call('createTopics', r, o),
      deleteTopics: (r, o) => call('deleteTopics', r, o),
      createPartitions: (r, o) => call('createPartitions', r, o),
      deleteRecords: () => Promise.reject(new Error('DeleteRecords is not in the fake cluster')),
      alterPartitionReassignments: () => Promise.reject(new Error('AlterPartitionReassignments is not in the fake cluster')),
      listPartitionReassignments: () => Promise.reject(new Error('ListPartitionReassignments is not in the fake cluster')),
      produce: (r, o) => call('produce', r, o),
      fetch: (r, o) => call('fetch', r, o),
      listOffsets: (r, o) => call('listOffsets', r, o),
      offsetForLeaderEpoch: (r, o) => call('offsetForLeaderEpoch', r, o),
      incrementalAlterConfigs: (r, o) => call('incrementalAlterConfigs', r, o),
      describeConfigs: (r, o) => call('describeConfigs', r, o),
      electLeaders: (r, o) => call('electLeaders', r, o),
      initProducerId: (r, o) => call('initProducerId', r, o),
      describeAcls: () => Promise.reject(new Error('describeAcls is not in the fake')),
      createAcls: () => Promise.reject(new Error('createAcls is not in the fake')),
      deleteAcls: () => Promise.reject(new Error('deleteAcls is not in the fake')),
      listTransactions: (r, o) => call('listTransactions', r, o),
      describeTransactions: (r, o) => call('describeTransactions', r, o),
      addPartitionsToTxn: (r, o) => call('addPartitionsToTxn', r, o),
      addOffsetsToTxn: (r, o) => call('addOffsetsToTxn', r, o),
      endTxn: (r, o) => call('endTxn', r, o),
      describeProducers: (r, o) => call('describeProducers', r, o),
      writeTxnMarkers: (r, o) => call('writeTxnMarkers', r, o),
      close: () => {},
    };
  };

  handle(nodeId: number, method: Method, request: unknown): unknown {
    switch (method) {
      case 'metadata':
        return this.metadata(request as MetadataRequest);
      case 'createTopics':
        return this.createTopics(request as CreateTopicsRequest);
      case 'deleteTopics':
        return this.deleteTopics(request as DeleteTopicsRequest);
      case 'createPartitions':
        return this.createPartitions(request as CreatePartitionsRequest);
      case 'produce':
        return this.produce(nodeId, request as ProduceRequest);
      case 'fetch':
        return this.fetch(nodeId, request as FetchRequest);
      case 'listOffsets':
        return this.listOffsets(nodeId, request as ListOffsetsRequest);
      case 'offsetForLeaderEpoch':
        return this.offsetForLeaderEpoch(nodeId, request as OffsetForLeaderEpochRequest);
      case 'incrementalAlterConfigs':
        return this.incrementalAlterConfigs(request as IncrementalAlterConfigsRequest);
      case 'describeConfigs':
        return this.describeConfigs(request as DescribeConfigsRequest);
      case 'electLeaders':
        return this.electLeaders(request as ElectLeadersRequest);
      case 'initProducerId':
        return { errorCode: 0, errorMessage: '', producerId: String(this.nextProducerId++), producerEpoch: 0 };
      // The transactional RPCs answer NONE (tests inject errors with hooks; the coordinator's rules are tested in the broker).
      case 'addPartitionsToTxn':
        return {
          topics: (request as { topics: Array<{ name: string; partitions: number[] }> }).topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((partition) => ({ partition, errorCode: 0, errorMessage: '' })),
          })),
        };
      case 'addOffsetsToTxn':
      case 'endTxn':
        return { errorCode: 0, errorMessage: '' };
      // No transactional producers in the fake: every partition answers an empty list.
      case 'describeProducers':
        return {
          partitions: (request as { topics: Array<{ name: string; partitions: number[] }> }).topics.flatMap((t) =>
            t.partitions.map((partition) => ({ topic: t.name, partition, errorCode: 0, errorMessage: '', activeProducers: [] })),
          ),
        };
      case 'writeTxnMarkers':
        return {
          results: (request as { markers: Array<{ topic: string; partition: number }> }).markers.map((m) => ({
            topic: m.topic,
            partition: m.partition,
            errorCode: 0,
            errorMessage: '',
          })),
        };
      case 'listTransactions':
        return {
          errorCode: 0,
          errorMessage: '',
          unknownStateFilters: [],
          transactions: (this.transactions.get(nodeId) ?? []).map((t) => ({
            transactionalId: t.transactionalId,
            producerId: t.producerId,
            transactionState: t.transactionState,
          })),
        };
      case 'describeTransactions':
        return {
          transactions: (request as { transactionalIds: string[] }).transactionalIds.map(
            (id) =>
              this.transactions.get(nodeId)?.find((t) => t.transactionalId === id) ?? {
                errorCode: ErrorCode.NOT_COORDINATOR,
                errorMessage: `broker ${nodeId} does not coordinate ${id}`,
                transactionalId: id,
                transactionState: '',
                transactionTimeoutMs: 0,
                transactionStartTimeMs: '-1',
                producerId: '-1',
                producerEpoch: -1,
                topicPartitions: [],
              },
          ),
        };
    }
  }

  /** Every fake partition has one replica, which leads: an election is never needed (unknown partitions say so). */
  electLeaders(request: ElectLeadersRequest): ElectLeadersResponse {
    return {
      ...NO_LEADER,
      errorCode: 0,
      errorMessage: '',
      results: (request.topicPartitions ?? []).map((t) => ({
        topic: t.topic!,
        partitions: (t.partitions ?? []).map((partition) =>
          this.topics.get(t.topic!)?.[partition] === undefined
            ? { partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `${t.topic}-${partition} does not exist` }
            : { partition, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'the preferred replica already leads' },
        ),
      })),
    };
  }

  incrementalAlterConfigs(request: IncrementalAlterConfigsRequest): IncrementalAlterConfigsResponse {
    return {
      ...NO_LEADER,
      responses: (request.resources ?? []).map((r) => {
        const answer = (errorCode: number, errorMessage = '') => ({
          resourceType: r.resourceType!,
          resourceName: r.resourceName!,
          errorCode,
          errorMessage,
        });
        if (r.resourceType === ConfigResource.BROKER) {
          const bad = (r.configs ?? []).find((c) => c.name!.startsWith('bad.'));
          if (bad) return answer(ErrorCode.INVALID_CONFIG, `unknown broker config '${bad.name}'`);
          if (!request.validateOnly) {
            const configs = { ...this.brokerConfigs.get(r.resourceName!) };
            for (const c of r.configs ?? []) {
              if (c.configOperation === 0) configs[c.name!] = c.value!;
              else delete configs[c.name!];
            }
            this.brokerConfigs.set(r.resourceName!, configs);
          }
          return answer(0);
        }
        if (!this.topics.has(r.resourceName!))
          return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${r.resourceName}' does not exist`);
        const unknown = (r.configs ?? []).find((c) => !Object.hasOwn(FAKE_CONFIG_DEFAULTS, c.name!));
        if (unknown) return answer(ErrorCode.INVALID_CONFIG, `unknown topic config '${unknown.name}'`);
        if (!request.validateOnly) {
          const configs = { ...this.topicConfigs.get(r.resourceName!) };
          for (const c of r.configs ?? []) {
            if (c.configOperation === 0) configs[c.name!] = c.value!;
            else delete configs[c.name!];
          }
          this.topicConfigs.set(r.resourceName!, configs);
        }
        return answer(0);
      }),
    };
  }

  describeConfigs(request: DescribeConfigsRequest): DescribeConfigsResponse {
    return {
      results: (request.resources ?? []).map((r) => {
        const base = { resourceType: r.resourceType!, resourceName: r.resourceName!, errorMessage: '' };
        if (r.resourceType === ConfigResource.BROKER) {
          const own = this.brokerConfigs.get(r.resourceName!) ?? {};
          const source = r.resourceName === '' ? 3 : 2;
          return {
            ...base,
            errorCode: 0,
            configs: Object.keys(own)
              .reverse()
              .map((name) => ({
                name,
                value: own[name]!,
                readOnly: false,
                configSource: source,
                isSensitive: false,
                synonyms: [{ name, value: own[name]!, source }],
              })),
          };
        }
        if (!this.topics.has(r.resourceName!)) {
          return {
            ...base,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `topic '${r.resourceName}' does not exist`,
            configs: [],
          };
        }
        const set = this.topicConfigs.get(r.resourceName!) ?? {};
        return {
          ...base,
          errorCode: 0,
          // Unsorted on purpose: the client sorts.
          configs: Object.keys(FAKE_CONFIG_DEFAULTS)
            .reverse()
            .map((name) => {
              const defaultSynonym = { name, value: FAKE_CONFIG_DEFAULTS[name]!, source: 5 };
              const explicit = set[name];
              return explicit === undefined
                ? {
                    name,
                    value: FAKE_CONFIG_DEFAULTS[name]!,
                    readOnly: false,
                    configSource: 5,
                    isSensitive: false,
                    synonyms: [defaultSynonym],
                  }
                : {
                    name,
                    value: explicit,
                    readOnly: false,
                    configSource: 1,
                    isSensitive: false,
                    synonyms: [{ name, value: explicit, source: 1 }, defaultSynonym],
                  };
            }),
        };
      }),
    };
  }

  metadata(request: MetadataRequest): MetadataResponse {
    const names = request.allTopics ? [...this.topics.keys()] : (request.topics ?? []);
    return {
      clusterId: 'fake-cluster',
      controllerId: this.controllerId,
      brokers: [...this.brokers].map(([nodeId, b]) => ({ nodeId, host: b.host, port: b.port, rack: '' })),
      topics: names.map((name) => {
        const partitions = this.topics.get(name);
        if (!partitions) {
          return {
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `unknown topic ${name}`,
            name,
            topicId: '',
            isInternal: false,
            partitions: [],
            configs: {} as Record<string, string>,
          };
        }
        return {
          errorCode: 0,
          errorMessage: '',
          name,
          topicId: this.topicIds.get(name) ?? '',
          isInternal: false,
          configs: { 'retention.ms': '604800000' },
          partitions: partitions.map((p, i) => ({
            errorCode: 0,
            errorMessage: '',
            partition: i,
            leaderId: p.leader,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicas,
            isr: p.replicas,
            offlineReplicas: [],
          })),
        };
      }),
    };
  }

  createTopics(request: CreateTopicsRequest): CreateTopicsResponse {
    return {
      ...NO_LEADER,
      topics: (request.topics ?? []).map((t) => {
        const name = t.name!;
        const base = { name, numPartitions: 0, replicationFactor: 0, configs: {} };
        if (this.topics.has(name))
          return { ...base, errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.` };
        if (!/^[a-zA-Z0-9._-]+$/.test(name))
          return { ...base, errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: `bad name ${name}` };
        const n = t.numPartitions === -1 ? 1 : t.numPartitions!;
        if (n < 1) return { ...base, errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'Number of partitions must be larger than 0.' };
        if (!request.validateOnly) this.createTopic(name, n);
        return { ...base, errorCode: 0, errorMessage: '', numPartitions: n, replicationFactor: 1, configs: { ...t.configs } };
      }),
    };
  }

  /** Grows a topic (new partitions led by the first node); refuses a count that is not larger. */
  createPartitions(request: CreatePartitionsRequest): CreatePartitionsResponse {
    return {
      results: (request.topics ?? []).map((t) => {
        const name = t.name!;
        const partitions = this.topics.get(name);
        if (!partitions) return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'unknown' };
        if (t.count! <= partitions.length) {
          return {
            name,
            errorCode: ErrorCode.INVALID_PARTITIONS,
            errorMessage: `topic '${name}' has ${partitions.length} partitions, which is more than the requested ${t.count}`,
          };
        }
        if (!request.validateOnly) this.growTopic(name, t.count!);
        return { name, errorCode: 0, errorMessage: '' };
      }),
      leaderId: 0,
      leaderEpoch: 0,
    };
  }

  deleteTopics(request: DeleteTopicsRequest): DeleteTopicsResponse {
    return {
      ...NO_LEADER,
      topics: (request.names ?? []).map((name) => {
        if (!this.topics.delete(name)) return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'unknown' };
        return { name, errorCode: 0, errorMessage: '' };
      }),
    };
  }

  /** The broker's Partition.checkLeader: a current leader epoch (>= 0) must be this partition's own. */
  private partitionError(nodeId: number, topic: string, partition: number, currentLeaderEpoch = -1): number {
    const p = this.topics.get(topic)?.[partition];
    if (!p) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < p.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
    if (currentLeaderEpoch > p.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
    if (p.leader !== nodeId) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    return 0;
  }

  private leaderHint(topic: string, partition: number) {
    const p = this.topics.get(topic)?.[partition];
    return p ? { leaderId: p.leader, leaderEpoch: p.leaderEpoch } : NO_LEADER;
  }

  produce(nodeId: number, request: ProduceRequest): ProduceResponse {
    return {
      throttleTimeMs: 0,
      topics: (request.topics ?? []).map((t) => ({
        name: t.name!,
        partitions: (t.partitions ?? []).map((pd) => {
          const partition = pd.partition!;
          const base = {
            partition,
            baseOffset: '-1',
            logAppendTimeMs: '-1',
            logStartOffset: '-1',
            errorMessage: '',
            currentLeader: this.leaderHint(t.name!, partition),
          };
          const error = this.partitionError(nodeId, t.name!, partition);
          if (error)
            return {
              ...base,
              errorCode: error,
              errorMessage: ErrorCode.NOT_LEADER_OR_FOLLOWER === error ? `broker ${nodeId} is not the leader` : 'unknown',
            };
          const p = this.topics.get(t.name!)![partition]!;
          const bytes = Buffer.from(pd.records as Buffer);
          const header = validateProducedBatch(bytes);
          const baseOffset = p.logEndOffset;
          setBaseOffset(bytes, 0, baseOffset);
          setPartitionLeaderEpoch(bytes, 0, p.leaderEpoch);
          p.log.push({ baseOffset, lastOffset: baseOffset + BigInt(header.lastOffsetDelta), bytes });
          p.logEndOffset = baseOffset + BigInt(header.recordCount);
          return { ...base, errorCode: 0, baseOffset: baseOffset.toString(), logStartOffset: p.logStartOffset.toString() };
        }),
      })),
    };
  }

  fetch(nodeId: number, request: FetchRequest): FetchResponse {
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: '',
      topics: (request.topics ?? []).map((t) => ({
        name: t.name!,
        partitions: (t.partitions ?? []).map((fp) => {
          const partition = fp.partition!;
          const empty = {
            partition,
            highWatermark: '-1',
            lastStableOffset: '-1',
            abortedTransactions: [],
            logStartOffset: '-1',
            records: Buffer.alloc(0),
            errorMessage: '',
            currentLeader: this.leaderHint(t.name!, partition),
          };
          const error = this.partitionError(nodeId, t.name!, partition, fp.currentLeaderEpoch ?? -1);
          if (error) return { ...empty, errorCode: error };
          const p = this.topics.get(t.name!)![partition]!;
          const offset = toBigInt(fp.fetchOffset as string);
          const meta = {
            highWatermark: p.logEndOffset.toString(),
            lastStableOffset: p.logEndOffset.toString(),
            logStartOffset: p.logStartOffset.toString(),
          };
          if (offset < p.logStartOffset || offset > p.logEndOffset)
            return { ...empty, ...meta, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, errorMessage: `offset ${offset} out of range` };
          const chunks: Buffer[] = [];
          let size = 0;
          for (const b of p.log) {
            if (b.lastOffset < offset) continue;
            if (chunks.length > 0 && size + b.bytes.length > (fp.partitionMaxBytes ?? Infinity)) break;
            chunks.push(b.bytes);
            size += b.bytes.length;
          }
          const aborted = request.isolationLevel === 1 ? (this.abortedTransactions.get(`${t.name!}-${partition}`) ?? []) : [];
          return { ...empty, ...meta, errorCode: 0, records: Buffer.concat(chunks), abortedTransactions: aborted };
        }),
      })),
    };
  }

  listOffsets(nodeId: number, request: ListOffsetsRequest): ListOffsetsResponse {
    return {
      topics: (request.topics ?? []).map((t) => ({
        name: t.name!,
        partitions: (t.partitions ?? []).map((lp) => {
          const partition = lp.partition!;
          const base = {
            partition,
            errorMessage: '',
            timestamp: '-1',
            offset: '-1',
            leaderEpoch: -1,
            currentLeader: this.leaderHint(t.name!, partition),
          };
          const error = this.partitionError(nodeId, t.name!, partition, lp.currentLeaderEpoch ?? -1);
          if (error) return { ...base, errorCode: error };
          const p = this.topics.get(t.name!)![partition]!;
          const ts = toBigInt(lp.timestamp as string);
          let offset = -1n;
          let timestamp = -1n;
          if (ts === -1n) offset = p.logEndOffset;
          else if (ts === -2n) offset = p.logStartOffset;
          else if (ts === -3n) {
            // KIP-734: the first record carrying the largest timestamp.
            for (const b of p.log)
              for (const r of decodeRecords(b.bytes))
                if (r.timestamp > timestamp) {
                  timestamp = r.timestamp;
                  offset = r.offset;
                }
          } else {
            for (const b of p.log) {
              const hit = decodeRecords(b.bytes).find((r) => r.timestamp >= ts);
              if (hit) {
                offset = hit.offset;
                timestamp = hit.timestamp;
                break;
              }
            }
          }
          return { ...base, errorCode: 0, offset: offset.toString(), timestamp: timestamp.toString(), leaderEpoch: p.leaderEpoch };
        }),
      })),
    };
  }

  /** All records stored in a partition, decoded. */
  records(topic: string, partition: number) {
    const p = this.topics.get(topic)![partition]!;
    return p.log.flatMap((b) => decodeRecords(b.bytes));
  }

  /** Drops every batch at or after `offset` (a batch boundary), as an unclean election loses acks=1 writes. */
  truncate(topic: string, partition: number, offset: bigint): void {
    const p = this.topics.get(topic)![partition]!;
    p.log = p.log.filter((b) => b.baseOffset < offset);
    p.logEndOffset = offset;
  }

  /**
   * KIP-320 as a leader answers it: the largest epoch <= the requested one among the log's batches
   * (the current epoch counts even without batches) and where it ends: the start of the next epoch, or the log end.
   */
  offsetForLeaderEpoch(nodeId: number, request: OffsetForLeaderEpochRequest): OffsetForLeaderEpochResponse {
    return {
      topics: (request.topics ?? []).map((t) => ({
        name: t.name!,
        partitions: (t.partitions ?? []).map((op) => {
          const partition = op.partition!;
          const base = { partition, errorMessage: '', leaderEpoch: -1, endOffset: '-1' };
          const error = this.partitionError(nodeId, t.name!, partition);
          if (error) return { ...base, errorCode: error };
          const p = this.topics.get(t.name!)![partition]!;
          const current = op.currentLeaderEpoch ?? -1;
          if (current >= 0 && current < p.leaderEpoch) return { ...base, errorCode: ErrorCode.FENCED_LEADER_EPOCH };
          if (current > p.leaderEpoch) return { ...base, errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH };
          const asked = op.leaderEpoch ?? -1;
          if (asked === p.leaderEpoch) return { ...base, errorCode: 0, leaderEpoch: asked, endOffset: p.logEndOffset.toString() };
          const starts: Array<{ epoch: number; start: bigint }> = [];
          for (const b of p.log) {
            const epoch = b.bytes.readInt32BE(12);
            if (starts.length === 0 || starts[starts.length - 1]!.epoch !== epoch) starts.push({ epoch, start: b.baseOffset });
          }
          let k = -1;
          while (k + 1 < starts.length && starts[k + 1]!.epoch <= asked) k++;
          if (k < 0) return { ...base, errorCode: 0 };
          const end = starts[k + 1]?.start ?? p.logEndOffset;
          return { ...base, errorCode: 0, leaderEpoch: starts[k]!.epoch, endOffset: end.toString() };
        }),
      })),
    };
  }

  /** Appends pre-built batch bytes as if produced (for consumer tests). */
  append(topic: string, partition: number, batch: Buffer): bigint {
    const p = this.topics.get(topic)![partition]!;
    const bytes = Buffer.from(batch);
    const { header } = iterateBatches(bytes).next().value!;
    setBaseOffset(bytes, 0, p.logEndOffset);
    setPartitionLeaderEpoch(bytes, 0, p.leaderEpoch);
    const baseOffset = p.logEndOffset;
    p.log.push({ baseOffset, lastOffset: lastOffsetOf({ ...header, baseOffset }), bytes });
    p.logEndOffset = baseOffset + BigInt(header.lastOffsetDelta) + 1n;
    return baseOffset;
  }
}
