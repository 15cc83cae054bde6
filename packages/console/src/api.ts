/**
 * The console's backend: each endpoint asks the cluster through @samsa/client's Admin, Producer
 * and Consumer (as Kafka's AdminClient-based consoles do), the quorum through DescribeQuorum, and
 * the nodes' `/metrics`. Answers are plain JSON (int64 offsets as strings). Overview and metrics
 * are cached for a short time so that many open browsers cost the cluster one request per second.
 */
import { Samsa, type Admin, type Consumer, type ConsumerRecord, type Producer, type TopicDescription } from '@samsa/client';
import { CHANNEL_OPTIONS, ErrorCode, clientProto, grpc, partitionsByTopic, type DescribeQuorumResponse__Output } from '@samsa/protocol';
import { EcosystemApi, type EcosystemOptions } from './ecosystem.js';
import { ConsoleError, badRequest } from './errors.js';
import {
  bytesView,
  overview,
  pagePartitions,
  pageTopics,
  parsePageQuery,
  parsePartitionQuery,
  parseResetScenario,
  resetTarget,
  sortsByOffsets,
  topicRow,
  type BytesView,
  type OverviewView,
  type PartitionRow,
} from './model.js';
import { metricsBetween, parsePrometheusText, type MetricsPoint, type Scrape } from './promText.js';

/**
 * What the topic list, the overview and the partition table read (Metadata and ListOffsets).
 * The client's Admin by default; a unit test gives a fake with 1,000 topics and 10,000 partitions.
 */
export type MetadataSource = Pick<Admin, 'describeTopics' | 'listOffsets'>;

export interface ConsoleApiOptions extends EcosystemOptions {
  bootstrap: string[];
  /** Replaces the Admin's describeTopics and listOffsets for the topic views (tests). */
  metadata?: MetadataSource;
  /** host:port of each node's metrics listener (`/metrics`). */
  metrics?: string[];
  /** Per cluster request. Default 3 s. */
  requestTimeoutMs?: number;
  /** How long an overview or metrics answer is reused. Default 500 ms. */
  cacheMs?: number;
  now?: () => number;
}

export interface QuorumView {
  leaderId: number;
  leaderEpoch: number;
  highWatermark: string;
  voters: Array<{ id: number; logEndOffset: string; lag: string }>;
}

export interface RecordView {
  partition: number;
  offset: string;
  timestamp: string;
  key: BytesView | null;
  value: BytesView | null;
  headers: Array<{ key: string; value: BytesView | null }>;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const METRICS_HISTORY = 300;
const MAX_SCAN = 5_000;

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw badRequest(`${what} must be a string`);
  return v;
}

export class ConsoleApi {
  readonly samsa: Samsa;
  /** The schema registry and Connect views (their own REST APIs). */
  readonly ecosystem: EcosystemApi;
  private readonly admin: Admin;
  private readonly metadata: MetadataSource;
  private readonly known = new Map<number, string>();
  private readonly now: () => number;
  private readonly cacheMs: number;
  private overviewCache: { at: number; value: Promise<OverviewView & { quorum: QuorumView | null }> } | undefined;
  private topicsCache: { at: number; value: Promise<TopicDescription[]> } | undefined;
  private lastScrape: Scrape | undefined;
  private scraping: Promise<void> | undefined;
  private readonly history: MetricsPoint[] = [];
  // One producer and one browsing consumer for the server's life (the client keeps every one it
  // made until close); browses take turns on the consumer.
  private producer: Producer<Buffer | null, Buffer | null> | undefined;
  private browser: Consumer<Buffer | null, Buffer | null> | undefined;
  private browseQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ConsoleApiOptions) {
    this.now = opts.now ?? Date.now;
    this.cacheMs = opts.cacheMs ?? 500;
    this.samsa = new Samsa({
      brokers: opts.bootstrap,
      clientId: 'samsa-console',
      requestTimeoutMs: opts.requestTimeoutMs ?? 3_000,
      metadataMaxAgeMs: 1_000,
      retry: { retries: 2, initialRetryTimeMs: 50, maxRetryTimeMs: 300 },
    });
    this.admin = this.samsa.admin();
    this.metadata = opts.metadata ?? this.admin;
    this.ecosystem = new EcosystemApi(opts);
  }

  async close(): Promise<void> {
    await this.samsa.close();
  }

  overview(): Promise<OverviewView & { quorum: QuorumView | null }> {
    const at = this.now();
    if (this.overviewCache && at - this.overviewCache.at < this.cacheMs) return this.overviewCache.value;
    const value = (async () => {
      const quorum = this.describeQuorum();
      const cluster = await this.admin.describeCluster();
      const topics = await this.allTopics();
      return { ...overview(cluster, topics, this.known), quorum: await quorum };
    })();
    // A failure is not cached: the next poll asks again.
    value.catch(() => {
      if (this.overviewCache?.value === value) this.overviewCache = undefined;
    });
    this.overviewCache = { at, value };
    return value;
  }

  /** Every topic's metadata, shared by the overview and the topics list for cacheMs. */
  private allTopics(): Promise<TopicDescription[]> {
    const at = this.now();
    if (this.topicsCache && at - this.topicsCache.at < this.cacheMs) return this.topicsCache.value;
    const value = this.metadata.describeTopics();
    value.catch(() => {
      if (this.topicsCache?.value === value) this.topicsCache = undefined;
    });
    this.topicsCache = { at, value };
    return value;
  }

  private invalidate(): void {
    this.overviewCache = undefined;
    this.topicsCache = undefined;
  }

  private async describeQuorum(): Promise<QuorumView | null> {
    for (const address of this.opts.bootstrap) {
      const client = new (clientProto().samsa.v1.Samsa)(
        address,
        grpc.credentials.createInsecure(),
        CHANNEL_OPTIONS,
      ) as unknown as grpc.Client & {
        DescribeQuorum(
          req: object,
          o: grpc.CallOptions,
          cb: (e: grpc.ServiceError | null, r?: DescribeQuorumResponse__Output) => void,
        ): void;
      };
      try {
        const res = await new Promise<DescribeQuorumResponse__Output>((resolve, reject) =>
          client.DescribeQuorum({}, { deadline: this.now() + 1_000 }, (e, r) => (e ? reject(e) : resolve(r!))),
        );
        if (res.errorCode !== 0) continue;
        return {
          leaderId: res.leaderId,
          leaderEpoch: Number(res.leaderEpoch),
          highWatermark: String(res.highWatermark),
          voters: res.voters.map((v) => ({ id: v.voterId, logEndOffset: String(v.logEndOffset), lag: String(v.lag) })),
        };
      } catch {
        // the next bootstrap broker
      } finally {
        client.close();
      }
    }
    return null;
  }

  async topics(query: URLSearchParams) {
    const q = parsePageQuery(query);
    const topics = await this.allTopics();
    return pageTopics(topics.map(topicRow), q);
  }

  async createTopic(body: Record<string, unknown>) {
    const name = str(body['name'], 'name');
    if (!TOPIC_NAME.test(name))
      throw badRequest(`topic name '${name}' is invalid: use 1 to 249 of a-z A-Z 0-9 . _ -`, ErrorCode.INVALID_TOPIC_EXCEPTION);
    const int = (k: string) => {
      const v = body[k];
      if (v === undefined || v === null || v === '') return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw badRequest(
          `${k} must be a positive integer, got '${String(v)}'`,
          k === 'partitions' ? ErrorCode.INVALID_PARTITIONS : ErrorCode.INVALID_REPLICATION_FACTOR,
        );
      return n;
    };
    const configs = this.configMap(body['configs']);
    const numPartitions = int('partitions');
    const replicationFactor = int('replicationFactor');
    const [created] = await this.admin.createTopics([
      {
        topic: name,
        configs,
        ...(numPartitions === undefined ? {} : { numPartitions }),
        ...(replicationFactor === undefined ? {} : { replicationFactor }),
      },
    ]);
    this.invalidate();
    return created;
  }

  private configMap(v: unknown): Record<string, string> {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v))
      throw badRequest('configs must be an object of config name to value', ErrorCode.INVALID_CONFIG);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean')
        throw badRequest(`config ${k}: the value must be a string`, ErrorCode.INVALID_CONFIG);
      out[k] = String(val);
    }
    return out;
  }

  async deleteTopic(name: string) {
    await this.admin.deleteTopics([name]);
    this.invalidate();
    return { deleted: name };
  }

  /**
   * A topic's partition table, filtered, sorted and paged on the server (parsePartitionQuery).
   * Without page/pageSize/size every matching partition is answered (for API callers that want
   * the whole table; the web page always asks for one page). Offsets are asked only for the answered partitions unless the sort is by an offset.
   */
  async topic(name: string, query: URLSearchParams = new URLSearchParams()) {
    const q = parsePartitionQuery(query); // bad input is refused before the cluster is asked
    const [t] = await this.metadata.describeTopics([name]);
    const rows: PartitionRow[] = t!.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicas: p.replicas,
      isr: p.isr,
      offlineReplicas: p.offlineReplicas,
      logStartOffset: null,
      highWatermark: null,
    }));
    const byOffsets = sortsByOffsets(q);
    if (byOffsets) await this.fillOffsets(name, rows);
    const page = pagePartitions(rows, q);
    if (!byOffsets) await this.fillOffsets(name, page.partitions);
    return { name: t!.name, internal: t!.isInternal, partitionCount: rows.length, ...page };
  }

  /** Log start and high watermark of `rows` (in place); left null when the leaders do not answer. */
  private async fillOffsets(topic: string, rows: PartitionRow[]): Promise<void> {
    if (rows.length === 0) return;
    const offsets = async (spec: 'earliest' | 'latest') => {
      try {
        return await this.metadata.listOffsets(
          topic,
          rows.map((r) => ({ partition: r.partition, timestamp: spec })),
        );
      } catch {
        return undefined; // an offline partition: shown as unknown
      }
    };
    const [earliest, latest] = await Promise.all([offsets('earliest'), offsets('latest')]);
    rows.forEach((r, i) => {
      r.logStartOffset = earliest?.[i]?.offset.toString() ?? null;
      r.highWatermark = latest?.[i]?.offset.toString() ?? null;
    });
  }

  async configs(name: string) {
    const [d] = await this.admin.describeConfigs([name]);
    return { topic: name, configs: d!.configs };
  }

  async alterConfigs(name: string, body: Record<string, unknown>) {
    const set = this.configMap(body['set']);
    const del = body['delete'] ?? [];
    if (!Array.isArray(del) || !del.every((d) => typeof d === 'string'))
      throw badRequest('delete must be a list of config names', ErrorCode.INVALID_CONFIG);
    const validateOnly = body['validateOnly'] === true;
    await this.admin.incrementalAlterConfigs([{ topic: name, set, delete: del }], { validateOnly });
    return this.configs(name);
  }

  addPartitions(name: string): never {
    throw new ConsoleError(
      501,
      ErrorCode.UNSUPPORTED_VERSION,
      `adding partitions to '${name}' is not available: the cluster has no CreatePartitions API yet`,
    );
  }

  /**
   * A page of records from one partition: from an offset, a time, or the newest `limit`; `filter`
   * keeps records whose key, value or a header contains it (scanning at most 5,000 records).
   */
  async messages(topic: string, q: URLSearchParams) {
    const [t] = await this.admin.describeTopics([topic]);
    const partition = Number(q.get('partition') ?? '0');
    if (!Number.isInteger(partition) || !t!.partitions.some((p) => p.partition === partition)) {
      throw new ConsoleError(404, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' has no partition ${q.get('partition')}`);
    }
    const limit = Number(q.get('limit') ?? '50');
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw badRequest(`limit must be an integer from 1 to 500, got '${q.get('limit')}'`);
    const filter = q.get('filter') ?? '';
    const [lo] = await this.admin.listOffsets(topic, [{ partition, timestamp: 'earliest' }]);
    const [hi] = await this.admin.listOffsets(topic, [{ partition, timestamp: 'latest' }]);
    const logStart = lo!.offset;
    const highWatermark = hi!.offset;
    const from = q.get('from') ?? 'newest';
    let start: bigint;
    if (from === 'newest') {
      start = highWatermark - BigInt(limit);
    } else if (from === 'earliest') {
      start = logStart;
    } else if (from === 'offset') {
      const raw = q.get('offset') ?? '';
      if (!/^\d+$/.test(raw)) throw badRequest(`offset must be a non-negative integer, got '${raw}'`);
      start = BigInt(raw);
    } else if (from === 'timestamp') {
      const raw = q.get('timestamp') ?? '';
      const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
      if (Number.isNaN(ms) || ms < 0) throw badRequest(`timestamp must be ms since the epoch or an ISO 8601 time, got '${raw}'`);
      const [at] = await this.admin.listOffsets(topic, [{ partition, timestamp: BigInt(ms) }]);
      start = at!.offset >= 0n ? at!.offset : highWatermark;
    } else {
      throw badRequest(`from must be one of newest, earliest, offset, timestamp, got '${from}'`);
    }
    if (start < logStart) start = logStart;
    if (start > highWatermark) start = highWatermark;

    const page =
      start < highWatermark
        ? await this.inTurn(() => this.browse(topic, partition, start, highWatermark, limit, filter))
        : { records: [] as RecordView[], next: start, scanned: 0 };
    const { records, next, scanned } = page;
    return {
      topic,
      partition,
      logStartOffset: logStart.toString(),
      highWatermark: highWatermark.toString(),
      start: start.toString(),
      nextOffset: next.toString(),
      scanned,
      records,
    };
  }

  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.browseQueue.then(fn);
    this.browseQueue = run.catch(() => undefined);
    return run;
  }

  private async browse(topic: string, partition: number, start: bigint, highWatermark: bigint, limit: number, filter: string) {
    this.browser ??= this.samsa.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 });
    const consumer = this.browser;
    const records: RecordView[] = [];
    let next = start;
    let scanned = 0;
    try {
      consumer.assign([{ topic, partition }]);
      await consumer.seek({ topic, partition, offset: start });
      const deadline = this.now() + 3_000;
      while (next < highWatermark && records.length < limit && scanned < MAX_SCAN && this.now() < deadline) {
        const batch = await consumer.poll({ maxWaitMs: 100, maxRecords: 500 });
        for (const r of batch) {
          if (r.offset < next || r.offset >= highWatermark) continue;
          next = r.offset + 1n;
          scanned++;
          if (!filter || matches(r, filter)) records.push(recordView(r));
          if (records.length >= limit) break;
        }
        // Offsets can have gaps (compaction, transaction markers): follow the position.
        const position = consumer.position({ topic, partition });
        if (position !== undefined && position > next && records.length < limit) next = position < highWatermark ? position : highWatermark;
      }
    } finally {
      consumer.assign([]);
    }
    return { records, next, scanned };
  }

  async produce(topic: string, body: Record<string, unknown>) {
    const [t] = await this.admin.describeTopics([topic]);
    const value = body['value'] === null ? null : str(body['value'] ?? '', 'value');
    const key = body['key'] === undefined || body['key'] === null || body['key'] === '' ? undefined : str(body['key'], 'key');
    const headers: Record<string, string> = {};
    const h = body['headers'] ?? {};
    if (typeof h !== 'object' || h === null || Array.isArray(h)) throw badRequest('headers must be an object of name to string value');
    for (const [k, v] of Object.entries(h as Record<string, unknown>)) headers[k] = str(v, `header ${k}`);
    let partition: number | undefined;
    if (body['partition'] !== undefined && body['partition'] !== null && body['partition'] !== '') {
      partition = Number(body['partition']);
      if (!Number.isInteger(partition) || !t!.partitions.some((p) => p.partition === partition)) {
        throw new ConsoleError(404, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topic}' has no partition ${String(body['partition'])}`);
      }
    }
    this.producer ??= this.samsa.producer();
    const [meta] = await this.producer.send({
      topic,
      messages: [
        {
          value: value === null ? null : Buffer.from(value),
          ...(key === undefined ? {} : { key: Buffer.from(key) }),
          headers,
          ...(partition === undefined ? {} : { partition }),
        },
      ],
    });
    return { topic, partition: meta!.partition, offset: meta!.offset.toString() };
  }

  async groups() {
    const groups = await this.admin.listGroups();
    return { groups: groups.sort((a, b) => a.groupId.localeCompare(b.groupId)) };
  }

  async group(groupId: string) {
    const [d] = await this.admin.describeGroups([groupId]);
    const lag = await this.admin.groupLag(groupId);
    if (d!.state === 'Dead' && lag.length === 0) {
      throw new ConsoleError(404, ErrorCode.GROUP_ID_NOT_FOUND, `consumer group '${groupId}' does not exist`);
    }
    return {
      groupId,
      state: d!.state,
      protocolType: d!.protocolType,
      protocol: d!.protocol,
      generationId: d!.generationId,
      coordinator: d!.coordinator,
      members: d!.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: m.assignment,
      })),
      partitions: lag.map((l) => ({
        topic: l.topic,
        partition: l.partition,
        committedOffset: l.committedOffset?.toString() ?? null,
        logEndOffset: l.logEndOffset.toString(),
        lag: l.lag?.toString() ?? null,
        memberId: l.memberId ?? null,
        clientId: l.clientId ?? null,
        host: l.host ?? null,
      })),
      totalLag: lag.reduce((s, l) => s + (l.lag ?? 0n), 0n).toString(),
    };
  }

  /**
   * `samsa groups --reset-offsets` over HTTP: refused while the group has members; `execute: false`
   * (the default) is the dry run that only answers the plan.
   */
  async resetOffsets(groupId: string, body: Record<string, unknown>) {
    const scenario = parseResetScenario(body);
    const execute = body['execute'] === true;
    const [d] = await this.admin.describeGroups([groupId]);
    if (d!.members.length > 0) {
      throw new ConsoleError(
        409,
        ErrorCode.NON_EMPTY_GROUP,
        `Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${d!.state}.`,
      );
    }
    const committed = await this.admin.fetchOffsets(groupId);
    const targets = new Map<string, number[]>();
    const topics = body['topics'];
    if (topics === 'all' || topics === undefined) {
      for (const [topic, ps] of partitionsByTopic(committed)) targets.set(topic, ps);
    } else if (Array.isArray(topics)) {
      for (const spec of topics as unknown[]) {
        const topic = str((spec as Record<string, unknown>)?.['topic'], 'topics[].topic');
        const [t] = await this.admin.describeTopics([topic]);
        const all = t!.partitions.map((p) => p.partition);
        const want = (spec as Record<string, unknown>)['partitions'];
        const parts = Array.isArray(want) ? want.map(Number) : all;
        for (const p of parts)
          if (!all.includes(p)) throw new ConsoleError(404, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${topic} has no partition ${p}`);
        targets.set(topic, parts);
      }
    } else {
      throw badRequest("topics must be 'all' or a list of { topic, partitions? }");
    }
    const plan: Array<{ topic: string; partition: number; currentOffset: string | null; newOffset: string }> = [];
    const writes: Array<{ topic: string; partition: number; offset: bigint }> = [];
    for (const [topic, partitions] of [...targets].sort(([a], [b]) => a.localeCompare(b))) {
      partitions.sort((a, b) => a - b);
      const q = (timestamp: 'earliest' | 'latest' | bigint) =>
        this.admin.listOffsets(
          topic,
          partitions.map((partition) => ({ partition, timestamp })),
        );
      const [earliest, latest] = await Promise.all([q('earliest'), q('latest')]);
      const byTime = scenario.kind === 'datetime' ? await q(scenario.timestamp) : undefined;
      partitions.forEach((partition, i) => {
        const current = committed.find((c) => c.topic === topic && c.partition === partition)?.offset;
        const offset = resetTarget(scenario, {
          topic,
          partition,
          earliest: earliest[i]!.offset,
          latest: latest[i]!.offset,
          committed: current,
          ...(byTime ? { byTime: byTime[i]!.offset } : {}),
        });
        plan.push({
          topic,
          partition,
          currentOffset: current === undefined || current < 0n ? null : current.toString(),
          newOffset: offset.toString(),
        });
        writes.push({ topic, partition, offset });
      });
    }
    if (execute) await this.admin.resetOffsets(groupId, writes);
    return { groupId, executed: execute, plan };
  }

  /** Rates and percentiles since the previous scrape, and the history kept so far (newest last). */
  async metrics() {
    const nodes = this.opts.metrics ?? [];
    if (nodes.length === 0) return { nodes, available: false, history: [] as MetricsPoint[] };
    if (!this.lastScrape || this.now() - this.lastScrape.time >= 1_000) {
      this.scraping ??= this.scrape(nodes).finally(() => {
        this.scraping = undefined;
      });
      await this.scraping;
    }
    return { nodes, available: this.lastScrape !== undefined, history: this.history };
  }

  private async scrape(nodes: string[]): Promise<void> {
    const texts = await Promise.all(
      nodes.map(async (n) => {
        try {
          const res = await fetch(`http://${n}/metrics`, { signal: AbortSignal.timeout(1_000) });
          return res.ok ? await res.text() : '';
        } catch {
          return ''; // a node down: its counters are missing from this scrape
        }
      }),
    );
    const now: Scrape = { time: this.now(), samples: texts.flatMap(parsePrometheusText) };
    if (this.lastScrape) {
      this.history.push(metricsBetween(this.lastScrape, now));
      if (this.history.length > METRICS_HISTORY) this.history.shift();
    }
    this.lastScrape = now;
  }
}

function recordView(r: ConsumerRecord<Buffer | null, Buffer | null>): RecordView {
  return {
    partition: r.partition,
    offset: r.offset.toString(),
    timestamp: r.timestamp.toString(),
    key: bytesView(r.key),
    value: bytesView(r.value),
    headers: Object.entries(r.headers).map(([key, value]) => ({ key, value: bytesView(value) })),
  };
}

function matches(r: ConsumerRecord<Buffer | null, Buffer | null>, filter: string): boolean {
  const has = (b: Buffer | null) => b !== null && b.toString('utf8').includes(filter);
  return has(r.key) || has(r.value) || Object.entries(r.headers).some(([k, v]) => k.includes(filter) || has(v));
}
