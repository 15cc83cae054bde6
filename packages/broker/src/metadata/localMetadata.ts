/**
 * The single-node stand-in for the controller quorum: this node is the only broker and the
 * controller, and it keeps topic metadata in `<data-dir>/meta.json` (written atomically). It
 * answers through MetadataSource exactly as the quorum-backed source will, so the replica manager
 * and the gRPC service do not change when the controller arrives.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SamsaProtocolError, validateTopicConfigs, validateTopicName } from '@samsa/protocol';
import type {
  BrokerInfo, CreateTopicRequest, MetadataChange, MetadataSource, TopicInfo, TopicResult,
} from './image.js';

interface StoredMetadata {
  version: 1;
  clusterId: string;
  topics: TopicInfo[];
}

export interface LocalMetadataOptions {
  dataDir: string;
  self: BrokerInfo;
  defaultNumPartitions?: number;
  defaultReplicationFactor?: number;
}

export class LocalMetadataSource implements MetadataSource {
  readonly controllerId: number;
  readonly clusterId: string;
  private readonly file: string;
  private readonly topicsByName = new Map<string, TopicInfo>();
  private readonly listeners = new Set<(change: MetadataChange) => void>();

  constructor(private readonly options: LocalMetadataOptions) {
    this.controllerId = options.self.nodeId;
    this.file = join(options.dataDir, 'meta.json');
    if (existsSync(this.file)) {
      const stored = JSON.parse(readFileSync(this.file, 'utf8')) as StoredMetadata;
      this.clusterId = stored.clusterId;
      for (const topic of stored.topics) this.topicsByName.set(topic.name, topic);
    } else {
      this.clusterId = randomUUID();
      this.persist();
    }
  }

  brokers(): BrokerInfo[] {
    return [this.options.self];
  }

  topic(name: string): TopicInfo | undefined {
    return this.topicsByName.get(name);
  }

  topics(): TopicInfo[] {
    return [...this.topicsByName.values()];
  }

  async createTopics(requests: CreateTopicRequest[], validateOnly: boolean): Promise<TopicResult[]> {
    const results: TopicResult[] = [];
    const created: TopicInfo[] = [];
    const seen = new Set<string>();
    for (const request of requests) {
      try {
        const topic = this.validate(request, seen);
        seen.add(request.name);
        if (!validateOnly) created.push(topic);
        results.push({ name: request.name, errorCode: 0, topic });
      } catch (err) {
        results.push(toTopicError(request.name, err));
      }
    }
    if (created.length > 0) {
      for (const topic of created) this.topicsByName.set(topic.name, topic);
      this.persist();
      for (const topic of created) this.emit({ type: 'topicCreated', topic });
    }
    return results;
  }

  async deleteTopics(names: string[]): Promise<Array<{ name: string; errorCode: number; errorMessage?: string }>> {
    const results: Array<{ name: string; errorCode: number; errorMessage?: string }> = [];
    const deleted: TopicInfo[] = [];
    for (const name of names) {
      const topic = this.topicsByName.get(name);
      if (!topic) {
        results.push({ name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic '${name}' does not exist` });
        continue;
      }
      this.topicsByName.delete(name);
      deleted.push(topic);
      results.push({ name, errorCode: 0 });
    }
    if (deleted.length > 0) {
      this.persist();
      for (const topic of deleted) this.emit({ type: 'topicDeleted', topic });
    }
    return results;
  }

  subscribe(listener: (change: MetadataChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private validate(request: CreateTopicRequest, seenInRequest: Set<string>): TopicInfo {
    validateTopicName(request.name);
    if (this.topicsByName.has(request.name) || seenInRequest.has(request.name)) {
      throw new SamsaProtocolError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic '${request.name}' already exists`);
    }
    const numPartitions = request.numPartitions === -1 ? (this.options.defaultNumPartitions ?? 1) : request.numPartitions;
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new SamsaProtocolError(ErrorCode.INVALID_PARTITIONS, `number of partitions must be at least 1, got ${numPartitions}`);
    }
    const replicationFactor = request.replicationFactor === -1 ? (this.options.defaultReplicationFactor ?? 1) : request.replicationFactor;
    const live = this.brokers().length;
    if (!Number.isInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > live) {
      throw new SamsaProtocolError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `replication factor ${replicationFactor} is invalid: it must be between 1 and the ${live} available broker(s)`,
      );
    }
    const configs = validateTopicConfigs(request.configs);
    const self = this.options.self.nodeId;
    return {
      name: request.name,
      topicId: randomUUID(),
      configs,
      isInternal: request.name.startsWith('__'),
      partitions: Array.from({ length: numPartitions }, (_, partition) => ({
        partition, leader: self, leaderEpoch: 0, partitionEpoch: 0, replicas: [self], isr: [self],
      })),
    };
  }

  private persist(): void {
    const stored: StoredMetadata = { version: 1, clusterId: this.clusterId, topics: this.topics() };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(stored, null, 2));
    const fd = openSync(tmp, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
    renameSync(tmp, this.file);
  }

  private emit(change: MetadataChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

function toTopicError(name: string, err: unknown): TopicResult {
  if (err instanceof SamsaProtocolError) return { name, errorCode: err.code, errorMessage: err.message };
  return { name, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: String(err) };
}
