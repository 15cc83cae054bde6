/**
 * The standalone herder, after Kafka's `StandaloneHerder`/`AbstractHerder`: it holds connector
 * configs and target states (STARTED, PAUSED, STOPPED), starts connectors and their tasks on this
 * worker, answers status, and changes offsets (KIP-875) only while a connector is STOPPED.
 * Every change runs one at a time (one queue), so REST calls never interleave half-done.
 */
import type { Admin, Clock, Logger, Producer, Samsa } from '@samsa/client';
import type { AnyConnector, ConnectorType, SourceOffset, SourcePartition } from './api.js';
import type { ConfigInfos } from './configDef.js';
import type { ConnectMetrics } from './metrics.js';
import type { OffsetBackingStore } from './offsetStore.js';
import { validateConnectorConfig, type PluginDesc, type PluginRegistry } from './plugins.js';
import { connectorExactlyOnce, exactlyOnceErrors, workerExactlyOnce } from './exactlyOnce.js';
import {
  ExactlyOnceWorkerSourceTask,
  stackOf,
  WorkerSinkTask,
  WorkerSourceTask,
  type ExactlyOnceTaskDeps,
  type TaskState,
} from './worker.js';

/** An error the REST layer answers with `{ error_code, message }`. */
export class ConnectRestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown by a distributed herder for a request another worker must answer (the leader, or a connector's owner). */
export class ForwardRequest extends Error {
  constructor(readonly url: string) {
    super(`forward to ${url}`);
  }
}

/** Kafka's answers to KIP-875 alter/reset (`ConnectorsResource`, `AbstractHerder`). */
export const SOURCE_ALTER_MESSAGE =
  'The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses.';
export const SOURCE_RESET_MESSAGE =
  'The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses.';
export const SINK_ALTER_MESSAGE = 'The offsets for this connector have been altered successfully';
export const SINK_RESET_MESSAGE = 'The offsets for this connector have been reset successfully';

export type ParsedOffsets =
  | { type: 'source'; entries: Array<{ partition: SourcePartition; offset: SourceOffset | null }> }
  | { type: 'sink'; resets: Array<{ topic: string; partition: number; offset: bigint }> };

/** Checks a KIP-875 `PATCH /connectors/{n}/offsets` body for a connector of `type` (Kafka's messages); changes nothing. */
export function parseOffsetsBody(type: ConnectorType, body: unknown): ParsedOffsets {
  const offsets = (typeof body === 'object' && body !== null ? (body as { offsets?: unknown }).offsets : undefined) as unknown;
  if (!Array.isArray(offsets) || offsets.length === 0) throw new ConnectRestError(400, 'Offsets must be specified and should not be empty');
  if (type === 'source') {
    return {
      type,
      entries: offsets.map((o: { partition?: unknown; offset?: unknown } | null) => {
        if (typeof o?.partition !== 'object' || o.partition === null || Array.isArray(o.partition))
          throw new ConnectRestError(400, 'Partitions must be specified and should not be empty');
        if (o.offset !== undefined && o.offset !== null && (typeof o.offset !== 'object' || Array.isArray(o.offset)))
          throw new ConnectRestError(400, 'Offset for a source partition must be an object or null');
        return { partition: o.partition as SourcePartition, offset: (o.offset ?? null) as SourceOffset | null };
      }),
    };
  }
  return {
    type,
    resets: offsets.map((o: { partition?: Record<string, unknown>; offset?: Record<string, unknown> | null } | null) => {
      const topic = o?.partition?.kafka_topic;
      const partition = o?.partition?.kafka_partition;
      const offset = o?.offset?.kafka_offset;
      if (typeof topic !== 'string' || typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0)
        throw new ConnectRestError(400, 'Partitions for sink connectors must have the keys kafka_topic and kafka_partition');
      if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0)
        throw new ConnectRestError(400, 'Offsets for sink connectors must be objects with the key kafka_offset and a non-negative value');
      return { topic, partition, offset: BigInt(offset) };
    }),
  };
}

export type OffsetsAdmin = Pick<Admin, 'resetOffsets' | 'listGroups' | 'deleteGroups'>;

/** Writes checked offsets: source ones to the offset store, sink ones to the group `connect-<name>`. */
export async function writeOffsets(
  name: string,
  parsed: ParsedOffsets,
  store: OffsetBackingStore,
  admin: OffsetsAdmin,
): Promise<{ message: string }> {
  if (parsed.type === 'source') {
    await store.set(name, parsed.entries);
    return { message: SOURCE_ALTER_MESSAGE };
  }
  await admin.resetOffsets(`connect-${name}`, parsed.resets);
  return { message: SINK_ALTER_MESSAGE };
}

/** Resets every offset: null for each stored source partition, or the sink's group deleted (as Kafka's reset). */
export async function resetConnectorOffsets(
  name: string,
  type: ConnectorType,
  store: OffsetBackingStore,
  admin: OffsetsAdmin,
): Promise<{ message: string }> {
  if (type === 'source') {
    await store.set(
      name,
      store.list(name).map(({ partition }) => ({ partition, offset: null })),
    );
    return { message: SOURCE_RESET_MESSAGE };
  }
  const group = `connect-${name}`;
  const groups = await admin.listGroups();
  if (groups.some((g) => g.groupId === group)) await admin.deleteGroups([group]);
  return { message: SINK_RESET_MESSAGE };
}

/** Kafka's refusal of an offsets change for a connector not STOPPED. */
export function notStoppedError(name: string): ConnectRestError {
  return new ConnectRestError(
    400,
    `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`,
  );
}

export type TargetState = 'STARTED' | 'PAUSED' | 'STOPPED';

/** Kafka's create/update check: the validation errors in one 400, nothing created. */
export function checkConnectorConfig(
  plugins: PluginRegistry,
  name: string,
  config: Record<string, string>,
  /** The worker's config, for KIP-618's checks; a standalone worker passes exactly.once.source.support=disabled. */
  workerConfig: Record<string, string> = {},
): { type: ConnectorType; className: string } {
  if (name === '' || /[/\\]/.test(name) || name !== name.trim()) throw new ConnectRestError(400, `Connector name is invalid: '${name}'`);
  if (config.name !== undefined && config.name !== name) {
    throw new ConnectRestError(
      400,
      'Connector name configuration (' + config.name + ") doesn't match connector name in the URL (" + name + ')',
    );
  }
  const result = validateConnectorConfig(plugins, { ...config, name });
  if (!result.infos) throw new ConnectRestError(400, result.errors[0]!);
  const plugin0 = plugins.find(config['connector.class']!)!;
  const probe = new plugin0.ctor();
  if (probe.type === 'source' && result.errors.length === 0) {
    const props = { ...config, name };
    result.errors.push(
      ...exactlyOnceErrors(props, workerConfig, {
        exactlyOnceSupport: probe.exactlyOnceSupport(props),
        canDefineTransactionBoundaries: probe.canDefineTransactionBoundaries(props),
      }),
    );
  }
  if (result.errors.length > 0) {
    throw new ConnectRestError(
      400,
      `Connector configuration is invalid and contains the following ${result.errors.length} error(s):\n` +
        `${result.errors.join('\n')}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``,
    );
  }
  return { type: probe.type, className: plugin0.className };
}

/** What the REST API needs of a herder (standalone or distributed). */
export interface Herder {
  connectorNames(): string[];
  plugins(): PluginDesc[];
  validate(pluginName: string, props: Record<string, string>): ConfigInfos;
  putConnectorConfig(
    name: string,
    config: Record<string, string>,
    replace: boolean,
    target?: TargetState,
  ): Promise<{ created: boolean; info: ConnectorInfo }>;
  patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo>;
  deleteConnector(name: string): Promise<void>;
  connectorInfo(name: string): ConnectorInfo;
  connectorConfig(name: string): Record<string, string>;
  connectorStatus(name: string): ConnectorStatusJson;
  taskConfigs(name: string): Array<{ id: { connector: string; task: number }; config: Record<string, string> }>;
  taskStatus(name: string, id: number): TaskStatusJson;
  restartTask(name: string, id: number): Promise<void>;
  restartConnector(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatusJson | undefined>;
  setTargetState(name: string, target: TargetState): Promise<void>;
  offsets(name: string): Promise<ConnectorOffsetsJson>;
  alterOffsets(name: string, body: unknown): Promise<{ message: string }>;
  resetOffsets(name: string): Promise<{ message: string }>;
}
type ConnectorRunState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'STOPPED' | 'RESTARTING';

interface TaskEntry {
  runner?: WorkerSourceTask | ExactlyOnceWorkerSourceTask | WorkerSinkTask;
  state: TaskState;
  trace?: string;
}

interface ConnectorEntry {
  name: string;
  config: Record<string, string>;
  target: TargetState;
  type: ConnectorType;
  className: string;
  instance?: AnyConnector;
  state: ConnectorRunState;
  trace?: string;
  taskConfigs: Array<Record<string, string>>;
  tasks: TaskEntry[];
}

export interface ConnectorInfo {
  name: string;
  config: Record<string, string>;
  tasks: Array<{ connector: string; task: number }>;
  type: ConnectorType;
}

export interface TaskStatusJson {
  id: number;
  state: string;
  worker_id: string;
  trace?: string;
}
export interface ConnectorStatusJson {
  name: string;
  connector: { state: string; worker_id: string; trace?: string };
  tasks: TaskStatusJson[];
  type: ConnectorType;
}

export interface ConnectorOffsetsJson {
  offsets: Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> | null }>;
}

export interface HerderDeps {
  samsa: Samsa;
  producer: Producer;
  admin: Admin;
  clock: Clock;
  logger: Logger;
  metrics: ConnectMetrics;
  offsets: OffsetBackingStore;
  plugins: PluginRegistry;
  workerConfig: Record<string, string>;
  workerId: string;
  /** Distributed mode: connectors compute task configs but start no tasks (tasks are hosted apart, `hostTask`). */
  connectorOnly?: boolean;
  /** Distributed mode with exactly.once.source.support=enabled: what exactly-once source tasks need (KIP-618). */
  exactlyOnce?: ExactlyOnceTaskDeps;
}

/** A task hosted by a distributed worker apart from its connector. */
interface HostedTask {
  connector: string;
  task: number;
  entry: TaskEntry;
  target: TargetState;
  /** The connector and task config it runs with (JSON), to restart it when they change. */
  applied: string;
}

export class StandaloneHerder implements Herder {
  private readonly connectors = new Map<string, ConnectorEntry>();
  private readonly hosted = new Map<string, HostedTask>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: HerderDeps) {}

  /** Runs `fn` after every earlier change finished. */
  private serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private get(name: string): ConnectorEntry {
    const c = this.connectors.get(name);
    if (!c) throw new ConnectRestError(404, `Connector ${name} not found`);
    return c;
  }

  connectorNames(): string[] {
    return [...this.connectors.keys()].sort();
  }

  plugins(): PluginDesc[] {
    return this.deps.plugins.list();
  }

  validate(pluginName: string, props: Record<string, string>): ConfigInfos {
    const found = this.deps.plugins.find(pluginName);
    if (!found) throw new ConnectRestError(400, `Failed to find any class that implements Connector and which name matches ${pluginName}`);
    const result = validateConnectorConfig(this.deps.plugins, { ...props, 'connector.class': props['connector.class'] ?? pluginName });
    return result.infos!;
  }

  private checkConfig(name: string, config: Record<string, string>): { type: ConnectorType; className: string } {
    // KIP-618 needs distributed mode: a standalone worker has no exactly-once support whatever its config says.
    const workerConfig = this.deps.exactlyOnce
      ? this.deps.workerConfig
      : { ...this.deps.workerConfig, 'exactly.once.source.support': 'disabled' };
    return checkConnectorConfig(this.deps.plugins, name, config, workerConfig);
  }

  /** Creates (or with `replace`, reconfigures) a connector; returns whether it was created. */
  putConnectorConfig(
    name: string,
    config: Record<string, string>,
    replace: boolean,
    target: TargetState = 'STARTED',
  ): Promise<{ created: boolean; info: ConnectorInfo }> {
    return this.serial(async () => {
      const existing = this.connectors.get(name);
      if (existing && !replace) throw new ConnectRestError(409, `Connector ${name} already exists`);
      const full = { ...config, name };
      const { type, className } = this.checkConfig(name, full);
      if (existing) {
        await this.stopConnector(existing);
        existing.config = full;
        existing.type = type;
        existing.className = className;
        await this.startConnector(existing);
        return { created: false, info: this.infoOf(existing) };
      }
      const entry: ConnectorEntry = { name, config: full, target, type, className, state: 'UNASSIGNED', taskConfigs: [], tasks: [] };
      this.connectors.set(name, entry);
      await this.startConnector(entry);
      return { created: true, info: this.infoOf(entry) };
    });
  }

  patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo> {
    const current = this.get(name).config;
    const merged: Record<string, string> = { ...current };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    return this.putConnectorConfig(name, merged, true).then((r) => r.info);
  }

  deleteConnector(name: string): Promise<void> {
    return this.serial(async () => {
      const entry = this.get(name);
      await this.stopConnector(entry);
      this.connectors.delete(name);
    });
  }

  connectorInfo(name: string): ConnectorInfo {
    return this.infoOf(this.get(name));
  }

  connectorConfig(name: string): Record<string, string> {
    return { ...this.get(name).config };
  }

  private infoOf(c: ConnectorEntry): ConnectorInfo {
    return { name: c.name, config: { ...c.config }, tasks: c.taskConfigs.map((_, task) => ({ connector: c.name, task })), type: c.type };
  }

  connectorStatus(name: string): ConnectorStatusJson {
    const c = this.get(name);
    return {
      name,
      connector: { state: c.state, worker_id: this.deps.workerId, ...(c.trace ? { trace: c.trace } : {}) },
      tasks: c.tasks.map((t, id) => this.taskStatusOf(t, id)),
      type: c.type,
    };
  }

  private taskStatusOf(t: TaskEntry, id: number): TaskStatusJson {
    return { id, state: t.state, worker_id: this.deps.workerId, ...(t.trace ? { trace: t.trace } : {}) };
  }

  taskConfigs(name: string): Array<{ id: { connector: string; task: number }; config: Record<string, string> }> {
    const c = this.get(name);
    return c.taskConfigs.map((config, task) => ({ id: { connector: name, task }, config: { ...config } }));
  }

  taskStatus(name: string, id: number): TaskStatusJson {
    const t = this.get(name).tasks[id];
    if (!t) throw new ConnectRestError(404, `No status found for task ${name}-${id}`);
    return this.taskStatusOf(t, id);
  }

  restartTask(name: string, id: number): Promise<void> {
    return this.serial(async () => {
      const c = this.get(name);
      if (!c.tasks[id]) throw new ConnectRestError(404, `Task not found: ${name}-${id}`);
      await this.stopTask(c, id);
      this.startTask(c, id);
    });
  }

  /** Kafka's restart (KIP-745): the status as it stands once the restart was asked for, or undefined for the plain connector restart. */
  restartConnector(name: string, includeTasks: boolean, onlyFailed: boolean): Promise<ConnectorStatusJson | undefined> {
    return this.serial(async () => {
      const c = this.get(name);
      const restartConnector = !onlyFailed || c.state === 'FAILED';
      const tasks = includeTasks
        ? c.tasks
            .map((t, i) => ({ t, i }))
            .filter(({ t }) => !onlyFailed || t.state === 'FAILED')
            .map(({ i }) => i)
        : [];
      if (!includeTasks && !onlyFailed) {
        await this.restartConnectorInstance(c);
        return undefined;
      }
      const status = this.connectorStatus(name);
      if (restartConnector) status.connector.state = 'RESTARTING';
      for (const i of tasks) status.tasks[i]!.state = 'RESTARTING';
      if (restartConnector) await this.restartConnectorInstance(c);
      for (const i of tasks) {
        await this.stopTask(c, i);
        this.startTask(c, i);
      }
      return status;
    });
  }

  private async restartConnectorInstance(c: ConnectorEntry): Promise<void> {
    if (c.instance) await Promise.resolve(c.instance.stop()).catch(() => undefined);
    c.instance = undefined;
    await this.startConnectorInstance(c);
  }

  setTargetState(name: string, target: TargetState): Promise<void> {
    return this.serial(async () => {
      const c = this.get(name);
      if (c.target === target) return;
      const from = c.target;
      c.target = target;
      if (target === 'STOPPED') {
        await this.stopConnector(c);
        c.state = 'STOPPED';
        c.tasks = [];
        c.taskConfigs = [];
      } else if (from === 'STOPPED') {
        await this.startConnector(c);
      } else if (target === 'PAUSED') {
        c.state = 'PAUSED';
        for (const t of c.tasks) t.runner?.pause();
      } else {
        c.state = 'RUNNING';
        for (const t of c.tasks) t.runner?.resume();
      }
    });
  }

  async offsets(name: string): Promise<ConnectorOffsetsJson> {
    const c = this.get(name);
    if (c.type === 'source') return { offsets: this.deps.offsets.list(name).map(({ partition, offset }) => ({ partition, offset })) };
    const committed = await this.deps.admin.fetchOffsets(this.sinkGroup(name));
    return {
      offsets: committed
        .filter((o) => o.offset >= 0n)
        .map((o) => ({ partition: { kafka_topic: o.topic, kafka_partition: o.partition }, offset: { kafka_offset: Number(o.offset) } })),
    };
  }

  private sinkGroup(name: string): string {
    return `connect-${name}`;
  }

  alterOffsets(name: string, body: unknown): Promise<{ message: string }> {
    return this.serial(async () => {
      const c = this.get(name);
      this.requireStopped(c);
      return writeOffsets(name, parseOffsetsBody(c.type, body), this.deps.offsets, this.deps.admin);
    });
  }

  resetOffsets(name: string): Promise<{ message: string }> {
    return this.serial(async () => {
      const c = this.get(name);
      this.requireStopped(c);
      return resetConnectorOffsets(name, c.type, this.deps.offsets, this.deps.admin);
    });
  }

  private requireStopped(c: ConnectorEntry): void {
    if (c.target !== 'STOPPED') throw notStoppedError(c.name);
  }

  /** Stops every connector (worker shutdown). */
  stopAll(): Promise<void> {
    return this.serial(async () => {
      for (const c of this.connectors.values()) await this.stopConnector(c);
      for (const h of this.hosted.values()) await h.entry.runner?.stop();
      this.hosted.clear();
    });
  }

  private async startConnectorInstance(c: ConnectorEntry): Promise<boolean> {
    const plugin = this.deps.plugins.find(c.className)!;
    const instance = new plugin.ctor();
    instance.initialize({
      requestTaskReconfiguration: () => {
        void this.serial(async () => {
          if (this.connectors.get(c.name) !== c || c.target === 'STOPPED') return;
          await this.stopConnector(c);
          await this.startConnector(c);
        }).catch((err: unknown) => this.deps.logger.error('task reconfiguration failed', { connector: c.name, error: String(err) }));
      },
      raiseError: (err) => {
        c.state = 'FAILED';
        c.trace = stackOf(err);
      },
    });
    try {
      await instance.start(c.config);
      c.instance = instance;
      c.state = c.target === 'PAUSED' ? 'PAUSED' : 'RUNNING';
      c.trace = undefined;
      return true;
    } catch (err) {
      c.state = 'FAILED';
      c.trace = stackOf(err);
      this.deps.logger.error('connector failed to start', { connector: c.name, error: c.trace });
      return false;
    }
  }

  private async startConnector(c: ConnectorEntry): Promise<void> {
    if (c.target === 'STOPPED') {
      c.state = 'STOPPED';
      return;
    }
    if (!(await this.startConnectorInstance(c))) return;
    const maxTasks = Number(c.config['tasks.max'] ?? '1');
    try {
      c.taskConfigs = c.instance!.taskConfigs(maxTasks).slice(0, maxTasks);
    } catch (err) {
      c.state = 'FAILED';
      c.trace = stackOf(err);
      return;
    }
    if (this.deps.connectorOnly) return;
    c.tasks = c.taskConfigs.map(() => ({ state: 'UNASSIGNED' as TaskState }));
    for (let i = 0; i < c.tasks.length; i++) this.startTask(c, i);
  }

  private startTask(c: ConnectorEntry, id: number): void {
    c.tasks[id] = this.runTask(c.name, id, c.className, c.config, c.taskConfigs[id]!, () => c.target);
  }

  /** Builds and starts one task's runner; `target` is read on each state change (PAUSED wins over RUNNING). */
  private runTask(
    connectorName: string,
    id: number,
    className: string,
    connectorConfig: Record<string, string>,
    taskConfig: Record<string, string>,
    target: () => TargetState,
  ): TaskEntry {
    const entry: TaskEntry = { state: 'UNASSIGNED' };
    const listener = {
      onStateChange: (state: TaskState, trace?: string) => {
        // A PAUSED target wins over the runner's own RUNNING (it starts, then is paused).
        entry.state = state === 'RUNNING' && target() === 'PAUSED' ? 'PAUSED' : state;
        entry.trace = trace;
      },
    };
    const taskDeps = { ...this.deps };
    try {
      const plugin = this.deps.plugins.find(className);
      if (!plugin)
        throw new ConnectRestError(400, `Failed to find any class that implements Connector and which name matches ${className}`);
      const connector = new plugin.ctor();
      const runner =
        connector.type === 'source' && this.deps.exactlyOnce && workerExactlyOnce(this.deps.workerConfig) === 'enabled'
          ? new ExactlyOnceWorkerSourceTask(
              { connector: connectorName, task: id },
              connectorConfig,
              taskConfig,
              taskDeps,
              listener,
              new (connector.taskClass())(),
              connectorExactlyOnce(connectorConfig, this.deps.workerConfig),
            )
          : connector.type === 'source'
            ? new WorkerSourceTask(
                { connector: connectorName, task: id },
                connectorConfig,
                taskConfig,
                taskDeps,
                listener,
                new (connector.taskClass())(),
              )
            : new WorkerSinkTask(
                { connector: connectorName, task: id },
                connectorConfig,
                taskConfig,
                taskDeps,
                listener,
                new (connector.taskClass())(),
              );
      entry.runner = runner;
      this.deps.metrics.inc('task_start_total', connectorName, id);
      runner.start();
      if (target() === 'PAUSED') runner.pause();
    } catch (err) {
      entry.state = 'FAILED';
      entry.trace = stackOf(err);
    }
    return entry;
  }

  /**
   * Distributed mode: runs task `id` of `connector` on this worker with the given configs, or
   * brings a hosted one to `target` (restarting it when its configs changed). Answers whether a
   * task was started.
   */
  hostTask(
    connector: string,
    id: number,
    connectorConfig: Record<string, string>,
    taskConfig: Record<string, string>,
    target: TargetState,
  ): Promise<boolean> {
    return this.serial(async () => {
      const key = `${connector}-${id}`;
      const applied = JSON.stringify([connectorConfig, taskConfig]);
      let h = this.hosted.get(key);
      if (h && h.applied !== applied) {
        await h.entry.runner?.stop();
        this.hosted.delete(key);
        h = undefined;
      }
      if (h) {
        if (h.target !== target) {
          h.target = target;
          if (target === 'PAUSED') {
            h.entry.runner?.pause();
            if (h.entry.state === 'RUNNING') h.entry.state = 'PAUSED';
          } else {
            h.entry.runner?.resume();
            if (h.entry.state === 'PAUSED') h.entry.state = 'RUNNING';
          }
        }
        return false;
      }
      const hosted: HostedTask = { connector, task: id, target, applied, entry: { state: 'UNASSIGNED' } };
      hosted.entry = this.runTask(
        connector,
        id,
        connectorConfig['connector.class'] ?? '',
        connectorConfig,
        taskConfig,
        () => hosted.target,
      );
      this.hosted.set(key, hosted);
      return true;
    });
  }

  /** Stops a hosted task (its final offset flush included). */
  unhostTask(connector: string, id: number): Promise<void> {
    return this.serial(async () => {
      const key = `${connector}-${id}`;
      const h = this.hosted.get(key);
      if (!h) return;
      await h.entry.runner?.stop();
      this.hosted.delete(key);
    });
  }

  /** Restarts a hosted task in place. */
  restartHostedTask(connector: string, id: number): Promise<void> {
    return this.serial(async () => {
      const h = this.hosted.get(`${connector}-${id}`);
      if (!h) throw new ConnectRestError(404, `Task not found: ${connector}-${id}`);
      const [connectorConfig, taskConfig] = JSON.parse(h.applied) as [Record<string, string>, Record<string, string>];
      await h.entry.runner?.stop();
      h.entry = this.runTask(connector, id, connectorConfig['connector.class'] ?? '', connectorConfig, taskConfig, () => h.target);
    });
  }

  /** The tasks this worker hosts (distributed mode), with their states. */
  hostedTasks(): Array<{ connector: string; task: number; state: TaskState; trace?: string }> {
    return [...this.hosted.values()].map((h) => ({
      connector: h.connector,
      task: h.task,
      state: h.entry.state,
      ...(h.entry.trace ? { trace: h.entry.trace } : {}),
    }));
  }

  private async stopTask(c: ConnectorEntry, id: number): Promise<void> {
    const t = c.tasks[id];
    if (!t?.runner) return;
    await t.runner.stop();
    t.runner = undefined;
  }

  private async stopConnector(c: ConnectorEntry): Promise<void> {
    await Promise.all(c.tasks.map((_, i) => this.stopTask(c, i)));
    if (c.instance) {
      await Promise.resolve(c.instance.stop()).catch((err: unknown) =>
        this.deps.logger.warn('connector stop failed', { connector: c.name, error: String(err) }),
      );
      c.instance = undefined;
    }
  }
}
