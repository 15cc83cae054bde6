/**
 * The pure parts of exactly-once source support (KIP-618): the worker and connector configs with
 * Kafka's names and defaults (`exactly.once.source.support`, `exactly.once.support`,
 * `transaction.boundary`, `transaction.boundary.interval.ms`, `offsets.storage.topic`), the checks
 * Kafka's `AbstractHerder`/`DistributedHerder` run on create, the transaction boundary decision of
 * `ExactlyOnceWorkerSourceTask`, and the leader's zombie fencing plan (task count records).
 * No I/O and no clock: callers pass `now`.
 */

export type ExactlyOnceSourceSupport = 'disabled' | 'preparing' | 'enabled';
export type ExactlyOnceSupportLevel = 'requested' | 'required';
export type TransactionBoundary = 'poll' | 'interval' | 'connector';
/** Kafka's `ExactlyOnceSupport` and `ConnectorTransactionBoundaries` answers. */
export type SupportAnswer = 'SUPPORTED' | 'UNSUPPORTED';

/** Thrown for a config value that is not allowed; the message is Kafka's ConfigException sentence. */
export class ExactlyOnceConfigError extends Error {
  override readonly name = 'ConfigException';
}

export function workerExactlyOnce(workerConfig: Record<string, string>): ExactlyOnceSourceSupport {
  const v = (workerConfig['exactly.once.source.support'] ?? 'disabled').trim().toLowerCase();
  if (v !== 'disabled' && v !== 'preparing' && v !== 'enabled')
    throw new ExactlyOnceConfigError(
      `Invalid value ${v} for configuration exactly.once.source.support: String must be one of: disabled, preparing, enabled`,
    );
  return v;
}

export interface ConnectorExactlyOnceConfig {
  support: ExactlyOnceSupportLevel;
  boundary: TransactionBoundary;
  /** Only for `interval`: ms between commits. */
  intervalMs: number;
  /** The connector's own offsets topic, or undefined for the worker's global one. */
  offsetsTopic: string | undefined;
}

/** Reads the connector's KIP-618 keys (Kafka's defaults); a bad value throws ExactlyOnceConfigError. */
export function connectorExactlyOnce(
  connectorConfig: Record<string, string>,
  workerConfig: Record<string, string>,
): ConnectorExactlyOnceConfig {
  const support = (connectorConfig['exactly.once.support'] ?? 'requested').trim().toLowerCase();
  if (support !== 'requested' && support !== 'required')
    throw new ExactlyOnceConfigError(
      `Invalid value ${support} for configuration exactly.once.support: String must be one of: requested, required`,
    );
  const boundary = (connectorConfig['transaction.boundary'] ?? 'poll').trim().toLowerCase();
  if (boundary !== 'poll' && boundary !== 'interval' && boundary !== 'connector')
    throw new ExactlyOnceConfigError(
      `Invalid value ${boundary} for configuration transaction.boundary: String must be one of: poll, interval, connector`,
    );
  const rawInterval = connectorConfig['transaction.boundary.interval.ms'];
  if (rawInterval !== undefined && rawInterval !== '' && boundary !== 'interval')
    throw new ExactlyOnceConfigError(
      `The transaction.boundary.interval.ms configuration may only be set when transaction.boundary is interval, not ${boundary}`,
    );
  const intervalText =
    rawInterval === undefined || rawInterval === '' ? (workerConfig['offset.flush.interval.ms'] ?? '60000') : rawInterval;
  const intervalMs = Number(intervalText);
  if (!Number.isInteger(intervalMs) || intervalMs < 0)
    throw new ExactlyOnceConfigError(
      `Invalid value ${intervalText} for configuration transaction.boundary.interval.ms: Value must be at least 0`,
    );
  const topic = (connectorConfig['offsets.storage.topic'] ?? '').trim();
  return { support, boundary, intervalMs, offsetsTopic: topic === '' ? undefined : topic };
}

/**
 * The create/update check for a source connector: the error sentences (empty = accepted).
 * `exactlyOnceSupport` / `canDefineBoundaries` are the connector's own answers for these props.
 */
export function exactlyOnceErrors(
  connectorConfig: Record<string, string>,
  workerConfig: Record<string, string>,
  connector: { exactlyOnceSupport: SupportAnswer | undefined; canDefineTransactionBoundaries: SupportAnswer },
): string[] {
  let worker: ExactlyOnceSourceSupport;
  let eos: ConnectorExactlyOnceConfig;
  try {
    worker = workerExactlyOnce(workerConfig);
    eos = connectorExactlyOnce(connectorConfig, workerConfig);
  } catch (err) {
    if (err instanceof ExactlyOnceConfigError) return [err.message];
    throw err;
  }
  const errors: string[] = [];
  if (eos.support === 'required') {
    if (worker !== 'enabled')
      errors.push(
        `exactly.once.support=required needs exactly-once source support on the worker, but exactly.once.source.support is ${worker}; set exactly.once.source.support=enabled on every worker (distributed mode) or use exactly.once.support=requested`,
      );
    else if (connector.exactlyOnceSupport === undefined)
      errors.push(
        'The connector does not implement the API required for preflight validation of exactly-once source support. Please consult the documentation for the connector to determine whether it supports exactly-once guarantees, and then consider reconfiguring the connector to use the value "requested" for this property (which will still permit the connector to be created, but without this preflight validation).',
      );
    else if (connector.exactlyOnceSupport !== 'SUPPORTED')
      errors.push('The connector does not support exactly-once semantics with the provided configuration.');
  }
  if (eos.boundary === 'connector' && connector.canDefineTransactionBoundaries !== 'SUPPORTED')
    errors.push(
      'The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition.',
    );
  return errors;
}

/** Kafka's transactional id of a source task: `${groupId}-${connector}-${task}`. */
export function taskTransactionalId(groupId: string, connector: string, task: number): string {
  return `${groupId}-${connector}-${task}`;
}

/** What the task asked through its TransactionContext since the last boundary. */
export type ConnectorRequest = { kind: 'commit' | 'abort' } | undefined;

export interface BoundaryInput {
  boundary: TransactionBoundary;
  /** Records polled into the open transaction, filtered ones included (0: none open). */
  recordsInTxn: number;
  /** When the open transaction began (ms), or when the last one ended if none is open. */
  txnStartedAt: number;
  now: number;
  intervalMs: number;
  request: ConnectorRequest;
}

/** After a poll batch was sent: commit, abort, or keep the transaction open. */
export function decideBoundary(input: BoundaryInput): 'commit' | 'abort' | 'continue' {
  if (input.boundary === 'connector') {
    if (input.request?.kind === 'abort') return 'abort';
    if (input.request?.kind === 'commit') return 'commit';
    return 'continue';
  }
  if (input.recordsInTxn === 0) return 'continue';
  if (input.boundary === 'poll') return 'commit';
  return input.now - input.txnStartedAt >= input.intervalMs ? 'commit' : 'continue';
}

/** What a clean stop does with an open transaction: poll/interval commit it, connector-defined aborts it. */
export function onStop(boundary: TransactionBoundary, recordsInTxn: number): 'commit' | 'abort' | 'none' {
  if (recordsInTxn === 0) return 'none';
  return boundary === 'connector' ? 'abort' : 'commit';
}

/** The config topic's view of one EOS connector, for the leader's fencing decision. */
export interface FencingState {
  /** Offset (in the config topic) of the latest `commit-<name>` record, or -1 when none. */
  commitOffset: number;
  /** The task count that commit announced. */
  committedTasks: number;
  /** Offset of the latest `task-count-record-<name>`, or -1. */
  taskCountOffset: number;
  /** Its count (0 when none). */
  previousTaskCount: number;
}

/** Tasks of the connector may start once the latest task count record follows the latest task configs. */
export function fencingDone(s: FencingState): boolean {
  return s.commitOffset < 0 || s.taskCountOffset > s.commitOffset;
}

/**
 * The leader's zombie fencing round for one connector (KIP-618): undefined when none is needed,
 * else the transactional ids to fence (every task of the previous and the new generation) and the
 * task count record to write afterwards.
 */
export function fencingPlan(
  groupId: string,
  connector: string,
  s: FencingState,
): { transactionalIds: string[]; taskCount: number } | undefined {
  if (fencingDone(s)) return undefined;
  const n = Math.max(s.previousTaskCount, s.committedTasks);
  return {
    transactionalIds: Array.from({ length: n }, (_, t) => taskTransactionalId(groupId, connector, t)),
    taskCount: s.committedTasks,
  };
}
