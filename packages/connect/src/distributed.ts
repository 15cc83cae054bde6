/**
 * The distributed worker, after Kafka's `DistributedHerder` with the keys of its
 * `KafkaConfigBackingStore`, `KafkaOffsetBackingStore` and `KafkaStatusBackingStore`.
 *
 * Workers with one `group.id` share three compacted topics. Config topic: `connector-<name>`
 * `{"properties":{...}}`, `target-state-<name>` `{"state":...}`, `task-<name>-<n>`
 * `{"properties":{...}}` + `commit-<name>` `{"tasks":n}`, and the leader's assignment under
 * `samsa-assignment`. Offset topic: `["<connector>",{partition}]` → `{offset}`. Status topic:
 * `status-connector-<name>`, `status-task-<name>-<n>` `{"state","trace","worker_id","generation"}`,
 * and each worker's heartbeat `worker-<id>`.
 *
 * Membership is the heartbeats: a worker whose last heartbeat (record timestamp) is older than
 * `session.timeout.ms` is gone. The leader is the live worker with the smallest id. The unit of
 * work is a connector with all its tasks. The leader's assignment is incremental: a connector
 * stays where it runs while that worker is live; only new connectors and those of departed
 * workers are placed, each on the live worker running the fewest. Every worker runs what the
 * assignment gives it through a local StandaloneHerder (sharing the offset topic) and publishes
 * its statuses. REST reads are answered from the replayed topics by any worker; config writes are
 * forwarded to the leader, restarts to the connector's owner.
 */
import { Samsa, systemClock, type Logger } from '@samsa/client';
import type { ConnectorType } from './api.js';
import { builtinPlugins } from './builtins.js';
import type { ConfigInfos } from './configDef.js';
import {
  ConnectRestError,
  ForwardRequest,
  StandaloneHerder,
  checkConnectorConfig,
  type ConnectorInfo,
  type ConnectorOffsetsJson,
  type ConnectorStatusJson,
  type Herder,
  type TargetState,
  type TaskStatusJson,
} from './herder.js';
import { KafkaBasedLog } from './kafkaBasedLog.js';
import { KafkaOffsetStore } from './kafkaOffsetStore.js';
import { ConnectMetrics } from './metrics.js';
import type { PluginDesc, PluginRegistry } from './plugins.js';
import { loadPluginPath } from './pluginLoader.js';
import { ConnectRestServer } from './rest.js';

interface Assignment {
  generation: number;
  leader: string;
  owners: Record<string, string>;
}
interface StatusRecord {
  state: string;
  trace?: string | null;
  worker_id: string;
  generation: number;
}

export class DistributedHerder implements Herder {
  readonly configs = new Map<string, Record<string, string>>();
  readonly targets = new Map<string, TargetState>();
  readonly taskProps = new Map<string, Array<Record<string, string>>>();
  private readonly pendingTasks = new Map<string, Map<number, Record<string, string>>>();
  assignment: Assignment = { generation: 0, leader: '', owners: {} };
  private readonly statuses = new Map<string, StatusRecord>();
  private readonly heartbeats = new Map<string, number>();
  private readonly applied = new Map<string, string>();
  private readonly published = new Map<string, string>();
  configLog!: KafkaBasedLog;
  statusLog!: KafkaBasedLog;
  private ticking = false;
  private lastHeartbeat = 0;

  constructor(
    readonly workerId: string,
    private readonly local: StandaloneHerder,
    private readonly registry: PluginRegistry,
    private readonly offsetStore: KafkaOffsetStore,
    private readonly samsa: Samsa,
    private readonly settings: { heartbeatMs: number; sessionTimeoutMs: number },
    private readonly logger: Logger,
  ) {}

  applyConfigRecord(key: string | null, value: Buffer | null): void {
    if (key === null) return;
    const json = value === null ? null : (JSON.parse(value.toString('utf8')) as Record<string, unknown>);
    let m: RegExpExecArray | null;
    if ((m = /^connector-(.+)$/.exec(key))) {
      if (json === null) {
        this.configs.delete(m[1]!);
        this.taskProps.delete(m[1]!);
      } else this.configs.set(m[1]!, json.properties as Record<string, string>);
    } else if ((m = /^target-state-(.+)$/.exec(key))) {
      if (json === null) this.targets.delete(m[1]!);
      else this.targets.set(m[1]!, json.state as TargetState);
    } else if ((m = /^task-(.+)-(\d+)$/.exec(key))) {
      let pending = this.pendingTasks.get(m[1]!);
      if (!pending) this.pendingTasks.set(m[1]!, (pending = new Map()));
      pending.set(Number(m[2]), (json?.properties ?? {}) as Record<string, string>);
    } else if ((m = /^commit-(.+)$/.exec(key))) {
      // Task configs count only once their commit record says how many there are (Kafka's rule).
      const n = Number(json?.tasks ?? 0);
      const pending = this.pendingTasks.get(m[1]!) ?? new Map<number, Record<string, string>>();
      this.taskProps.set(
        m[1]!,
        Array.from({ length: n }, (_, i) => pending.get(i) ?? {}),
      );
      this.pendingTasks.delete(m[1]!);
    } else if (key === 'samsa-assignment' && json !== null) {
      this.assignment = json as unknown as Assignment;
    }
  }

  applyStatusRecord(key: string | null, value: Buffer | null, timestamp: number): void {
    if (key === null) return;
    const m = /^worker-(.+)$/.exec(key);
    if (m) {
      if (value === null) this.heartbeats.delete(m[1]!);
      else this.heartbeats.set(m[1]!, timestamp);
      return;
    }
    if (value === null) this.statuses.delete(key);
    else this.statuses.set(key, JSON.parse(value.toString('utf8')) as StatusRecord);
  }

  liveWorkers(): string[] {
    const now = Date.now();
    const live = new Set([this.workerId]);
    for (const [id, ts] of this.heartbeats) if (now - ts < this.settings.sessionTimeoutMs) live.add(id);
    return [...live].sort();
  }

  leader(): string {
    return this.liveWorkers()[0]!;
  }

  private url(id: string): string {
    return `http://${id}`;
  }

  private requireLeader(): void {
    const leader = this.leader();
    if (leader !== this.workerId) throw new ForwardRequest(this.url(leader));
  }

  /** One round: heartbeat, the leader's assignment, then run what is ours and publish statuses. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      if (Date.now() - this.lastHeartbeat >= this.settings.heartbeatMs) {
        this.lastHeartbeat = Date.now();
        await this.statusLog.send(`worker-${this.workerId}`, { url: this.url(this.workerId), time: this.lastHeartbeat });
      }
      const live = this.liveWorkers();
      if (live[0] === this.workerId) await this.assign(live);
      await this.reconcile();
      await this.publish();
    } catch (err) {
      this.logger.warn('distributed herder round failed', { error: String(err) });
    } finally {
      this.ticking = false;
    }
  }

  private async assign(live: string[]): Promise<void> {
    const owners: Record<string, string> = {};
    const load = new Map(live.map((w) => [w, 0]));
    const names = [...this.configs.keys()].sort();
    // Keep what runs on a live worker; place only the rest.
    for (const c of names) {
      const prev = this.assignment.owners[c];
      if (prev !== undefined && load.has(prev)) {
        owners[c] = prev;
        load.set(prev, load.get(prev)! + 1);
      }
    }
    for (const c of names) {
      if (owners[c] !== undefined) continue;
      const target = [...load].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
      owners[c] = target;
      load.set(target, load.get(target)! + 1);
    }
    if (JSON.stringify(owners) === JSON.stringify(this.assignment.owners)) return;
    const next: Assignment = { generation: this.assignment.generation + 1, leader: this.workerId, owners };
    await this.configLog.send('samsa-assignment', next);
    await this.configLog.readToEnd();
  }

  private async reconcile(): Promise<void> {
    const mine = new Set(
      Object.entries(this.assignment.owners)
        .filter(([c, w]) => w === this.workerId && this.configs.has(c))
        .map(([c]) => c),
    );
    for (const name of this.local.connectorNames()) {
      if (!mine.has(name)) {
        await this.local.deleteConnector(name);
        this.applied.delete(name);
      }
    }
    for (const name of mine) {
      const config = this.configs.get(name)!;
      const target = this.targets.get(name) ?? 'STARTED';
      const want = JSON.stringify(config);
      const running = this.local.connectorNames().includes(name);
      try {
        if (!running || this.applied.get(name) !== want) {
          await this.local.putConnectorConfig(name, config, true, target);
          this.applied.set(name, want);
        }
        await this.local.setTargetState(name, target);
      } catch (err) {
        this.logger.error('cannot run assigned connector', { connector: name, error: String(err) });
      }
    }
  }

  private async publish(): Promise<void> {
    const generation = this.assignment.generation;
    for (const name of this.local.connectorNames()) {
      const status = this.local.connectorStatus(name);
      const records: Array<[string, StatusRecord]> = [
        [
          `status-connector-${name}`,
          { state: status.connector.state, trace: status.connector.trace ?? null, worker_id: this.workerId, generation },
        ],
      ];
      for (const t of status.tasks)
        records.push([`status-task-${name}-${t.id}`, { state: t.state, trace: t.trace ?? null, worker_id: this.workerId, generation }]);
      for (const [key, value] of records) {
        const text = JSON.stringify(value);
        if (this.published.get(key) === text) continue;
        await this.statusLog.send(key, value);
        this.published.set(key, text);
      }
      const tasks = this.local.taskConfigs(name).map((t) => t.config);
      const taskKey = `tasks:${name}`;
      const taskText = JSON.stringify(tasks);
      if (this.published.get(taskKey) !== taskText) {
        for (let i = 0; i < tasks.length; i++) await this.configLog.send(`task-${name}-${i}`, { properties: tasks[i] });
        await this.configLog.send(`commit-${name}`, { tasks: tasks.length });
        this.published.set(taskKey, taskText);
      }
    }
  }

  private get(name: string): Record<string, string> {
    const c = this.configs.get(name);
    if (!c) throw new ConnectRestError(404, `Connector ${name} not found`);
    return c;
  }

  private typeOf(config: Record<string, string>): ConnectorType {
    const plugin = this.registry.find(config['connector.class'] ?? '');
    return plugin ? new plugin.ctor().type : 'source';
  }

  connectorNames(): string[] {
    return [...this.configs.keys()].sort();
  }
  plugins(): PluginDesc[] {
    return this.local.plugins();
  }
  validate(pluginName: string, props: Record<string, string>): ConfigInfos {
    return this.local.validate(pluginName, props);
  }

  async putConnectorConfig(
    name: string,
    config: Record<string, string>,
    replace: boolean,
    target: TargetState = 'STARTED',
  ): Promise<{ created: boolean; info: ConnectorInfo }> {
    const exists = this.configs.has(name);
    if (exists && !replace) throw new ConnectRestError(409, `Connector ${name} already exists`);
    checkConnectorConfig(this.registry, name, config);
    this.requireLeader();
    const full = { ...config, name };
    await this.configLog.send(`connector-${name}`, { properties: full });
    if (!exists) await this.configLog.send(`target-state-${name}`, { state: target });
    await this.configLog.readToEnd();
    return { created: !exists, info: this.connectorInfo(name) };
  }

  async patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo> {
    const merged: Record<string, string> = { ...this.get(name) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    return (await this.putConnectorConfig(name, merged, true)).info;
  }

  async deleteConnector(name: string): Promise<void> {
    this.get(name);
    this.requireLeader();
    await this.configLog.send(`connector-${name}`, null);
    await this.configLog.send(`target-state-${name}`, null);
    await this.configLog.readToEnd();
  }

  connectorInfo(name: string): ConnectorInfo {
    const config = this.get(name);
    return {
      name,
      config: { ...config },
      tasks: (this.taskProps.get(name) ?? []).map((_, task) => ({ connector: name, task })),
      type: this.typeOf(config),
    };
  }

  connectorConfig(name: string): Record<string, string> {
    return { ...this.get(name) };
  }

  private statusOf(key: string, owner: string | undefined): { state: string; worker_id: string; trace?: string } {
    const s = this.statuses.get(key);
    if (!s) return { state: 'UNASSIGNED', worker_id: owner ?? '' };
    return { state: s.state, worker_id: s.worker_id, ...(s.trace ? { trace: s.trace } : {}) };
  }

  connectorStatus(name: string): ConnectorStatusJson {
    const config = this.get(name);
    const owner = this.assignment.owners[name];
    return {
      name,
      connector: this.statusOf(`status-connector-${name}`, owner),
      tasks: (this.taskProps.get(name) ?? []).map((_, id) => ({ id, ...this.statusOf(`status-task-${name}-${id}`, owner) })),
      type: this.typeOf(config),
    };
  }

  taskConfigs(name: string): Array<{ id: { connector: string; task: number }; config: Record<string, string> }> {
    this.get(name);
    return (this.taskProps.get(name) ?? []).map((config, task) => ({ id: { connector: name, task }, config: { ...config } }));
  }

  taskStatus(name: string, id: number): TaskStatusJson {
    this.get(name);
    if (id >= (this.taskProps.get(name) ?? []).length) throw new ConnectRestError(404, `No status found for task ${name}-${id}`);
    return { id, ...this.statusOf(`status-task-${name}-${id}`, this.assignment.owners[name]) };
  }

  private requireOwner(name: string): void {
    this.get(name);
    const owner = this.assignment.owners[name];
    if (owner === undefined) throw new ConnectRestError(409, `Connector ${name} is not assigned to a worker yet`);
    if (owner !== this.workerId) throw new ForwardRequest(this.url(owner));
  }

  async restartTask(name: string, id: number): Promise<void> {
    this.requireOwner(name);
    await this.local.restartTask(name, id);
  }

  async restartConnector(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatusJson | undefined> {
    this.requireOwner(name);
    return this.local.restartConnector(name, includeTasks, onlyFailed);
  }

  async setTargetState(name: string, target: TargetState): Promise<void> {
    this.get(name);
    this.requireLeader();
    await this.configLog.send(`target-state-${name}`, { state: target });
    await this.configLog.readToEnd();
  }

  async offsets(name: string): Promise<ConnectorOffsetsJson> {
    const config = this.get(name);
    if (this.typeOf(config) === 'source') return { offsets: this.offsetStore.list(name) };
    const committed = await this.samsa.admin().fetchOffsets(`connect-${name}`);
    return {
      offsets: committed
        .filter((o) => o.offset >= 0n)
        .map((o) => ({ partition: { kafka_topic: o.topic, kafka_partition: o.partition }, offset: { kafka_offset: Number(o.offset) } })),
    };
  }

  alterOffsets(name: string): Promise<{ message: string }> {
    this.get(name);
    return Promise.reject(
      new ConnectRestError(501, 'Altering offsets is not supported by distributed workers yet; use a standalone worker'),
    );
  }

  resetOffsets(name: string): Promise<{ message: string }> {
    this.get(name);
    return Promise.reject(
      new ConnectRestError(501, 'Resetting offsets is not supported by distributed workers yet; use a standalone worker'),
    );
  }

  /** Leaving: stop local work and tell the others at once (a null heartbeat). */
  async leave(): Promise<void> {
    await this.local.stopAll();
    await this.statusLog.send(`worker-${this.workerId}`, null).catch(() => undefined);
  }
}

export interface DistributedWorker {
  herder: DistributedHerder;
  restPort: number;
  stop(): Promise<void>;
}

function required(cfg: Record<string, string>, key: string): string {
  const v = cfg[key];
  if (!v) throw new ConnectRestError(400, `Missing required configuration "${key}" which has no default value.`);
  return v;
}

export async function startDistributedWorker(workerConfig: Record<string, string>, logger: Logger): Promise<DistributedWorker> {
  const groupId = required(workerConfig, 'group.id');
  const configTopic = required(workerConfig, 'config.storage.topic');
  const offsetTopic = required(workerConfig, 'offset.storage.topic');
  const statusTopic = required(workerConfig, 'status.storage.topic');
  const samsa = new Samsa({
    brokers: required(workerConfig, 'bootstrap.servers')
      .split(',')
      .map((s) => s.trim()),
    clientId: `connect-${groupId}`,
    logger,
  });
  const admin = samsa.admin();
  const producer = samsa.producer({ acks: -1, lingerMs: 1 });
  const host = workerConfig['rest.advertised.host.name'] ?? workerConfig['rest.host.name'] ?? '127.0.0.1';
  const port = Number(workerConfig['rest.port'] ?? '8083');
  const workerId = `${host}:${workerConfig['rest.advertised.port'] ?? port}`;
  const offsetPartitions = Number(workerConfig['offset.storage.partitions'] ?? '25');
  const statusPartitions = Number(workerConfig['status.storage.partitions'] ?? '5');
  try {
    const cluster = await admin.describeCluster();
    const existing = await admin.listTopics();
    const rf = (k: string) => Math.max(1, Math.min(Number(workerConfig[k] ?? '3'), cluster.brokers.length));
    const wanted = [
      { topic: configTopic, numPartitions: 1, replicationFactor: rf('config.storage.replication.factor') },
      { topic: offsetTopic, numPartitions: offsetPartitions, replicationFactor: rf('offset.storage.replication.factor') },
      { topic: statusTopic, numPartitions: statusPartitions, replicationFactor: rf('status.storage.replication.factor') },
    ]
      .filter((t) => !existing.includes(t.topic))
      .map((t) => ({ ...t, configs: { 'cleanup.policy': 'compact' } }));
    if (wanted.length > 0) {
      await admin.createTopics(wanted).catch((err: unknown) => {
        // Another worker created it first.
        if (!(err instanceof Error && /exist/i.test(err.message))) throw err;
      });
    }
    const plugins = builtinPlugins();
    if (workerConfig['plugin.path']) await loadPluginPath(plugins, workerConfig['plugin.path']);
    const offsetStore = new KafkaOffsetStore();
    const metrics = new ConnectMetrics();
    const local = new StandaloneHerder({
      samsa,
      producer,
      admin,
      clock: systemClock,
      logger,
      metrics,
      offsets: offsetStore,
      plugins,
      workerConfig,
      workerId,
    });
    const herder = new DistributedHerder(
      workerId,
      local,
      plugins,
      offsetStore,
      samsa,
      {
        heartbeatMs: Number(workerConfig['heartbeat.interval.ms'] ?? '3000'),
        sessionTimeoutMs: Number(workerConfig['session.timeout.ms'] ?? '10000'),
      },
      logger,
    );
    const offsetLog = new KafkaBasedLog(samsa, admin, producer, offsetTopic, offsetPartitions, (k, v) => offsetStore.apply(k, v), logger);
    offsetStore.log = offsetLog;
    herder.configLog = new KafkaBasedLog(samsa, admin, producer, configTopic, 1, (k, v) => herder.applyConfigRecord(k, v), logger);
    herder.statusLog = new KafkaBasedLog(
      samsa,
      admin,
      producer,
      statusTopic,
      statusPartitions,
      (k, v, ts) => herder.applyStatusRecord(k, v, ts),
      logger,
    );
    await offsetLog.start();
    await herder.configLog.start();
    await herder.statusLog.start();
    const rest = new ConnectRestServer({
      herder,
      metrics,
      host: workerConfig['rest.host.name'] ?? host,
      port,
      kafkaClusterId: () => cluster.clusterId,
    });
    const restPort = await rest.start();
    await herder.tick();
    const timer = setInterval(() => {
      void herder.tick();
    }, 250);
    return {
      herder,
      restPort,
      stop: async () => {
        clearInterval(timer);
        await rest.stop();
        await herder.leave();
        await Promise.all([offsetLog.stop(), herder.configLog.stop(), herder.statusLog.stop()]);
        await samsa.close();
      },
    };
  } catch (err) {
    await samsa.close();
    throw err;
  }
}
