/**
 * A tiny single-node Kafka stand-in for tests: a TCP server on 127.0.0.1 (ephemeral port) that
 * records every request frame a real client sends and answers with this package's encoders, so a
 * client no one here wrote (KafkaJS 2.2.4) both produces golden request bytes and checks our
 * response bytes by decoding them. It keeps just enough state (topics, produced batches) for the
 * client's flows to proceed; it is not a broker.
 */
import * as net from 'node:net';
import { ALL_APIS, ApiKey, decodeRequest, decodeRequestHeader, encodeResponse, type RequestHeader } from '../../src/index.js';

export interface CapturedFrame {
  header: RequestHeader;
  /** The bytes after the size prefix, as the client sent them. */
  frame: Buffer;
  bodyOffset: number;
}

interface StoredBatch {
  baseOffset: number;
  bytes: Buffer;
}

/** The next offset of a partition: the last batch's base offset + lastOffsetDelta (bytes 23..26) + 1. */
export function logEndOffset(batches: readonly StoredBatch[]): number {
  const last = batches[batches.length - 1];
  return last ? last.baseOffset + last.bytes.readInt32BE(23) + 1 : 0;
}

interface TopicState {
  partitions: number;
  /** Batches produced to each partition, in order, with the base offset each was given. */
  batches: Map<number, StoredBatch[]>;
}

export class FakeBroker {
  readonly frames: CapturedFrame[] = [];
  readonly topics = new Map<string, TopicState>();
  /** Errors thrown while answering (a decode bug shows up here, not as a hung client). */
  readonly errors: Error[] = [];
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async start(): Promise<void> {
    this.server = net.createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  framesOf(apiKey: number): CapturedFrame[] {
    return this.frames.filter((f) => f.header.apiKey === apiKey);
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = Buffer.from(pending.subarray(4, 4 + size));
        pending = pending.subarray(4 + size);
        try {
          const out = this.handle(frame);
          if (out) socket.write(out);
        } catch (err) {
          this.errors.push(err as Error);
          socket.destroy();
          return;
        }
      }
    });
  }

  private topic(name: string): TopicState {
    let t = this.topics.get(name);
    if (!t) {
      t = { partitions: 1, batches: new Map() };
      this.topics.set(name, t);
    }
    return t;
  }

  private handle(frame: Buffer): Buffer | null {
    const { header, bodyOffset } = decodeRequestHeader(frame);
    this.frames.push({ header, frame, bodyOffset });
    const { apiKey, apiVersion: v, correlationId: id } = header;
    const node = { nodeId: 0, host: '127.0.0.1', port: this.port };
    switch (apiKey) {
      case ApiKey.ApiVersions:
        // Advertise every codec, so the client uses the APIs later issues will serve too.
        return encodeResponse(apiKey, v, id, {
          apiKeys: ALL_APIS.map((a) => ({ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: a.maxVersion })),
        });
      case ApiKey.Metadata: {
        const req = decodeRequest(ApiKey.Metadata, v, frame, bodyOffset);
        const names = req.topics && req.topics.length > 0 ? req.topics.map((t) => t.name ?? '') : [...this.topics.keys()];
        return encodeResponse(ApiKey.Metadata, v, id, {
          brokers: [node],
          clusterId: 'golden-cluster',
          controllerId: 0,
          topics: names.map((name) => {
            if (req.allowAutoTopicCreation || this.topics.has(name)) this.topic(name);
            const t = this.topics.get(name);
            if (!t) return { name, errorCode: 3, partitions: [] };
            return {
              name,
              partitions: Array.from({ length: t.partitions }, (_, p) => ({
                partitionIndex: p,
                leaderId: 0,
                leaderEpoch: 0,
                replicaNodes: [0],
                isrNodes: [0],
              })),
            };
          }),
        });
      }
      case ApiKey.InitProducerId:
        return encodeResponse(ApiKey.InitProducerId, v, id, { producerId: 4242n, producerEpoch: 0 });
      case ApiKey.Produce: {
        const req = decodeRequest(ApiKey.Produce, v, frame, bodyOffset);
        const responses = req.topicData.map((t) => ({
          name: t.name,
          partitionResponses: t.partitionData.map((p) => {
            const batches = this.topic(t.name).batches;
            const list = batches.get(p.index) ?? [];
            const baseOffset = logEndOffset(list);
            if (p.records && p.records.length > 0) list.push({ baseOffset, bytes: withBaseOffset(p.records, baseOffset) });
            batches.set(p.index, list);
            return { index: p.index, errorCode: 0, baseOffset: BigInt(baseOffset) };
          }),
        }));
        return req.acks === 0 ? null : encodeResponse(ApiKey.Produce, v, id, { responses });
      }
      case ApiKey.CreateTopics: {
        const req = decodeRequest(ApiKey.CreateTopics, v, frame, bodyOffset);
        for (const t of req.topics) this.topics.set(t.name, { partitions: Math.max(1, t.numPartitions), batches: new Map() });
        return encodeResponse(ApiKey.CreateTopics, v, id, { topics: req.topics.map((t) => ({ name: t.name, errorCode: 0 })) });
      }
      case ApiKey.DeleteTopics: {
        const req = decodeRequest(ApiKey.DeleteTopics, v, frame, bodyOffset);
        for (const n of req.topicNames) this.topics.delete(n);
        return encodeResponse(ApiKey.DeleteTopics, v, id, { responses: req.topicNames.map((name) => ({ name, errorCode: 0 })) });
      }
      case ApiKey.CreatePartitions: {
        const req = decodeRequest(ApiKey.CreatePartitions, v, frame, bodyOffset);
        for (const t of req.topics) this.topic(t.name).partitions = t.count;
        return encodeResponse(ApiKey.CreatePartitions, v, id, { results: req.topics.map((t) => ({ name: t.name, errorCode: 0 })) });
      }
      case ApiKey.DescribeConfigs: {
        const req = decodeRequest(ApiKey.DescribeConfigs, v, frame, bodyOffset);
        return encodeResponse(ApiKey.DescribeConfigs, v, id, {
          results: req.resources.map((r) => ({
            resourceType: r.resourceType,
            resourceName: r.resourceName,
            errorMessage: null,
            configs: [{ name: 'cleanup.policy', value: 'delete', readOnly: false, configSource: 5, isSensitive: false, synonyms: [] }],
          })),
        });
      }
      case ApiKey.AlterConfigs: {
        const req = decodeRequest(ApiKey.AlterConfigs, v, frame, bodyOffset);
        return encodeResponse(ApiKey.AlterConfigs, v, id, {
          responses: req.resources.map((r) => ({ resourceType: r.resourceType, resourceName: r.resourceName, errorMessage: null })),
        });
      }
      case ApiKey.ListOffsets: {
        const req = decodeRequest(ApiKey.ListOffsets, v, frame, bodyOffset);
        return encodeResponse(ApiKey.ListOffsets, v, id, {
          topics: req.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              offset: p.timestamp === -2n ? 0n : BigInt(logEndOffset(this.topic(t.name).batches.get(p.partitionIndex) ?? [])),
              timestamp: -1n,
            })),
          })),
        });
      }
      case ApiKey.FindCoordinator:
        return encodeResponse(ApiKey.FindCoordinator, v, id, { ...node, errorMessage: null });
      case ApiKey.JoinGroup: {
        const req = decodeRequest(ApiKey.JoinGroup, v, frame, bodyOffset);
        const memberId = 'member-1';
        return encodeResponse(ApiKey.JoinGroup, v, id, {
          generationId: 1,
          protocolName: req.protocols[0]!.name,
          leader: memberId,
          memberId,
          members: [{ memberId, metadata: req.protocols[0]!.metadata }],
        });
      }
      case ApiKey.SyncGroup: {
        const req = decodeRequest(ApiKey.SyncGroup, v, frame, bodyOffset);
        return encodeResponse(ApiKey.SyncGroup, v, id, { assignment: req.assignments[0]?.assignment ?? Buffer.alloc(0) });
      }
      case ApiKey.OffsetFetch: {
        const req = decodeRequest(ApiKey.OffsetFetch, v, frame, bodyOffset);
        return encodeResponse(ApiKey.OffsetFetch, v, id, {
          topics: (req.topics ?? []).map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1n, metadata: null })),
          })),
        });
      }
      case ApiKey.OffsetCommit: {
        const req = decodeRequest(ApiKey.OffsetCommit, v, frame, bodyOffset);
        return encodeResponse(ApiKey.OffsetCommit, v, id, {
          topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex })) })),
        });
      }
      case ApiKey.Heartbeat:
      case ApiKey.LeaveGroup:
        return encodeResponse(apiKey, v, id, {});
      case ApiKey.Fetch: {
        const req = decodeRequest(ApiKey.Fetch, v, frame, bodyOffset);
        return encodeResponse(ApiKey.Fetch, v, id, {
          responses: req.topics.map((t) => ({
            topic: t.topic,
            partitions: t.partitions.map((p) => {
              const batches = this.topic(t.topic).batches.get(p.partition) ?? [];
              const leo = BigInt(logEndOffset(batches));
              // The whole batch holding the fetch offset, and every batch after it.
              const from = Number(p.fetchOffset);
              const records = Buffer.concat(batches.filter((b) => b.baseOffset + b.bytes.readInt32BE(23) >= from).map((b) => b.bytes));
              return { partitionIndex: p.partition, highWatermark: leo, lastStableOffset: leo, logStartOffset: 0n, records };
            }),
          })),
        });
      }
      case ApiKey.ListGroups:
        return encodeResponse(ApiKey.ListGroups, v, id, { groups: [{ groupId: 'golden-group', protocolType: 'consumer' }] });
      case ApiKey.DescribeGroups: {
        const req = decodeRequest(ApiKey.DescribeGroups, v, frame, bodyOffset);
        return encodeResponse(ApiKey.DescribeGroups, v, id, {
          groups: req.groups.map((g) => ({ groupId: g, groupState: 'Empty', protocolType: 'consumer', protocolData: '', members: [] })),
        });
      }
      case ApiKey.DeleteGroups: {
        const req = decodeRequest(ApiKey.DeleteGroups, v, frame, bodyOffset);
        return encodeResponse(ApiKey.DeleteGroups, v, id, { results: req.groupsNames.map((groupId) => ({ groupId })) });
      }
      case ApiKey.DeleteRecords: {
        const req = decodeRequest(ApiKey.DeleteRecords, v, frame, bodyOffset);
        return encodeResponse(ApiKey.DeleteRecords, v, id, {
          topics: req.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, lowWatermark: p.offset })),
          })),
        });
      }
      case ApiKey.CreateAcls: {
        const req = decodeRequest(ApiKey.CreateAcls, v, frame, bodyOffset);
        return encodeResponse(ApiKey.CreateAcls, v, id, { results: req.creations.map(() => ({ errorMessage: null })) });
      }
      case ApiKey.DescribeAcls:
        return encodeResponse(ApiKey.DescribeAcls, v, id, { errorMessage: null, resources: [] });
      case ApiKey.DeleteAcls: {
        const req = decodeRequest(ApiKey.DeleteAcls, v, frame, bodyOffset);
        return encodeResponse(ApiKey.DeleteAcls, v, id, {
          filterResults: req.filters.map(() => ({ errorMessage: null, matchingAcls: [] })),
        });
      }
      default:
        throw new Error(`fake broker: no answer for API ${apiKey} v${v}`);
    }
  }
}

/** A stored batch with its base offset (bytes 0..7) set, as a leader assigns it on append. */
export function withBaseOffset(batch: Buffer, offset: number): Buffer {
  const copy = Buffer.from(batch);
  copy.writeBigInt64BE(BigInt(offset), 0);
  return copy;
}
