/**
 * A broker's Prometheus metrics (Kafka's broker metrics under Prometheus names), registered in
 * the registry the node is given; the CLI serves it at /metrics. Counters are bumped on the data
 * path through BrokerMetricEvents (a call per batch or ISR change, not per record); gauges are
 * computed from the local replicas when scraped, so nothing has to keep them in step.
 *
 *   samsa_broker_under_replicated_partitions   partitions this broker leads whose ISR is smaller than the replica list
 *   samsa_broker_leader_partitions             partitions this broker leads
 *   samsa_broker_partitions                    local replicas
 *   samsa_broker_isr_shrinks_total             committed ISR shrinks of partitions this broker leads (its own or the controller's, e.g. on fencing)
 *   samsa_broker_isr_expands_total             committed ISR expands of partitions this broker leads
 *   samsa_broker_topic_bytes_in_total{topic}   bytes of record batches produced (leader appends)
 *   samsa_broker_topic_bytes_out_total{topic}  bytes of record batches returned to consumers (replication excluded, as in Kafka)
 *   samsa_broker_log_size_bytes{topic,partition}  bytes on disk per local replica
 *   samsa_consumer_group_lag{group,topic,partition}  from the provider set with setGroupLagProvider
 *   samsa_rpc_*                                the gRPC API (@samsa/server's RPC_METRICS)
 *   samsa_kafka_requests_total{api,version,outcome}  Kafka wire protocol requests (Kafka's RequestsPerSec by request and version)
 *   samsa_kafka_request_duration_seconds{api,version}  their latency from decoding to the encoded answer (Kafka's TotalTimeMs)
 *   samsa_txn_coordinator_open_transactions{partition}  open transactions (Ongoing, Prepare*, PrepareEpochFence) per `__transaction_state` partition this broker coordinates
 *   samsa_txn_coordinator_transactions{state}  transactional ids coordinated here, by state (Kafka's TransactionState names; all eight, 0 included)
 *   samsa_broker_partition_lso_lag{topic,partition}  high watermark minus last stable offset of each partition this broker leads (offsets held back from read_committed consumers)
 *   samsa_broker_partition_open_transactions{topic,partition}  producers with an open transaction on each partition this broker leads (Kafka's ProducerStateManager ongoingTxns)
 */
import { rpcObserver, type RpcObserver } from '@samsa/server';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Partition } from './partition.js';
import { TXN_STATES } from './txn/transactionCoordinatorState.js';

/** What the data path reports. Optional everywhere: a broker without a registry reports nothing. */
export interface BrokerMetricEvents {
  bytesIn(topic: string, bytes: number): void;
  bytesOut(topic: string, bytes: number): void;
  isrChanged(kind: 'shrink' | 'expand'): void;
  topicDeleted(topic: string): void;
}

/** One consumer group's lag on one partition: the partition's high watermark minus the group's committed offset. */
export interface GroupLag {
  group: string;
  topic: string;
  partition: number;
  lag: number | bigint;
}

/**
 * Where the lag gauge comes from. Consumer groups live in the group coordinator, which sets this
 * (a function called at each scrape) once it runs; until then the gauge has no series.
 */
/** What the fetch session gauges read (ReplicaFetchSessionCache). */
export interface FetchSessionCounts {
  readonly size: number;
  readonly partitionsCached: number;
}

/** One transaction coordinator (a led `__transaction_state` partition) and the state of each id it holds. */
export interface CoordinatorStates {
  partition: number;
  states: readonly string[];
}

export type TransactionStatesProvider = () => Iterable<CoordinatorStates>;

/** States in which a transaction is open: its partitions' LSO may be held back by it. */
export const OPEN_TXN_STATES: ReadonlySet<string> = new Set(['Ongoing', 'PrepareCommit', 'PrepareAbort', 'PrepareEpochFence']);

/**
 * What the transaction gauges show: open transactions per coordinator partition, ids per state over
 * all of them. Every state has an entry, 0 included, so a dashboard sees a state empty rather than
 * a series that vanished.
 */
export function summarizeTransactions(coordinators: Iterable<CoordinatorStates>): {
  openByPartition: Map<number, number>;
  byState: Map<string, number>;
} {
  const openByPartition = new Map<number, number>();
  const byState = new Map<string, number>(TXN_STATES.map((s) => [s, 0]));
  for (const c of coordinators) {
    let open = 0;
    for (const s of c.states) {
      if (OPEN_TXN_STATES.has(s)) open++;
      byState.set(s, (byState.get(s) ?? 0) + 1);
    }
    openByPartition.set(c.partition, open);
  }
  return { openByPartition, byState };
}

export type GroupLagProvider = () => Iterable<GroupLag> | Promise<Iterable<GroupLag>>;

export class BrokerMetrics implements BrokerMetricEvents {
  readonly rpc: RpcObserver;
  /** The Kafka listener's per-API request counts and latencies (kafka/kafkaApis.ts). */
  readonly kafka: { observe(api: string, version: number, outcome: string, seconds: number): void };
  private readonly bytesInTotal: Counter<'topic'>;
  private readonly bytesOutTotal: Counter<'topic'>;
  private readonly isrShrinks: Counter;
  private readonly isrExpands: Counter;
  private groupLagProvider: GroupLagProvider | undefined;
  private fetchSessions: FetchSessionCounts | undefined;
  private transactionStates: TransactionStatesProvider | undefined;

  /** `partitions` lists the local replicas when a gauge is scraped. */
  constructor(registry: Registry, partitions: () => Iterable<Partition>) {
    const registers = [registry];
    this.rpc = rpcObserver(registry);
    const kafkaRequests = new Counter({
      name: 'samsa_kafka_requests_total',
      help: 'Kafka wire protocol requests, by API, version and outcome (ok, closed)',
      labelNames: ['api', 'version', 'outcome'],
      registers,
    });
    const kafkaDuration = new Histogram({
      name: 'samsa_kafka_request_duration_seconds',
      help: 'Kafka wire protocol request latency from decoding to the encoded answer (long polls included), by API and version',
      labelNames: ['api', 'version'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.kafka = {
      observe(api, version, outcome, seconds) {
        kafkaRequests.inc({ api, version: String(version), outcome });
        kafkaDuration.observe({ api, version: String(version) }, seconds);
      },
    };
    this.bytesInTotal = new Counter({
      name: 'samsa_broker_topic_bytes_in_total',
      help: 'Bytes of record batches appended by producers, by topic',
      labelNames: ['topic'],
      registers,
    });
    this.bytesOutTotal = new Counter({
      name: 'samsa_broker_topic_bytes_out_total',
      help: 'Bytes of record batches returned to consumers, by topic (follower fetches excluded)',
      labelNames: ['topic'],
      registers,
    });
    this.isrShrinks = new Counter({
      name: 'samsa_broker_isr_shrinks_total',
      help: 'ISR shrinks of partitions this broker leads, counted when committed (proposed by this leader or made by the controller)',
      registers,
    });
    this.isrExpands = new Counter({
      name: 'samsa_broker_isr_expands_total',
      help: 'ISR expands of partitions this broker leads, counted when committed',
      registers,
    });

    new Gauge({
      name: 'samsa_broker_under_replicated_partitions',
      help: 'Partitions this broker leads whose ISR is smaller than their replica list',
      registers,
      collect() {
        let n = 0;
        for (const p of partitions()) if (p.isLeader && p.isr.length < p.replicas.length) n++;
        this.set(n);
      },
    });
    new Gauge({
      name: 'samsa_broker_leader_partitions',
      help: 'Partitions this broker leads',
      registers,
      collect() {
        let n = 0;
        for (const p of partitions()) if (p.isLeader) n++;
        this.set(n);
      },
    });
    new Gauge({
      name: 'samsa_broker_partitions',
      help: 'Partition replicas on this broker',
      registers,
      collect() {
        let n = 0;
        for (const _ of partitions()) n++;
        this.set(n);
      },
    });
    new Gauge({
      name: 'samsa_broker_log_size_bytes',
      help: 'Bytes of the log segments of each partition replica on this broker',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        // Reset first: a replica that moved away or was deleted drops its series.
        this.reset();
        for (const p of partitions()) if (!p.log.isClosed) this.set({ topic: p.topic, partition: String(p.partition) }, p.log.size);
      },
    });
    const metrics = this;
    new Gauge({
      name: 'samsa_broker_incremental_fetch_sessions',
      help: 'Incremental fetch sessions (KIP-227) this broker holds for the followers fetching from it',
      registers,
      collect() {
        this.set(metrics.fetchSessions?.size ?? 0);
      },
    });
    new Gauge({
      name: 'samsa_broker_incremental_fetch_partitions_cached',
      help: 'Partitions held over all incremental fetch sessions on this broker',
      registers,
      collect() {
        this.set(metrics.fetchSessions?.partitionsCached ?? 0);
      },
    });
    new Gauge({
      name: 'samsa_txn_coordinator_open_transactions',
      help: 'Open transactions (Ongoing, PrepareCommit, PrepareAbort, PrepareEpochFence) per __transaction_state partition this broker coordinates',
      labelNames: ['partition'],
      registers,
      collect() {
        this.reset();
        const provider = metrics.transactionStates;
        if (provider === undefined) return;
        for (const [partition, n] of summarizeTransactions(provider()).openByPartition) this.set({ partition: String(partition) }, n);
      },
    });
    new Gauge({
      name: 'samsa_txn_coordinator_transactions',
      help: 'Transactional ids this broker coordinates, by transaction state',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const provider = metrics.transactionStates;
        if (provider === undefined) return;
        for (const [state, n] of summarizeTransactions(provider()).byState) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'samsa_broker_partition_lso_lag',
      help: 'High watermark minus last stable offset of each partition this broker leads (offsets an open transaction holds back from read_committed consumers)',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const p of partitions())
          if (p.isLeader && !p.log.isClosed)
            this.set({ topic: p.topic, partition: String(p.partition) }, Number(p.highWatermark - p.lastStableOffset));
      },
    });
    new Gauge({
      name: 'samsa_broker_partition_open_transactions',
      help: 'Producers with an open transaction (data written, no COMMIT/ABORT marker yet) on each partition this broker leads',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const p of partitions())
          if (p.isLeader && !p.log.isClosed) this.set({ topic: p.topic, partition: String(p.partition) }, p.ongoingTransactions().length);
      },
    });
    new Gauge({
      name: 'samsa_consumer_group_lag',
      help: 'Messages a consumer group is behind (high watermark minus committed offset), by group and partition',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      async collect() {
        this.reset();
        const provider = metrics.groupLagProvider;
        if (provider === undefined) return;
        for (const l of await provider()) this.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, Number(l.lag));
      },
    });
  }

  /** The Replication service's fetch session cache, read at each scrape. */
  setFetchSessions(sessions: FetchSessionCounts): void {
    this.fetchSessions = sessions;
  }

  /** The transaction coordinator calls this once it runs; undefined removes the provider. */
  setTransactionStatesProvider(provider: TransactionStatesProvider | undefined): void {
    this.transactionStates = provider;
  }

  /** The group coordinator calls this once it runs; undefined removes the provider. */
  setGroupLagProvider(provider: GroupLagProvider | undefined): void {
    this.groupLagProvider = provider;
  }

  bytesIn(topic: string, bytes: number): void {
    this.bytesInTotal.inc({ topic }, bytes);
  }

  bytesOut(topic: string, bytes: number): void {
    if (bytes > 0) this.bytesOutTotal.inc({ topic }, bytes);
  }

  isrChanged(kind: 'shrink' | 'expand'): void {
    (kind === 'shrink' ? this.isrShrinks : this.isrExpands).inc();
  }

  /** A deleted topic's series go, as Kafka removes a deleted topic's metrics. */
  topicDeleted(topic: string): void {
    this.bytesInTotal.remove({ topic });
    this.bytesOutTotal.remove({ topic });
  }
}
