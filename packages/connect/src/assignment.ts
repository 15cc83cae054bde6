/**
 * The distributed leader's assignment and the generation fence, after Kafka Connect's
 * `IncrementalCooperativeAssignor` (KIP-415) and the generation checks of `DistributedHerder` /
 * `KafkaStatusBackingStore`. Pure: no I/O, no clock.
 *
 * Connectors and tasks are placed separately (a connector's tasks may run on other workers than
 * the connector). The rule is incremental: a connector or task keeps its worker while that worker
 * is a live member; only new work and the work of departed workers is placed, each unit on the
 * member with the fewest units of its kind (connectors counted apart from tasks; ties: smallest
 * worker id). Nothing is revoked from a healthy worker, also not when a worker joins (Kafka would
 * revoke after `scheduled.rebalance.max.delay.ms` to balance; we do not, see the README).
 *
 * Every new assignment has a generation one above the one it replaces, and lists its members.
 * A worker starts a connector or task only while the assignment it acts on is the latest it has
 * read from the config topic and names it a member (`mayStart`): a worker acting on an older
 * generation starts nothing. Status records carry the generation; a record from an older
 * generation than the stored one, written by another worker, is stale and ignored
 * (`acceptStatus`), so a zombie cannot overwrite the new owner's status.
 */

export interface Assignment {
  generation: number;
  leader: string;
  /** The live workers this assignment was computed for, sorted. */
  members: string[];
  /** connector name → worker id */
  connectors: Record<string, string>;
  /** `<connector>-<task>` → worker id */
  tasks: Record<string, string>;
}

export const EMPTY_ASSIGNMENT: Assignment = { generation: 0, leader: '', members: [], connectors: {}, tasks: {} };

/** What is to be run: every connector, with its committed task count (0 when STOPPED). */
export interface ConnectorWork {
  name: string;
  taskCount: number;
}

export function taskKey(connector: string, task: number): string {
  return `${connector}-${task}`;
}

/** Reads an assignment record defensively (older records, bad JSON shapes): missing parts are empty. */
export function parseAssignment(json: unknown): Assignment {
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const map = (v: unknown): Record<string, string> => {
    const out: Record<string, string> = {};
    if (typeof v === 'object' && v !== null)
      for (const [k, w] of Object.entries(v as Record<string, unknown>)) if (typeof w === 'string') out[k] = w;
    return out;
  };
  return {
    generation: typeof o.generation === 'number' ? o.generation : 0,
    leader: typeof o.leader === 'string' ? o.leader : '',
    members: Array.isArray(o.members) ? o.members.filter((m): m is string => typeof m === 'string') : [],
    connectors: map(o.connectors ?? o.owners),
    tasks: map(o.tasks),
  };
}

function leastLoaded(load: Map<string, number>): string {
  let best: string | undefined;
  for (const [w, n] of load) {
    const b = best === undefined ? undefined : load.get(best)!;
    if (best === undefined || n < b! || (n === b && w < best)) best = w;
  }
  return best!;
}

/**
 * The next assignment, or undefined when nothing changed (same members, same placement).
 * `live` must not be empty.
 */
export function computeAssignment(
  prev: Assignment,
  live: readonly string[],
  work: readonly ConnectorWork[],
  leader: string,
): Assignment | undefined {
  const members = [...new Set(live)].sort();
  const isMember = new Set(members);
  const sorted = [...work].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const connectors: Record<string, string> = {};
  const tasks: Record<string, string> = {};
  const connectorLoad = new Map(members.map((w) => [w, 0]));
  const taskLoad = new Map(members.map((w) => [w, 0]));
  // Keep what sits on a live member.
  for (const { name, taskCount } of sorted) {
    const owner = prev.connectors[name];
    if (owner !== undefined && isMember.has(owner)) {
      connectors[name] = owner;
      connectorLoad.set(owner, connectorLoad.get(owner)! + 1);
    }
    for (let i = 0; i < taskCount; i++) {
      const key = taskKey(name, i);
      const t = prev.tasks[key];
      if (t !== undefined && isMember.has(t)) {
        tasks[key] = t;
        taskLoad.set(t, taskLoad.get(t)! + 1);
      }
    }
  }
  // Place the rest, one unit at a time, on the least loaded member.
  for (const { name, taskCount } of sorted) {
    if (connectors[name] === undefined) {
      const w = leastLoaded(connectorLoad);
      connectors[name] = w;
      connectorLoad.set(w, connectorLoad.get(w)! + 1);
    }
    for (let i = 0; i < taskCount; i++) {
      const key = taskKey(name, i);
      if (tasks[key] !== undefined) continue;
      const w = leastLoaded(taskLoad);
      tasks[key] = w;
      taskLoad.set(w, taskLoad.get(w)! + 1);
    }
  }
  const same = (a: Record<string, string>, b: Record<string, string>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
  if (
    prev.generation > 0 &&
    prev.members.length === members.length &&
    prev.members.every((m, i) => m === members[i]) &&
    same(prev.connectors, connectors) &&
    same(prev.tasks, tasks)
  )
    return undefined;
  return { generation: prev.generation + 1, leader, members, connectors, tasks };
}

/** The work an assignment gives one worker. */
export function assignedTo(a: Assignment, worker: string): { connectors: string[]; tasks: Array<{ connector: string; task: number }> } {
  const connectors = Object.entries(a.connectors)
    .filter(([, w]) => w === worker)
    .map(([c]) => c)
    .sort();
  const tasks: Array<{ connector: string; task: number }> = [];
  for (const [key, w] of Object.entries(a.tasks)) {
    if (w !== worker) continue;
    const m = /^(.*)-(\d+)$/.exec(key);
    if (m) tasks.push({ connector: m[1]!, task: Number(m[2]) });
  }
  tasks.sort((x, y) => (x.connector < y.connector ? -1 : x.connector > y.connector ? 1 : x.task - y.task));
  return { connectors, tasks };
}

/**
 * The generation fence: a worker may start work from the assignment of generation `acting` only
 * when that is still the latest assignment it has read (`latest`) and names it a member.
 */
export function mayStart(acting: number, latest: Assignment, worker: string): boolean {
  return acting > 0 && acting === latest.generation && latest.members.includes(worker);
}

export interface StatusRecord {
  state: string;
  trace?: string | null;
  worker_id: string;
  generation: number;
}

/** Whether a status record read from the status topic replaces the stored one (Kafka's stale-generation rule). */
export function acceptStatus(existing: StatusRecord | undefined, incoming: StatusRecord): boolean {
  if (existing === undefined) return true;
  if (incoming.worker_id === existing.worker_id) return true;
  // UNASSIGNED only says the sender's own copy stopped: it never replaces another worker's status
  // (a zombie that wakes up and stops its copy must not hide the new owner's RUNNING).
  if (incoming.state === 'UNASSIGNED') return false;
  return incoming.generation >= existing.generation;
}
