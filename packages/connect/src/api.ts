/**
 * The connector and task contracts, after Kafka Connect's `SourceConnector`, `SourceTask`,
 * `SinkConnector`, `SinkTask`, `ConnectRecord` and `RetriableException`. Values are plain JS data
 * (a struct is an object); an optional schema describes them in Kafka Connect's own schema terms,
 * so the JSON converter can write the `schemas.enable` envelope exactly as Kafka does.
 */
import { topicPartitionKey } from '@samsa/protocol';
import type { ConfigDef } from './configDef.js';

export type SchemaType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'string'
  | 'bytes'
  | 'array'
  | 'map'
  | 'struct';

/** Kafka Connect's schema, in the shape JsonConverter writes it (`fields[].field` names a struct field). */
export interface Schema {
  type: SchemaType;
  optional?: boolean;
  name?: string;
  version?: number;
  doc?: string;
  default?: unknown;
  parameters?: Record<string, string>;
  fields?: Array<Schema & { field: string }>;
  items?: Schema;
  keys?: Schema;
  values?: Schema;
}

export type Headers = Record<string, Buffer | string | null>;

export interface ConnectRecord {
  topic: string;
  /** Undefined: the partitioner decides. */
  kafkaPartition?: number;
  keySchema?: Schema | null;
  key: unknown;
  valueSchema?: Schema | null;
  value: unknown;
  timestamp?: number;
  headers?: Headers;
}

export type SourcePartition = Record<string, unknown>;
export type SourceOffset = Record<string, unknown>;

export interface SourceRecord extends ConnectRecord {
  sourcePartition: SourcePartition;
  sourceOffset: SourceOffset;
}

export interface SinkRecord extends ConnectRecord {
  kafkaPartition: number;
  kafkaOffset: bigint;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A task may throw this from poll/put: the runtime retries (a sink redelivers the same records). */
export class RetriableError extends Error {
  override readonly name = 'RetriableException';
}

/** A connector or task error that fails it (Kafka's ConnectException). */
export class ConnectError extends Error {
  override readonly name = 'ConnectException';
}

export interface OffsetStorageReader {
  offset(partition: SourcePartition): SourceOffset | null;
}

/**
 * KIP-618's TransactionContext, given to a task only under `transaction.boundary=connector` with
 * exactly-once support enabled: the task says where its transactions end. Without a record, the
 * request applies once the current poll batch is sent; with one, right after that record (which
 * is the last record of the committed or aborted transaction).
 */
export interface TransactionContext {
  commitTransaction(record?: SourceRecord): void;
  abortTransaction(record?: SourceRecord): void;
}

export interface SourceTaskContext {
  offsetStorageReader: OffsetStorageReader;
  /** Set only for connector-defined transaction boundaries (KIP-618). */
  transactionContext?: TransactionContext;
}

/** Kafka's ExactlyOnceSupport / ConnectorTransactionBoundaries answers. */
export type SupportAnswer = 'SUPPORTED' | 'UNSUPPORTED';

export interface SinkTaskContext {
  /** Asks the runtime to rewind (or skip) partitions before the next put. */
  offset(offsets: ReadonlyMap<string, bigint>): void;
  /**
   * KIP-610's ErrantRecordReporter: hands one bad record to the runtime, which writes it to the
   * dead letter queue under errors.tolerance=all, or throws the error (failing the task) under none.
   */
  errantRecordReporter(record: SinkRecord, error: Error): Promise<void>;
}

export interface ConnectorContext {
  /** The connector's task configs changed (e.g. new tables): the runtime asks taskConfigs again. */
  requestTaskReconfiguration(): void;
  raiseError(err: Error): void;
}

export type ConnectorType = 'source' | 'sink';

abstract class Connector {
  protected context!: ConnectorContext;
  initialize(context: ConnectorContext): void {
    this.context = context;
  }
  abstract version(): string;
  abstract config(): ConfigDef;
  abstract start(props: Record<string, string>): void | Promise<void>;
  abstract taskConfigs(maxTasks: number): Array<Record<string, string>>;
  abstract stop(): void | Promise<void>;
}

export abstract class SourceConnector extends Connector {
  readonly type = 'source' as const;
  abstract taskClass(): new () => SourceTask;
  /**
   * KIP-618: can this connector, with these props, give exactly-once delivery (its tasks track
   * progress only through source offsets, each source partition in one task)? Undefined: unknown,
   * which `exactly.once.support=required` refuses.
   */
  exactlyOnceSupport(props: Record<string, string>): SupportAnswer | undefined {
    void props;
    return undefined;
  }
  /** KIP-618: may `transaction.boundary=connector` be used (its tasks use the TransactionContext)? */
  canDefineTransactionBoundaries(props: Record<string, string>): SupportAnswer {
    void props;
    return 'UNSUPPORTED';
  }
}

export abstract class SinkConnector extends Connector {
  readonly type = 'sink' as const;
  abstract taskClass(): new () => SinkTask;
}

export abstract class SourceTask {
  protected context!: SourceTaskContext;
  initialize(context: SourceTaskContext): void {
    this.context = context;
  }
  abstract start(props: Record<string, string>): void | Promise<void>;
  /** Records to send, or [] when there is nothing now (the runtime calls again; wait a little inside). */
  abstract poll(signal: AbortSignal): Promise<SourceRecord[]>;
  /** Called after the runtime committed offsets. */
  commit(): void | Promise<void> {}
  /** Called once the cluster acknowledged this record. */
  commitRecord(record: SourceRecord): void | Promise<void> {
    void record;
  }
  abstract stop(): void | Promise<void>;
}

export abstract class SinkTask {
  protected context!: SinkTaskContext;
  initialize(context: SinkTaskContext): void {
    this.context = context;
  }
  abstract start(props: Record<string, string>): void | Promise<void>;
  open(partitions: TopicPartition[]): void | Promise<void> {
    void partitions;
  }
  abstract put(records: SinkRecord[]): void | Promise<void>;
  flush(offsets: ReadonlyMap<string, bigint>): void | Promise<void> {
    void offsets;
  }
  /** The offsets (next offset to read, keyed `topic-partition`) safe to commit; default flush then all. */
  async preCommit(offsets: ReadonlyMap<string, bigint>): Promise<ReadonlyMap<string, bigint>> {
    await this.flush(offsets);
    return offsets;
  }
  close(partitions: TopicPartition[]): void | Promise<void> {
    void partitions;
  }
  abstract stop(): void | Promise<void>;
}

export type AnyConnector = SourceConnector | SinkConnector;

/** A topic-partition's key in preCommit's offsets map: @samsa/protocol's one topicPartitionKey. */
export function tpKey(tp: TopicPartition): string {
  return topicPartitionKey(tp.topic, tp.partition);
}
