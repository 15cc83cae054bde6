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
 * `session.timeout.ms` is gone. The leader is the live worker with the smallest id. Connectors and
 * tasks are assigned separately and incrementally (`assignment.ts`, after Kafka's
 * `IncrementalCooperativeAssignor`): a unit keeps its live worker; new and orphaned units go to the
 * least loaded member. A worker starts work only from the latest generation that names it a member
 * (the generation fence). Each worker runs its connectors through a local StandaloneHerder in
 * connector-only mode and hosts its tasks with the task configs from the config topic (sharing the
 * offset topic), and publishes their statuses. REST reads are answered from the replayed topics by
 * any worker; config writes and KIP-875 offset changes are forwarded to the leader, restarts to the
 * connector's or task's owner.
 */
import { Samsa, systemClock, type Logger } from '@samsa/client';
import type { ConnectorType } from './api.js';
import {
  EMPTY_ASSIGNMENT,
  acceptStatus,
  assignedTo,
  computeAssignment,
  mayStart,
  parseAssignment,
  taskKey,
  type Assignment,
  type StatusRecord,
} from './assignment.js';
import { builtinPlugins } from './builtins.js';
import { fencingDone, fencingPlan, workerExactlyOnce, type ExactlyOnceSourceSupport, type FencingState } from './exactlyOnce.js';
import type { ConfigInfos } from './configDef.js';
import {
  ConnectRestError,
  ForwardRequest,
  StandaloneHerder,
  checkConnectorConfig,
  notStoppedError,
  parseOffsetsBody,
  resetConnectorOffsets,
  writeOffsets,
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
import { onlyTopicsExist } from './topicExists.js';

export class DistributedHerder implements Herder {
  readonly configs = new Map<string, Record<string, string>>();
  readonly targets = new Map<string, TargetState>();
  readonly taskProps = new Map<string, Array<Record<string, string>>>();
  private readonly pendingTasks = new Map<string, Map<number, Record<string, string>>>();
  assignment: Assignment = EMPTY_ASSIGNMENT;
  private readonly statuses = new Map<string, StatusRecord>();
  private readonly heartbeats = new Map<string, number>();
  private readonly applied = new Map<string, string>();
  private readonly published = new Map<string, string>();
  configLog!: KafkaBasedLog;
  statusLog!: KafkaBasedLog;
  private ticking = false;
  private lastHeartbeat = 0;
  /** KIP-618: per connector, where its latest task configs and task count record sit in the config topic. */
  readonly fencing = new Map<string, FencingState>();

  /** The worker's config (KIP-618 checks on create). */
  workerConfig: Record<string, string> = {};

  constructor(
    readonly workerId: string,
    private readonly local: StandaloneHerder,
    private readonly registry: PluginRegistry,
    private readonly offsetStore: KafkaOffsetStore,
    private readonly samsa: Samsa,
    private readonly settings: {
      heartbeatMs: number;
      sessionTimeoutMs: number;
      groupId?: string;
      exactlyOnce?: ExactlyOnceSourceSupport;
      /** Fences one transactional id (InitProducerId through a throwaway producer). */
      fence?: (transactionalId: string) => Promise<void>;
    },
    private readonly logger: Logger,
  ) {}

  private fencingOf(name: string): FencingState {
    let f = this.fencing.get(name);
    if (!f) this.fencing.set(name, (f = { commitOffset: -1, committedTasks: 0, taskCountOffset: -1, previousTaskCount: 0 }));
    return f;
  }

  /** Exactly-once sources need fencing rounds (worker `preparing` or `enabled`). */
  private fences(name: string): boolean {
    const mode = this.settings.exactlyOnce ?? 'disabled';
    const config = this.configs.get(name);
    return mode !== 'disabled' && config !== undefined && this.typeOf(config) === 'source';
  }

  applyConfigRecord(key: string | null, value: Buffer | null, offset = -1n): void {
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
    } else if (!key.startsWith('task-count-record-') && (m = /^task-(.+)-(\d+)$/.exec(key))) {
      let pending = this.pendingTasks.get(m[1]!);
      if (!pending) this.pendingTasks.set(m[1]!, (pending = new Map()));
      pending.set(Number(m[2]), (json?.properties ?? {}) as Record<string, string>);
    } else if ((m = /^commit-(.+)$/.exec(key))) {
      // Task configs count only once their commit record says how many there are (Kafka's rule).
      const n = Number(json?.tasks ?? 0);
      const f = this.fencingOf(m[1]!);
      f.commitOffset = Number(offset);
      f.committedTasks = n;
      const pending = this.pendingTasks.get(m[1]!) ?? new Map<number, Record<string, string>>();
      this.taskProps.set(
        m[1]!,
        Array.from({ length: n }, (_, i) => pending.get(i) ?? {}),
      );
      this.pendingTasks.delete(m[1]!);
    } else if ((m = /^task-count-record-(.+)$/.exec(key))) {
      const f = this.fencingOf(m[1]!);
      f.taskCountOffset = Number(offset);
      f.previousTaskCount = Number(json?.['task-count'] ?? 0);
    } else if (key === 'samsa-assignment' && json !== null) {
      this.assignment = parseAssignment(json);
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
    if (value === null) {
      this.statuses.delete(key);
      return;
    }
    const incoming = JSON.parse(value.toString('utf8')) as StatusRecord;
    // A zombie's status from an older generation does not replace the new owner's.
    if (acceptStatus(this.statuses.get(key), incoming)) this.statuses.set(key, incoming);
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
      if (live[0] === this.workerId) {
        await this.assign(live);
        await this.fenceZombies();
      }
      await this.reconcile();
      await this.publish();
    } catch (err) {
      this.logger.warn('distributed herder round failed', { error: String(err) });
    } finally {
      this.ticking = false;
    }
  }

  private async assign(live: string[]): Promise<void> {
    const work = [...this.configs.keys()].map((name) => ({
      name,
      taskCount: this.targets.get(name) === 'STOPPED' ? 0 : (this.taskProps.get(name) ?? []).length,
    }));
    const next = computeAssignment(this.assignment, live, work, this.workerId);
    if (next === undefined) return;
    await this.configLog.send('samsa-assignment', next);
    await this.configLog.readToEnd();
  }

  /**
   * KIP-618's zombie fencing round, on the leader: for each exactly-once source connector whose
   * latest task configs are newer than its task count record, fence every transactional id of
   * its old and new tasks, then write the task count record that lets the new tasks start.
   */
  private async fenceZombies(): Promise<void> {
    const { groupId, fence } = this.settings;
    if (groupId === undefined || fence === undefined) return;
    for (const name of this.configs.keys()) {
      if (!this.fences(name)) continue;
      const plan = fencingPlan(groupId, name, this.fencingOf(name));
      if (!plan) continue;
      this.logger.info('fencing zombie source tasks', { connector: name, transactionalIds: plan.transactionalIds });
      await Promise.all(plan.transactionalIds.map((id) => fence(id)));
      await this.configLog.send(`task-count-record-${name}`, { 'task-count': plan.taskCount });
      await this.configLog.readToEnd();
    }
  }

  /** The generation fence: read the config topic to its end; may work from generation `acting` still start? */
  private async fenced(acting: number): Promise<boolean> {
    await this.configLog.readToEnd();
    return !mayStart(acting, this.assignment, this.workerId);
  }

  private async reconcile(): Promise<void> {
    const acting = this.assignment;
    const mine = assignedTo(acting, this.workerId);
    const myConnectors = new Set(mine.connectors.filter((c) => this.configs.has(c)));
    const myTasks = new Map<string, { connector: string; task: number; config: Record<string, string> }>();
    for (const { connector, task } of mine.tasks) {
      const config = this.taskProps.get(connector)?.[task];
      if (config === undefined || !this.configs.has(connector) || this.targets.get(connector) === 'STOPPED') continue;
      // An exactly-once source's tasks wait for the leader's fencing round of their task configs.
      if (this.fences(connector) && !fencingDone(this.fencingOf(connector))) continue;
      myTasks.set(taskKey(connector, task), { connector, task, config });
    }
    // Stop what is no longer ours (always allowed, whatever the generation).
    for (const name of this.local.connectorNames()) {
      if (!myConnectors.has(name)) {
        await this.local.deleteConnector(name);
        this.applied.delete(name);
        this.unpublish(`status-connector-${name}`);
      }
    }
    for (const t of this.local.hostedTasks()) {
      if (!myTasks.has(taskKey(t.connector, t.task))) {
        await this.local.unhostTask(t.connector, t.task);
        // Stopped, final offset flush done: say so, so offsets may be changed (KIP-875 check).
        await this.writeStatus(`status-task-${t.connector}-${t.task}`, 'UNASSIGNED', undefined);
        this.unpublish(`status-task-${t.connector}-${t.task}`);
      }
    }
    let checked = false;
    const mayStartNew = async () => {
      if (!checked) {
        checked = true;
        if (await this.fenced(acting.generation)) {
          this.logger.info('assignment is stale; starting nothing this round', { generation: acting.generation });
          return false;
        }
      }
      return this.assignment.generation === acting.generation;
    };
    for (const name of myConnectors) {
      const config = this.configs.get(name)!;
      const target = this.targets.get(name) ?? 'STARTED';
      const want = JSON.stringify(config);
      const running = this.local.connectorNames().includes(name);
      try {
        if (!running || this.applied.get(name) !== want) {
          if (!(await mayStartNew())) return;
          await this.local.putConnectorConfig(name, config, true, target);
          this.applied.set(name, want);
        }
        await this.local.setTargetState(name, target);
      } catch (err) {
        this.logger.error('cannot run assigned connector', { connector: name, error: String(err) });
      }
    }
    const hosted = new Set(this.local.hostedTasks().map((t) => taskKey(t.connector, t.task)));
    for (const [key, { connector, task, config }] of myTasks) {
      const target = this.targets.get(connector) ?? 'STARTED';
      if (!hosted.has(key) && !(await mayStartNew())) return;
      try {
        await this.local.hostTask(connector, task, this.configs.get(connector)!, config, target);
      } catch (err) {
        this.logger.error('cannot run assigned task', { connector, task, error: String(err) });
      }
    }
  }

  private unpublish(key: string): void {
    this.published.delete(key);
  }

  private async writeStatus(key: string, state: string, trace: string | undefined): Promise<void> {
    const value: StatusRecord = { state, trace: trace ?? null, worker_id: this.workerId, generation: this.assignment.generation };
    const text = JSON.stringify([state, trace ?? null]);
    if (this.published.get(key) === text) return;
    await this.statusLog.send(key, value);
    this.published.set(key, text);
  }

  private async publish(): Promise<void> {
    for (const name of this.local.connectorNames()) {
      const status = this.local.connectorStatus(name);
      await this.writeStatus(`status-connector-${name}`, status.connector.state, status.connector.trace);
      const tasks = this.local.taskConfigs(name).map((t) => t.config);
      const taskKeyText = `tasks:${name}`;
      const taskText = JSON.stringify(tasks);
      // Written only when they differ from the committed ones (Kafka's rule): a connector that merely
      // moved republishes nothing, so an exactly-once source gets no needless fencing round.
      const committed = this.taskProps.get(name);
      if (this.published.get(taskKeyText) !== taskText && (committed === undefined || JSON.stringify(committed) !== taskText)) {
        for (let i = 0; i < tasks.length; i++) await this.configLog.send(`task-${name}-${i}`, { properties: tasks[i] });
        await this.configLog.send(`commit-${name}`, { tasks: tasks.length });
        this.published.set(taskKeyText, taskText);
      }
    }
    // Only tasks the latest assignment gives this worker: a zombie's copy (e.g. FAILED as fenced) says nothing.
    for (const t of this.local.hostedTasks())
      if (this.assignment.tasks[taskKey(t.connector, t.task)] === this.workerId)
        await this.writeStatus(`status-task-${t.connector}-${t.task}`, t.state, t.trace);
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
    checkConnectorConfig(this.registry, name, config, this.workerConfig);
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
    return {
      name,
      connector: this.statusOf(`status-connector-${name}`, this.assignment.connectors[name]),
      tasks: (this.taskProps.get(name) ?? []).map((_, id) => ({
        id,
        ...this.statusOf(`status-task-${name}-${id}`, this.assignment.tasks[taskKey(name, id)]),
      })),
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
    return { id, ...this.statusOf(`status-task-${name}-${id}`, this.assignment.tasks[taskKey(name, id)]) };
  }

  private requireOwner(name: string, owner: string | undefined): void {
    if (owner === undefined) throw new ConnectRestError(409, `Connector ${name} is not assigned to a worker yet`);
    if (owner !== this.workerId) throw new ForwardRequest(this.url(owner));
  }

  async restartTask(name: string, id: number): Promise<void> {
    this.get(name);
    if (id >= (this.taskProps.get(name) ?? []).length) throw new ConnectRestError(404, `Task not found: ${name}-${id}`);
    this.requireOwner(name, this.assignment.tasks[taskKey(name, id)]);
    await this.local.restartHostedTask(name, id);
  }

  /** On the connector's owner: restarts the connector here and asks each task's owner to restart the chosen tasks (KIP-745). */
  async restartConnector(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatusJson | undefined> {
    this.get(name);
    this.requireOwner(name, this.assignment.connectors[name]);
    const status = this.connectorStatus(name);
    const restartConnector = !onlyFailed || status.connector.state === 'FAILED';
    const tasks = includeTasks ? status.tasks.filter((t) => !onlyFailed || t.state === 'FAILED').map((t) => t.id) : [];
    if (restartConnector) await this.local.restartConnector(name, false, false);
    for (const id of tasks) {
      const owner = this.assignment.tasks[taskKey(name, id)];
      if (owner === this.workerId) await this.local.restartHostedTask(name, id);
      else if (owner !== undefined) {
        const res = await fetch(`${this.url(owner)}/connectors/${encodeURIComponent(name)}/tasks/${id}/restart`, {
          method: 'POST',
          signal: AbortSignal.timeout(60_000),
        });
        if (!res.ok) throw new ConnectRestError(res.status, `Restart of task ${name}-${id} on ${owner} failed: ${await res.text()}`);
      }
    }
    if (!includeTasks && !onlyFailed) return undefined;
    if (restartConnector) status.connector.state = 'RESTARTING';
    for (const id of tasks) status.tasks[id]!.state = 'RESTARTING';
    return status;
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

  /**
   * KIP-875's precondition, as Kafka's `DistributedHerder`: target STOPPED and no task configs
   * left; and (ours) no live worker still reporting one of its tasks as other than UNASSIGNED, so
   * a task still flushing on its way down cannot overwrite the new offsets.
   */
  private requireStopped(name: string): void {
    if (this.targets.get(name) !== 'STOPPED' || (this.taskProps.get(name) ?? []).length > 0) throw notStoppedError(name);
    const live = new Set(this.liveWorkers());
    for (const [key, s] of this.statuses) {
      if (
        key.startsWith(`status-task-${name}-`) &&
        /^\d+$/.test(key.slice(`status-task-${name}-`.length)) &&
        s.state !== 'UNASSIGNED' &&
        live.has(s.worker_id)
      )
        throw notStoppedError(name);
    }
  }

  async alterOffsets(name: string, body: unknown): Promise<{ message: string }> {
    const config = this.get(name);
    this.requireStopped(name);
    const parsed = parseOffsetsBody(this.typeOf(config), body);
    this.requireLeader();
    return writeOffsets(name, parsed, this.offsetStore, this.samsa.admin());
  }

  async resetOffsets(name: string): Promise<{ message: string }> {
    const config = this.get(name);
    this.requireStopped(name);
    this.requireLeader();
    await this.offsetLogReadToEnd();
    return resetConnectorOffsets(name, this.typeOf(config), this.offsetStore, this.samsa.admin());
  }

  private async offsetLogReadToEnd(): Promise<void> {
    await this.offsetStore.log?.readToEnd();
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
  const exactlyOnce = workerExactlyOnce(workerConfig);
  const offsetIsolation = exactlyOnce === 'disabled' ? 'read_uncommitted' : 'read_committed';
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
        if (!onlyTopicsExist(err)) throw err;
      });
    }
    const plugins = builtinPlugins();
    if (workerConfig['plugin.path']) await loadPluginPath(plugins, workerConfig['plugin.path']);
    const offsetStore = new KafkaOffsetStore();
    const metrics = new ConnectMetrics();
    const offsetLog = new KafkaBasedLog(
      samsa,
      admin,
      producer,
      offsetTopic,
      offsetPartitions,
      (k, v) => offsetStore.apply(k, v),
      logger,
      offsetIsolation,
    );
    offsetStore.log = offsetLog;
    /** A connector's own offsets topic (KIP-618): created compacted like the global one when missing, read once to its last stable offset. */
    const readConnectorOffsets = async (topic: string): Promise<KafkaOffsetStore> => {
      const known = await admin.listTopics();
      if (!known.includes(topic)) {
        await admin
          .createTopics([
            {
              topic,
              numPartitions: offsetPartitions,
              replicationFactor: Math.max(
                1,
                Math.min(Number(workerConfig['offset.storage.replication.factor'] ?? '3'), cluster.brokers.length),
              ),
              configs: { 'cleanup.policy': 'compact' },
            },
          ])
          .catch((err: unknown) => {
            if (!onlyTopicsExist(err)) throw err;
          });
      }
      const [described] = await admin.describeTopics([topic]);
      const store = new KafkaOffsetStore();
      const log = new KafkaBasedLog(
        samsa,
        admin,
        producer,
        topic,
        described!.partitions.length,
        (k, v) => store.apply(k, v),
        logger,
        'read_committed',
      );
      await log.start();
      await log.stop();
      return store;
    };
    const local = new StandaloneHerder({
      connectorOnly: true,
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
      ...(exactlyOnce === 'enabled'
        ? {
            exactlyOnce: {
              groupId,
              globalOffsetsTopic: offsetTopic,
              readGlobalOffsets: () => offsetLog.readToEnd(),
              readConnectorOffsets,
            },
          }
        : {}),
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
        groupId,
        exactlyOnce,
        fence: async (transactionalId) => {
          // Kafka's Admin.fenceProducers: InitProducerId for the id bumps its epoch and aborts its open transaction.
          const fencer = samsa.producer({ transactionalId });
          try {
            await fencer.initTransactions();
          } finally {
            await fencer.close().catch(() => undefined);
          }
        },
      },
      logger,
    );
    herder.workerConfig = workerConfig;
    herder.configLog = new KafkaBasedLog(
      samsa,
      admin,
      producer,
      configTopic,
      1,
      (k, v, _ts, offset) => herder.applyConfigRecord(k, v, offset),
      logger,
    );
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
