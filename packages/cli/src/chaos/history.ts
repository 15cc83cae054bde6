/**
 * The history of a chaos run: every send, its outcome, every record read, every nemesis step and
 * the end-of-run observations, as JSON lines. The checker works on nothing else, so a history
 * file can be checked again later (or planted with faults in a test).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { NemesisType } from './schedule.js';

export interface SendEvent {
  type: 'send';
  t: number;
  producer: number;
  key: string;
  value: string;
  seq: number;
}
export interface AckEvent {
  type: 'ack';
  t: number;
  value: string;
  partition: number;
  offset: string;
  latencyMs: number;
}
export interface FailEvent {
  type: 'fail';
  t: number;
  value: string;
  error: string;
  message: string;
  latencyMs: number;
}
/** A record read; `member` is the consumer group member id for the group reader's reads. */
export interface ReadEvent {
  type: 'read';
  t: number;
  reader: 'live' | 'drain';
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  member?: string;
}
/** Which live reader ran (logged once, at workload start): `group` makes the group read gaps check apply. */
export interface ReaderEvent {
  type: 'reader';
  t: number;
  kind: 'assign' | 'group';
  groupId?: string;
  members?: number;
  assignor?: string;
}
/** A consumer group member's partitions changed (its rebalance listener): for reading a history, never judged. */
export interface RebalanceEvent {
  type: 'rebalance';
  t: number;
  member: string;
  change: 'assigned' | 'revoked' | 'lost';
  partitions: number[];
}
export interface NemesisLogEvent {
  type: 'nemesis';
  t: number;
  id: number;
  phase: 'start' | 'end' | 'skipped';
  nemesis: NemesisType;
  node?: string;
  detail?: string;
}
/** The final drain's end for one partition: the high watermark it read to, and whether it got there. */
export interface DrainEvent {
  type: 'drain';
  t: number;
  /** Which topic of the transactions workload (absent: the one topic of the other workloads, or its input). */
  topic?: 'input' | 'output';
  partition: number;
  highWatermark: string;
  complete: boolean;
}
/** One partition's replicas compared below the high watermark after healing. */
export interface ReplicasEvent {
  type: 'replicas';
  t: number;
  partition: number;
  highWatermark: string;
  identical: boolean;
  detail: string;
}
export interface PhaseEvent {
  type: 'phase';
  t: number;
  phase: 'workload-start' | 'nemeses-end' | 'healed' | 'workload-end';
  detail?: string;
}

/**
 * One step of a consume-transform-produce transaction (`--workload transactions`): `begin` names
 * what the worker means to do with it (`intent`: commit, or abort on purpose); the outcome is
 * `committed` / `aborted` (the client was told so), or `commit-failed` / `abort-failed` (an
 * error: the outcome is unknown until the next producer of the transactional id resolves it).
 */
export interface TxnEvent {
  type: 'txn';
  t: number;
  worker: number;
  txn: string;
  phase: 'begin' | 'committed' | 'aborted' | 'commit-failed' | 'abort-failed';
  intent?: 'commit' | 'abort';
  error?: string;
}
/** An output record of a transaction, acknowledged by its partition leader (not yet committed). */
export interface TxnOutputEvent {
  type: 'txn-output';
  t: number;
  txn: string;
  value: string;
  partition: number;
  offset: string;
}
/** The input offsets (next record to read, per input partition) a transaction sent with sendOffsetsToTransaction. */
export interface TxnOffsetsEvent {
  type: 'txn-offsets';
  t: number;
  txn: string;
  offsets: Record<string, string>;
}
/**
 * A record of the output topic read: `live` (a read_committed reader during the run), `drain` (the
 * read_committed drain after healing) or `uncommitted` (a read_uncommitted drain: the whole log).
 */
export interface OutputReadEvent {
  type: 'out-read';
  t: number;
  reader: 'live' | 'drain' | 'uncommitted';
  partition: number;
  offset: string;
  value: string | null;
}
/** The transform group's committed input offsets at the end of the run (next record to read). */
export interface GroupOffsetsEvent {
  type: 'group-offsets';
  t: number;
  offsets: Record<string, string>;
}

export type HistoryEvent =
  | TxnEvent
  | TxnOutputEvent
  | TxnOffsetsEvent
  | OutputReadEvent
  | GroupOffsetsEvent
  | SendEvent
  | AckEvent
  | FailEvent
  | ReadEvent
  | ReaderEvent
  | RebalanceEvent
  | NemesisLogEvent
  | DrainEvent
  | ReplicasEvent
  | PhaseEvent;

/** Distributes Omit over the union, so `log({ type: 'ack', ... })` is checked against AckEvent. */
type WithoutT<E> = E extends HistoryEvent ? Omit<E, 't'> : never;

/** The self-describing value a producer sends: who sent it, for which key, in which order. */
export interface SentValue {
  p: number;
  k: string;
  s: number;
}

export function encodeValue(v: SentValue): string {
  return JSON.stringify(v);
}

/** The parsed value, or undefined for anything the harness did not write. */
export function decodeValue(value: string | null): SentValue | undefined {
  if (value === null || !value.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(value) as Partial<SentValue>;
    return typeof v.p === 'number' && typeof v.k === 'string' && typeof v.s === 'number' ? { p: v.p, k: v.k, s: v.s } : undefined;
  } catch {
    return undefined;
  }
}

/** The history in memory, mirrored line by line to a file when one is given. */
export class History {
  readonly events: HistoryEvent[] = [];
  private fd: number | undefined;

  constructor(
    path?: string,
    private readonly now: () => number = Date.now,
    private readonly t0 = now(),
  ) {
    if (path) this.fd = openSync(path, 'w');
  }

  /** Milliseconds since the run started. */
  elapsed(): number {
    return this.now() - this.t0;
  }

  log(event: WithoutT<HistoryEvent>): void {
    const e = { ...event, t: this.elapsed() } as HistoryEvent;
    this.events.push(e);
    if (this.fd !== undefined) writeSync(this.fd, JSON.stringify(e) + '\n');
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The value a consume-transform-produce worker writes for one input record: where it read it
 * (`src`, "partition@offset" of the input topic), the input value, and its transaction.
 */
export interface TransformedValue {
  src: string;
  v: string | null;
  txn: string;
}

export function encodeTransformed(v: TransformedValue): string {
  return JSON.stringify(v);
}

export function decodeTransformed(value: string | null): TransformedValue | undefined {
  if (value === null || !value.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(value) as Partial<TransformedValue>;
    return typeof v.src === 'string' && typeof v.txn === 'string' && (typeof v.v === 'string' || v.v === null)
      ? { src: v.src, v: v.v, txn: v.txn }
      : undefined;
  } catch {
    return undefined;
  }
}

export function readHistory(path: string): HistoryEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as HistoryEvent);
}
