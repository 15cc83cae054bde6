/**
 * What `cluster status` (and `cluster up` once ready) shows: each node — from the state file when
 * there is one (PID, whether that process still runs), else as the cluster reports it — with its
 * broker state (registered and unfenced or not) and controller state (active, or a voter and its
 * lag); then the active controller and the quorum, and the under-replicated and offline
 * partition counts. Gathering asks the cluster through the client API; formatting is pure.
 */
import { Samsa } from '@samsa/client';
import { describeAt } from '../commands/quorum.js';
import { processState, systemProbe, type ClusterState, type ProcessProbe, type ProcessState } from './state.js';
import { formatTable } from './table.js';

export interface NodeStatus {
  name: string;
  nodeId: number;
  roles: string;
  /** host:port of each listener, when known. */
  broker?: string;
  controller?: string;
  metrics?: string;
  pid?: number;
  /** Undefined when there is no state file (the node was not started by us, or we cannot tell). */
  process?: ProcessState;
  /** Stopped on purpose by `cluster stop|kill --node`. */
  stopped?: boolean;
}

export interface QuorumStatus {
  leaderId: number;
  leaderEpoch: string;
  highWatermark: string;
  voters: Array<{ id: number; lag: string }>;
}

export interface ClusterStatus {
  bootstrap: string[];
  mode?: ClusterState['mode'];
  nodes: NodeStatus[];
  /** The cluster answered (metadata from a broker). */
  reachable: boolean;
  error?: string;
  clusterId?: string;
  /** The active controller as the brokers' metadata names it (-1 none). */
  controllerId?: number;
  /** Registered, unfenced brokers. */
  registeredBrokers?: number[];
  quorum?: QuorumStatus;
  partitions?: { topics: number; total: number; underReplicated: number; offline: number };
}

export interface GatherOptions {
  state?: ClusterState;
  bootstrap: string[];
  probe?: ProcessProbe;
  /** Per request. */
  timeoutMs?: number;
  /** A connected client to ask (left open); by default one is made for the call. */
  samsa?: Samsa;
}

export async function gatherStatus(opts: GatherOptions): Promise<ClusterStatus> {
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const status: ClusterStatus = { bootstrap: opts.bootstrap, nodes: [], reachable: false };
  if (opts.state) {
    status.mode = opts.state.mode;
    const host = opts.state.host;
    status.nodes = opts.state.nodes.map((n) => ({
      name: n.name,
      nodeId: n.nodeId,
      roles: n.roles,
      ...(n.brokerPort === undefined ? {} : { broker: `${host}:${n.brokerPort}` }),
      ...(n.controllerPort === undefined ? {} : { controller: `${host}:${n.controllerPort}` }),
      ...(n.metricsPort === undefined ? {} : { metrics: `${host}:${n.metricsPort}` }),
      ...(n.pid === undefined ? {} : { pid: n.pid }),
      process: processState(n.pid, n.argv, opts.probe ?? systemProbe),
      ...(n.stopped ? { stopped: true } : {}),
    }));
  }

  const samsa =
    opts.samsa ??
    new Samsa({
      brokers: opts.bootstrap,
      clientId: 'samsa-cluster-status',
      requestTimeoutMs: timeoutMs,
      retry: { retries: 2, initialRetryTimeMs: 50, maxRetryTimeMs: 200 },
    });
  // The quorum is asked meanwhile, on its own connection.
  const quorum = describeQuorum(opts, timeoutMs);
  try {
    const cluster = await samsa.admin().describeCluster();
    status.reachable = true;
    status.clusterId = cluster.clusterId;
    status.controllerId = cluster.controllerId;
    status.registeredBrokers = cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
    if (!opts.state) {
      // Named by node id, as `cluster up` names its nodes, so every view agrees.
      status.nodes = cluster.brokers.map((b) => ({ name: `broker-${b.nodeId}`, nodeId: b.nodeId, roles: 'broker', broker: b.address }));
    }
    const topics = await samsa.admin().describeTopics();
    const all = topics.flatMap((t) => t.partitions);
    status.partitions = {
      topics: topics.length,
      total: all.length,
      underReplicated: all.filter((p) => p.isr.length < p.replicas.length).length,
      offline: all.filter((p) => p.leader < 0).length,
    };
  } catch (err) {
    status.error = err instanceof Error ? err.message : String(err);
  } finally {
    if (opts.samsa === undefined) await samsa.close();
  }
  const q = await quorum;
  if (q) status.quorum = q;
  if (!opts.state && status.quorum) {
    for (const v of status.quorum.voters) {
      const node = status.nodes.find((n) => n.nodeId === v.id);
      if (node) {
        node.roles = 'broker,controller';
        node.name = `node-${v.id}`;
      } else {
        status.nodes.push({ name: `controller-${v.id}`, nodeId: v.id, roles: 'controller' });
      }
    }
    status.nodes.sort((a, b) => a.nodeId - b.nodeId);
  }
  return status;
}

/** The quorum through a broker (it forwards to the active controller), else from a controller directly. */
async function describeQuorum(opts: GatherOptions, timeoutMs: number): Promise<QuorumStatus | undefined> {
  const controllers = (opts.state?.nodes ?? [])
    .filter((n) => n.controllerPort !== undefined)
    .map((n) => `${opts.state!.host}:${n.controllerPort}`);
  const askAt = [...opts.bootstrap.map((a) => ({ a, viaController: false })), ...controllers.map((a) => ({ a, viaController: true }))];
  for (const { a, viaController } of askAt) {
    try {
      const q = await describeAt(a, viaController, timeoutMs);
      if (q.errorCode !== 0) continue;
      return {
        leaderId: q.leaderId,
        leaderEpoch: String(q.leaderEpoch),
        highWatermark: String(q.highWatermark),
        voters: q.voters.map((v) => ({ id: v.voterId, lag: String(v.lag) })),
      };
    } catch {
      // next address
    }
  }
  return undefined;
}

/** The STATE column: broker registration and controller role, as far as the cluster told. */
export function nodeState(node: NodeStatus, status: ClusterStatus): string {
  if (node.process !== undefined && node.process !== 'running') return '-';
  const roles = node.roles.split(',');
  const parts: string[] = [];
  if (roles.includes('controller')) {
    if (status.quorum === undefined) parts.push('controller: unknown');
    else if (status.quorum.leaderId === node.nodeId) parts.push('active controller');
    else {
      const voter = status.quorum.voters.find((v) => v.id === node.nodeId);
      parts.push(voter ? `voter, lag ${voter.lag}` : 'not a voter');
    }
  }
  if (roles.includes('broker')) {
    if (status.registeredBrokers === undefined) parts.push('broker: unknown');
    else parts.push(status.registeredBrokers.includes(node.nodeId) ? 'unfenced' : 'fenced or unregistered');
  }
  return parts.join(', ');
}

function processColumn(n: NodeStatus): string {
  if (n.process === 'running') return 'running';
  if (n.stopped) return 'stopped';
  return n.process === 'replaced' ? 'gone (pid reused)' : (n.process ?? '-');
}

/** The bootstrap lines (Samsa and Kafka clients), the node table, then the controller, quorum, broker and partition lines. */
export function formatStatus(status: ClusterStatus): string {
  // Each broker address serves both protocols (the first byte of a connection picks): Kafka clients use the same list.
  const lines: string[] = [
    `bootstrap-server: ${status.bootstrap.join(',')}`,
    `kafka bootstrap.servers: ${status.bootstrap.join(',')} (same ports: the Kafka protocol and the Samsa SDK)`,
  ];
  const withProcess = status.nodes.some((n) => n.process !== undefined);
  const header = ['NODE', 'ID', 'ROLES', 'BROKER', 'CONTROLLER', 'METRICS', ...(withProcess ? ['PID', 'PROCESS'] : []), 'STATE'];
  const rows = status.nodes.map((n) => [
    n.name,
    String(n.nodeId),
    n.roles,
    n.broker ?? '-',
    n.controller ?? '-',
    n.metrics ?? '-',
    ...(withProcess ? [n.pid === undefined ? '-' : String(n.pid), processColumn(n)] : []),
    nodeState(n, status),
  ]);
  let out = `${lines.join('\n')}\n${formatTable([header, ...rows])}`;

  if (status.quorum) {
    const q = status.quorum;
    const voters = q.voters.map((v) => (v.id === q.leaderId ? `${v.id} (leader)` : `${v.id} (lag ${v.lag})`)).join(', ');
    out += `active controller: ${q.leaderId} (epoch ${q.leaderEpoch}, metadata high watermark ${q.highWatermark})\n`;
    out += `controller quorum: ${voters}\n`;
  } else if (status.controllerId !== undefined && status.controllerId >= 0) {
    out += `active controller: ${status.controllerId}\ncontroller quorum: unknown (DescribeQuorum did not answer)\n`;
  } else {
    out += 'active controller: none reachable\n';
  }
  if (!status.reachable) {
    out += `cluster: not reachable through ${status.bootstrap.join(',')}${status.error ? ` (${status.error})` : ''}\n`;
    return out;
  }
  const brokers = status.registeredBrokers ?? [];
  const expected = status.nodes.filter((n) => n.roles.split(',').includes('broker')).length;
  out += `brokers: ${brokers.length}${expected > brokers.length ? ` of ${expected}` : ''} registered and unfenced [${brokers.join(',')}]\n`;
  if (status.partitions) {
    const p = status.partitions;
    out += `partitions: ${p.total} in ${p.topics} topic(s), ${p.underReplicated} under-replicated, ${p.offline} offline\n`;
  } else if (status.error) {
    out += `partitions: unknown (${status.error})\n`;
  }
  return out;
}
