/**
 * An in-process fake of the controller quorum for broker tests: one shared FakeQuorum (a committed
 * metadata log, its MetadataImage, which voter leads) served by one or more FakeController gRPC
 * servers on 127.0.0.1. Writes go through the leader only (NOT_CONTROLLER otherwise, with the
 * leader hint in leader_id and leader_epoch); FetchMetadata is served by any controller.
 * Tests drive it directly: append records, move leadership, take snapshots, stop controllers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetadataImage, encodeMetadataEntry, validateTopicConfigs, type MetadataRecord } from '@samsa/metadata';
import {
  ErrorCode,
  controllerProto,
  grpc,
  type BrokerHeartbeatRequest__Output,
  type ControllerHandlers,
  type FetchMetadataRequest__Output,
  type FetchMetadataResponse,
  type RegisterBrokerRequest__Output,
} from '@samsa/protocol';

interface Entry {
  offset: number;
  term: number;
  data: Buffer;
}

export interface HeartbeatSeen extends BrokerHeartbeatRequest__Output {
  controllerId: number;
}

export interface RegistrationSeen extends RegisterBrokerRequest__Output {
  controllerId: number;
  brokerEpoch: string;
}

export class FakeQuorum {
  readonly image = new MetadataImage();
  /** Committed and visible to FetchMetadata. */
  private readonly entries: Entry[] = [];
  private snapshot: { offset: number; data: Buffer } | undefined;
  private lastOffset = 0;
  private visibleOffset = 0;
  private readonly waiters = new Set<() => void>();
  leaderId = -1;
  term = 1;
  /** Unfence a fenced broker once its heartbeat shows it caught up. */
  autoUnfence = true;
  /** NOT_CONTROLLER answers name the leader in leader_id (as the real controller does); false: -1, as a controller that knows none. */
  leaderHint = true;
  /** Delay between committing a write (and answering it) and FetchMetadata seeing it. */
  fetchLagMs = 0;
  /** Broker ids whose next heartbeat is answered STALE_BROKER_EPOCH (then removed from the set). */
  readonly staleOnce = new Set<number>();
  readonly heartbeats: HeartbeatSeen[] = [];
  readonly registrations: RegistrationSeen[] = [];
  readonly calls: Array<{ controllerId: number; method: string }> = [];
  /** ISR changes the fake committed through AlterPartition. */
  readonly alterPartitions: Array<{ topic: string; partition: number; newIsr: number[] }> = [];

  /** The offset the next entry will take. */
  get nextOffset(): number {
    return this.lastOffset + 1;
  }

  /** The last committed offset FetchMetadata can see. */
  get highWatermark(): number {
    return this.visibleOffset;
  }

  /** Commits one entry holding `records` (an empty list is a Raft no-op); returns its offset. */
  append(records: MetadataRecord[]): number {
    const offset = ++this.lastOffset;
    for (const record of records) this.image.replay(record, offset, this.term);
    const entry: Entry = {
      offset,
      term: this.term,
      data: records.length === 0 ? Buffer.alloc(0) : Buffer.from(encodeMetadataEntry(records)),
    };
    const publish = () => {
      this.entries.push(entry);
      this.entries.sort((a, b) => a.offset - b.offset);
      this.visibleOffset = Math.max(this.visibleOffset, offset);
      for (const wake of [...this.waiters]) wake();
    };
    if (this.fetchLagMs > 0) setTimeout(publish, this.fetchLagMs);
    else publish();
    return offset;
  }

  /** Replaces the visible log up to now with a snapshot of the image (later fetches from before it get the snapshot). */
  takeSnapshot(): number {
    const offset = this.visibleOffset;
    this.snapshot = { offset, data: Buffer.from(encodeMetadataEntry(this.image.toSnapshot())) };
    const kept = this.entries.filter((e) => e.offset > offset);
    this.entries.length = 0;
    this.entries.push(...kept);
    return offset;
  }

  fetch(req: FetchMetadataRequest__Output): Promise<FetchMetadataResponse> {
    const from = Number(req.fromOffset);
    const answer = () => {
      const hasSnapshot = this.snapshot !== undefined && from <= this.snapshot.offset;
      const start = hasSnapshot ? this.snapshot!.offset + 1 : from;
      const entries = this.entries.filter((e) => e.offset >= start).slice(0, req.maxEntries > 0 ? req.maxEntries : 1000);
      return {
        errorCode: 0,
        errorMessage: '',
        hasSnapshot,
        snapshotOffset: hasSnapshot ? String(this.snapshot!.offset) : '-1',
        snapshot: hasSnapshot ? this.snapshot!.data : Buffer.alloc(0),
        entries: entries.map((e) => ({ offset: String(e.offset), term: String(e.term), data: e.data })),
        highWatermark: String(this.visibleOffset),
        leaderId: this.leaderId,
        leaderEpoch: this.term,
      };
    };
    const ready = () => this.visibleOffset >= from || (this.snapshot !== undefined && from <= this.snapshot.offset);
    if (ready()) return Promise.resolve(answer());
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        clearTimeout(timer);
        resolve(answer());
      };
      const timer = setTimeout(done, Math.max(0, req.maxWaitMs));
      this.waiters.add(done);
    });
  }

  close(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

export class FakeController {
  private server: grpc.Server | undefined;
  port = 0;

  private constructor(
    readonly id: number,
    readonly quorum: FakeQuorum,
  ) {}

  static async start(id: number, quorum: FakeQuorum): Promise<FakeController> {
    const c = new FakeController(id, quorum);
    await c.listen(0);
    return c;
  }

  get address(): { id: number; host: string; port: number } {
    return { id: this.id, host: '127.0.0.1', port: this.port };
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Hard stop: connections drop, the port refuses. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }

  /** Serves again on the same port. */
  async restart(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  private async listen(port: number): Promise<void> {
    const server = new grpc.Server();
    server.addService(controllerProto().samsa.v1.Controller.service, this.handlers());
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
  }

  private handlers(): ControllerHandlers {
    const q = this.quorum;
    const id = this.id;
    const isLeader = () => q.leaderId === id;
    /** A NOT_CONTROLLER answer's redirect, and the one on answers this controller gives as the leader. */
    const redirect = () => ({ leaderId: q.leaderHint ? q.leaderId : -1, leaderEpoch: q.term });
    const asLeader = () => ({ leaderId: id, leaderEpoch: q.term });
    const seen = (method: string) => q.calls.push({ controllerId: id, method });
    const unimplemented = (_call: unknown, cb: grpc.sendUnaryData<never>) =>
      cb({ code: grpc.status.UNIMPLEMENTED, details: 'not in the fake' });
    return {
      RegisterBroker: (call, cb) => {
        seen('RegisterBroker');
        if (!isLeader()) return cb(null, { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'not the active controller', ...redirect() });
        const r = call.request;
        const existing = q.image.broker(r.brokerId);
        let epoch = q.nextOffset;
        if (existing && epoch <= Number(existing.brokerEpoch)) epoch = Number(existing.brokerEpoch) + 1;
        const brokerEpoch = String(epoch);
        q.append([
          {
            type: 'RegisterBroker',
            brokerId: r.brokerId,
            incarnationId: r.incarnationId,
            brokerEpoch,
            host: r.host,
            port: r.port,
            ...(r.rack ? { rack: r.rack } : {}),
            fenced: true,
          },
        ]);
        q.registrations.push({ ...r, controllerId: id, brokerEpoch });
        cb(null, { errorCode: 0, brokerEpoch, ...asLeader() });
      },
      BrokerHeartbeat: (call, cb) => {
        seen('BrokerHeartbeat');
        const r = call.request;
        q.heartbeats.push({ ...r, controllerId: id });
        if (!isLeader()) return cb(null, { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'not the active controller', ...redirect() });
        const broker = q.image.broker(r.brokerId);
        if (q.staleOnce.delete(r.brokerId) || !broker || broker.brokerEpoch !== r.brokerEpoch) {
          return cb(null, {
            errorCode: ErrorCode.STALE_BROKER_EPOCH,
            errorMessage: `broker ${r.brokerId} is not registered at epoch ${r.brokerEpoch}`,
            ...asLeader(),
          });
        }
        const caughtUp = Number(r.currentMetadataOffset) >= Number(broker.brokerEpoch);
        if (r.wantShutDown) {
          return cb(null, { errorCode: 0, isCaughtUp: caughtUp, isFenced: broker.fenced, shouldShutDown: true, ...asLeader() });
        }
        if (broker.fenced && caughtUp && q.autoUnfence) {
          q.append([{ type: 'UnfenceBroker', brokerId: r.brokerId, brokerEpoch: broker.brokerEpoch }]);
        }
        cb(null, {
          errorCode: 0,
          isCaughtUp: caughtUp,
          isFenced: q.image.broker(r.brokerId)!.fenced,
          shouldShutDown: false,
          ...asLeader(),
        });
      },
      FetchMetadata: (call, cb) => {
        seen('FetchMetadata');
        void q.fetch(call.request).then((res) => cb(null, res));
      },
      CreateTopics: (call, cb) => {
        seen('CreateTopics');
        const req = call.request;
        if (!isLeader()) {
          return cb(null, {
            topics: req.topics.map((t) => ({
              name: t.name,
              errorCode: ErrorCode.NOT_CONTROLLER,
              errorMessage: 'not the active controller',
            })),
            ...redirect(),
          });
        }
        const usable = q.image
          .brokers()
          .filter((b) => !b.fenced)
          .map((b) => b.brokerId);
        const records: MetadataRecord[] = [];
        const topics = req.topics.map((t) => {
          if (q.image.topic(t.name))
            return { name: t.name, errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `topic '${t.name}' already exists` };
          const numPartitions = t.numPartitions === -1 ? 1 : t.numPartitions;
          const rf = t.replicationFactor === -1 ? 1 : t.replicationFactor;
          if (rf < 1 || rf > usable.length) {
            return {
              name: t.name,
              errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
              errorMessage: `replication factor ${rf}: ${usable.length} usable broker(s)`,
            };
          }
          if (req.validateOnly) return { name: t.name, errorCode: 0, numPartitions, replicationFactor: rf, configs: t.configs };
          const topicId = `id-${t.name}-${q.nextOffset}`;
          records.push({ type: 'Topic', name: t.name, topicId });
          for (const [name, value] of Object.entries(t.configs))
            records.push({ type: 'Config', resourceType: 'topic', resourceName: t.name, name, value });
          for (let p = 0; p < numPartitions; p++) {
            const replicas = Array.from({ length: rf }, (_, i) => usable[(p + i) % usable.length]!);
            records.push({
              type: 'Partition',
              topicId,
              partition: p,
              replicas,
              isr: replicas,
              leader: replicas[0]!,
              leaderEpoch: 0,
              partitionEpoch: 0,
            });
          }
          return { name: t.name, errorCode: 0, numPartitions, replicationFactor: rf, configs: t.configs };
        });
        if (records.length > 0) q.append(records);
        cb(null, { topics, ...asLeader() });
      },
      DeleteTopics: (call, cb) => {
        seen('DeleteTopics');
        const req = call.request;
        if (!isLeader()) {
          return cb(null, {
            topics: req.names.map((name) => ({ name, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'not the active controller' })),
            ...redirect(),
          });
        }
        const records: MetadataRecord[] = [];
        const topics = req.names.map((name) => {
          const topic = q.image.topic(name);
          if (!topic) return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic '${name}' does not exist` };
          records.push({ type: 'RemoveTopic', topicId: topic.topicId });
          return { name, errorCode: 0, errorMessage: '' };
        });
        if (records.length > 0) q.append(records);
        cb(null, { topics, ...asLeader() });
      },
      DescribeQuorum: (_call, cb) => {
        seen('DescribeQuorum');
        cb(null, { errorCode: 0, leaderId: q.leaderId, leaderEpoch: String(q.term), highWatermark: String(q.highWatermark), voters: [] });
      },
      IncrementalAlterConfigs: (call, cb) => {
        seen('IncrementalAlterConfigs');
        const req = call.request;
        if (!isLeader()) {
          return cb(null, {
            responses: req.resources.map((r) => ({
              resourceType: r.resourceType,
              resourceName: r.resourceName,
              errorCode: ErrorCode.NOT_CONTROLLER,
              errorMessage: 'not the active controller',
            })),
            ...redirect(),
          });
        }
        // Topics only, SET (0) and DELETE (1), validated as the real controller does.
        const records: MetadataRecord[] = [];
        const responses = req.resources.map((r) => {
          const answer = (errorCode: number, errorMessage = '') => ({
            resourceType: r.resourceType,
            resourceName: r.resourceName,
            errorCode,
            errorMessage,
          });
          if (r.resourceType !== 2) return answer(ErrorCode.INVALID_REQUEST, 'topics only');
          if (!q.image.topic(r.resourceName))
            return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${r.resourceName}' does not exist`);
          let sets: Record<string, string>;
          try {
            sets = validateTopicConfigs(Object.fromEntries(r.configs.filter((c) => c.configOperation === 0).map((c) => [c.name, c.value])));
          } catch (err) {
            return answer(ErrorCode.INVALID_CONFIG, (err as Error).message);
          }
          if (req.validateOnly) return answer(0);
          for (const [name, value] of Object.entries(sets))
            records.push({ type: 'Config', resourceType: 'topic', resourceName: r.resourceName, name, value });
          for (const c of r.configs) {
            if (c.configOperation === 1)
              records.push({ type: 'Config', resourceType: 'topic', resourceName: r.resourceName, name: c.name, value: null });
          }
          return answer(0);
        });
        if (records.length > 0) q.append(records);
        cb(null, { responses, ...asLeader() });
      },
      AlterPartition: (call, cb) => {
        // The controller's rules: broker epoch, leader epoch, partition epoch (compare-and-set), eligible members.
        seen('AlterPartition');
        const req = call.request;
        if (!isLeader())
          return cb(null, { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: 'not the active controller', topics: [], ...redirect() });
        const broker = q.image.broker(req.brokerId);
        if (!broker || broker.brokerEpoch !== req.brokerEpoch) {
          return cb(null, {
            errorCode: ErrorCode.STALE_BROKER_EPOCH,
            errorMessage: `broker ${req.brokerId} is not registered at epoch ${req.brokerEpoch}`,
            topics: [],
            ...asLeader(),
          });
        }
        const records: MetadataRecord[] = [];
        const refuse = (partition: number, errorCode: number, errorMessage: string) => ({
          partition,
          errorCode,
          errorMessage,
          leaderId: -1,
          leaderEpoch: -1,
          isr: [],
          partitionEpoch: -1,
        });
        const topics = req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            const topic = q.image.topic(t.name);
            const current = topic?.partitions[p.partition];
            if (!topic || !current)
              return refuse(p.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${t.name}-${p.partition} does not exist`);
            if (p.leaderEpoch !== current.leaderEpoch)
              return refuse(p.partition, ErrorCode.FENCED_LEADER_EPOCH, `leader epoch ${current.leaderEpoch}`);
            if (p.partitionEpoch !== current.partitionEpoch) {
              return refuse(
                p.partition,
                ErrorCode.INVALID_UPDATE_VERSION,
                `partition epoch ${current.partitionEpoch}, the request has ${p.partitionEpoch}`,
              );
            }
            if (p.newIsr.some((id) => q.image.broker(id)?.fenced !== false)) {
              return refuse(p.partition, ErrorCode.INELIGIBLE_REPLICA, `[${p.newIsr}] has an ineligible member`);
            }
            records.push({ type: 'PartitionChange', topicId: topic.topicId, partition: p.partition, isr: [...p.newIsr] });
            q.alterPartitions.push({ topic: t.name, partition: p.partition, newIsr: [...p.newIsr] });
            return {
              partition: p.partition,
              errorCode: 0,
              errorMessage: '',
              leaderId: current.leader,
              leaderEpoch: current.leaderEpoch,
              isr: [...p.newIsr],
              partitionEpoch: current.partitionEpoch + 1,
            };
          }),
        }));
        if (records.length > 0) q.append(records);
        cb(null, { errorCode: 0, errorMessage: '', topics, ...asLeader() });
      },
      AllocateProducerIds: unimplemented,
      ElectLeaders: unimplemented,
      CreatePartitions: unimplemented,
      CreateAcls: unimplemented,
      DeleteAcls: unimplemented,
      AlterUserScramCredentials: unimplemented,
      AlterPartitionReassignments: unimplemented,
    };
  }
}

/**
 * One quorum led by a single fake controller (node 1) and a temp directory for the brokers' data;
 * their teardown goes on `cleanups` (run by the test's afterEach).
 */
export async function startFakeQuorum(
  prefix: string,
  cleanups: Array<() => Promise<void> | void>,
): Promise<{ quorum: FakeQuorum; controller: FakeController; root: string }> {
  const quorum = new FakeQuorum();
  quorum.leaderId = 1;
  const controller = await FakeController.start(1, quorum);
  const root = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => {
    controller.stop();
    quorum.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { quorum, controller, root };
}

/** A topic with explicit placement (id `id-<name>`), as the records of one entry. */
export function topicRecords(name: string, partitions: Array<{ replicas: number[]; isr?: number[]; leader?: number }>): MetadataRecord[] {
  const topicId = `id-${name}`;
  return [
    { type: 'Topic', name, topicId },
    ...partitions.map(
      (p, partition): MetadataRecord => ({
        type: 'Partition',
        topicId,
        partition,
        replicas: p.replicas,
        isr: p.isr ?? p.replicas,
        leader: p.leader ?? p.replicas[0]!,
        leaderEpoch: 0,
        partitionEpoch: 0,
      }),
    ),
  ];
}
