/**
 * The client's entry point: `new Samsa({ brokers })` owns the connections and the metadata cache;
 * producers, consumers and admins made from it share them and are closed with it.
 */
import { systemClock, systemRandom } from './clock.js';
import type { Clock, Random } from './clock.js';
import { Admin } from './admin/admin.js';
import { Cluster } from './cluster/cluster.js';
import type { ConnectionFactory } from './connection/connection.js';
import { grpcConnectionFactory } from './connection/grpcConnection.js';
import { instrumentedFactory } from './connection/instrumented.js';
import { type ConnectionSecurity, type SaslOptions, type SslOptions, checkSaslOptions } from './connection/security.js';
import { ConnectionPool } from './connection/pool.js';
import { Consumer } from './consumer/consumer.js';
import type { ConsumerOptions } from './consumer/consumer.js';
import { GroupRouter } from './consumer/group/coordinator.js';
import { GroupConsumer } from './consumer/group/groupConsumer.js';
import type { GroupConsumerOptions } from './consumer/group/groupConsumer.js';
import { grpcGroupsConnectionFactory } from './consumer/group/groupsConnection.js';
import type { GroupsConnectionFactory } from './consumer/group/groupsConnection.js';
import { Instrumentation } from './instrumentation.js';
import type { ClientEvents, Listener, RemoveListener } from './instrumentation.js';
import { noopLogger } from './logger.js';
import type { Logger } from './logger.js';
import { Producer } from './producer/producer.js';
import type { ProducerOptions } from './producer/producer.js';
import { resolveRetryOptions } from './retry.js';
import type { ResolvedRetryOptions, RetryOptions } from './retry.js';

export interface SamsaConfig {
  /** Seed brokers, host:port; any one reachable is enough to discover the rest. */
  brokers: string[];
  clientId?: string;
  /** Transport deadline of a request (long polls and acks=all waits get their own wait on top). Default 30 s. */
  requestTimeoutMs?: number;
  /** Cached topic metadata older than this is refreshed on next use. Default 5 min. */
  metadataMaxAgeMs?: number;
  retry?: RetryOptions;
  /** Default: logs nothing. See consoleLogger(). */
  logger?: Logger;
  /** Collaborators; the defaults are the real ones. */
  clock?: Clock;
  random?: Random;
  /**
   * TLS (KafkaJS's shape): `true` for Node's trusted roots, or `{ ca, cert, key, rejectUnauthorized }`
   * (PEM). Needed for brokers' SSL and SASL_SSL listeners.
   */
  ssl?: boolean | SslOptions;
  /**
   * SASL (KafkaJS's shape): `{ mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', username,
   * password }`, for SASL_PLAINTEXT and SASL_SSL listeners. Each broker connection authenticates
   * before its first call; a wrong password fails calls with SaslAuthenticationError.
   */
  sasl?: SaslOptions;
  /** Makes one connection per broker address. Default: gRPC. Tests pass a fake broker here. */
  connectionFactory?: ConnectionFactory;
  /** Makes the consumer-group (service Groups) connection per broker address. Default: gRPC. */
  groupsConnectionFactory?: GroupsConnectionFactory;
}

export class Samsa {
  readonly clientId: string;
  private readonly pool: ConnectionPool;
  private readonly cluster: Cluster;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly retry: ResolvedRetryOptions;
  private readonly producers = new Set<Producer<unknown, unknown>>();
  private readonly consumers = new Set<Consumer<unknown, unknown> | GroupConsumer<unknown, unknown>>();
  private readonly groups: GroupRouter;
  private readonly events: Instrumentation<ClientEvents>;
  private closed = false;

  constructor(config: SamsaConfig) {
    if (!config || typeof config !== 'object') throw new TypeError('new Samsa({ brokers: [...] }) needs a config');
    this.clientId = config.clientId ?? 'samsa';
    this.clock = config.clock ?? systemClock;
    this.random = config.random ?? systemRandom;
    this.logger = config.logger ?? noopLogger;
    this.retry = resolveRetryOptions(config.retry);
    const requestTimeoutMs = config.requestTimeoutMs ?? 30_000;
    const security: ConnectionSecurity = {
      ...(config.ssl === undefined || config.ssl === false ? {} : { ssl: config.ssl }),
      ...(config.sasl === undefined ? {} : { sasl: checkSaslOptions(config.sasl) }),
    };
    this.events = new Instrumentation<ClientEvents>(this.clock, this.logger);
    const connected = { first: true };
    const factory = instrumentedFactory(
      config.connectionFactory ?? grpcConnectionFactory({ requestTimeoutMs, clientId: this.clientId, security }),
      this.events,
      this.clock,
      this.clientId,
      connected,
    );
    this.pool = new ConnectionPool(factory);
    this.cluster = new Cluster(
      {
        brokers: config.brokers,
        requestTimeoutMs,
        ...(config.metadataMaxAgeMs === undefined ? {} : { metadataMaxAgeMs: config.metadataMaxAgeMs }),
      },
      { pool: this.pool, clock: this.clock, logger: this.logger },
    );
    this.groups = new GroupRouter(
      instrumentedFactory(
        config.groupsConnectionFactory ?? grpcGroupsConnectionFactory({ requestTimeoutMs, clientId: this.clientId, security }),
        this.events,
        this.clock,
        this.clientId,
        connected,
      ),
      this.cluster,
      this.logger,
    );
  }

  /**
   * Listens to the client's events: 'client.connect', 'client.disconnect',
   * 'client.network.request', 'client.network.request_queue_size' (instrumentation.ts). Returns
   * the function that removes the listener.
   */
  on<N extends keyof ClientEvents & string>(type: N, listener: Listener<ClientEvents, N>): RemoveListener {
    return this.events.on(type, listener);
  }

  /** Fetches cluster metadata from a seed broker now (otherwise it happens on first use). */
  async connect(): Promise<void> {
    await this.cluster.connect();
  }

  admin(): Admin {
    this.checkOpen();
    return new Admin({ ...this.deps(), groups: this.groups });
  }

  /** With no serdes, keys and values are `Buffer | null`. */
  producer<K = Buffer | null, V = Buffer | null>(options: ProducerOptions<K, V> = {}): Producer<K, V> {
    this.checkOpen();
    const producer = new Producer<K, V>(options, { ...this.deps(), groups: this.groups });
    this.producers.add(producer as Producer<unknown, unknown>);
    return producer;
  }

  /**
   * With a groupId: a member of that consumer group (subscribe, commits, rebalances); without: a
   * consumer of the partitions it is assigned. With no serdes, keys and values are `Buffer | null`.
   */
  consumer<K = Buffer | null, V = Buffer | null>(options: GroupConsumerOptions<K, V>): GroupConsumer<K, V>;
  consumer<K = Buffer | null, V = Buffer | null>(options?: ConsumerOptions<K, V>): Consumer<K, V>;
  consumer<K, V>(options: ConsumerOptions<K, V> | GroupConsumerOptions<K, V> = {}): Consumer<K, V> | GroupConsumer<K, V> {
    this.checkOpen();
    const consumer =
      'groupId' in options && options.groupId !== undefined
        ? new GroupConsumer<K, V>(options, { ...this.deps(), groups: this.groups, clientId: this.clientId })
        : new Consumer<K, V>(options as ConsumerOptions<K, V>, this.deps());
    this.consumers.add(consumer as Consumer<unknown, unknown> | GroupConsumer<unknown, unknown>);
    return consumer;
  }

  /** Closes consumers (ending their polls), waits for producers' sends, then drops the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    await Promise.allSettled([...this.producers].map((p) => p.close()));
    this.groups.close();
    this.pool.close();
    this.events.emit('client.disconnect', {});
  }

  private deps() {
    return { cluster: this.cluster, clock: this.clock, random: this.random, logger: this.logger, retry: this.retry };
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('this Samsa client is closed');
  }
}
