/**
 * Per-partition log settings, named after Kafka's topic configs (segment.bytes, segment.ms,
 * retention.ms, ...). Every field is optional; missing ones take Kafka's defaults.
 */

export interface LogConfig {
  /** segment.bytes: roll when the active segment would grow past this. Default 1 GiB; at most 2^31-1 (int32 positions). */
  segmentBytes?: number;
  /** segment.ms: roll when the active segment's first batch is older than this. Default 7 days. */
  segmentMs?: number;
  /** retention.ms: delete segments whose newest timestamp is older than this; -1 = unlimited. Default 7 days. */
  retentionMs?: number;
  /** retention.bytes: delete the oldest segments while the log stays at least this big without them; -1 = unlimited. */
  retentionBytes?: number;
  /** index.interval.bytes: bytes of batches between two sparse index entries. Default 4096. */
  indexIntervalBytes?: number;
  /** flush.messages: start a flush after this many unflushed records. Default: never by count. */
  flushIntervalMessages?: number;
  /** flush.ms: the caller flushes on this interval (the log only carries the value). Default: never. */
  flushMs?: number;
  /** fsync the segment after every append, before it returns (slow; Kafka's flush.messages=1). */
  fsyncEveryAppend?: boolean;
  /** max.message.bytes: largest batch a leader accepts. Default 1048588, as Kafka's message.max.bytes. */
  maxMessageBytes?: number;
  /** cleanup.policy: 'delete' (retention), 'compact' (the cleaner keeps the latest record per key; no retention by time or size) or both. */
  cleanupPolicy?: CleanupPolicy;
  /** delete.retention.ms: how long a tombstone stays after the cleaner first saw it. Default 1 day. */
  deleteRetentionMs?: number;
  /** min.cleanable.dirty.ratio: dirty bytes / cleanable bytes above which the cleaner takes the log. Default 0.5. */
  minCleanableDirtyRatio?: number;
  /** min.compaction.lag.ms: records newer than this are not compacted. Default 0. */
  minCompactionLagMs?: number;
  /** max.compaction.lag.ms: a dirty record older than this makes the log cleanable whatever its ratio; also caps segment.ms. */
  maxCompactionLagMs?: number;
}

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

export type ResolvedLogConfig = Readonly<Required<LogConfig>>;

const DAY_MS = 24 * 60 * 60 * 1000;
export const INT32_MAX = 0x7fffffff;

export const DEFAULT_LOG_CONFIG: ResolvedLogConfig = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * DAY_MS,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  flushIntervalMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  fsyncEveryAppend: false,
  maxMessageBytes: 1048588,
  cleanupPolicy: 'delete',
  deleteRetentionMs: DAY_MS,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
});

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`log config ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/** Fills in defaults and checks ranges; throws RangeError naming the bad setting. */
export function resolveLogConfig(config: LogConfig): ResolvedLogConfig {
  const defined = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as LogConfig;
  const c: Required<LogConfig> = { ...DEFAULT_LOG_CONFIG, ...defined };
  checkInteger('segmentBytes', c.segmentBytes, 1, INT32_MAX);
  checkInteger('segmentMs', c.segmentMs, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('retentionMs', c.retentionMs, -1, Number.MAX_SAFE_INTEGER);
  checkInteger('retentionBytes', c.retentionBytes, -1, Number.MAX_SAFE_INTEGER);
  checkInteger('indexIntervalBytes', c.indexIntervalBytes, 0, INT32_MAX);
  checkInteger('flushIntervalMessages', c.flushIntervalMessages, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('flushMs', c.flushMs, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('maxMessageBytes', c.maxMessageBytes, 0, INT32_MAX);
  if (typeof c.fsyncEveryAppend !== 'boolean') throw new RangeError(`log config fsyncEveryAppend must be a boolean`);
  if (!['delete', 'compact', 'compact,delete'].includes(c.cleanupPolicy))
    throw new RangeError(`log config cleanupPolicy must be delete, compact or compact,delete, got ${c.cleanupPolicy}`);
  checkInteger('deleteRetentionMs', c.deleteRetentionMs, 0, Number.MAX_SAFE_INTEGER);
  if (typeof c.minCleanableDirtyRatio !== 'number' || !(c.minCleanableDirtyRatio >= 0 && c.minCleanableDirtyRatio <= 1)) {
    throw new RangeError(`log config minCleanableDirtyRatio must be a number in [0, 1], got ${c.minCleanableDirtyRatio}`);
  }
  checkInteger('minCompactionLagMs', c.minCompactionLagMs, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('maxCompactionLagMs', c.maxCompactionLagMs, 1, Number.MAX_SAFE_INTEGER);
  return Object.freeze(c);
}

/** The log is compacted (cleanup.policy compact or compact,delete). */
export function isCompacted(config: ResolvedLogConfig): boolean {
  return config.cleanupPolicy !== 'delete';
}

/** Retention by time and size applies (cleanup.policy delete or compact,delete), as Kafka's config.delete. */
export function hasDeletePolicy(config: ResolvedLogConfig): boolean {
  return config.cleanupPolicy !== 'compact';
}

/**
 * The age at which the active segment rolls: segment.ms, capped by max.compaction.lag.ms for a
 * compacted log (Kafka's maxSegmentMs), so dirty records cannot stay in the never-cleaned active
 * segment longer than the lag allows.
 */
export function segmentRollMs(config: ResolvedLogConfig): number {
  return isCompacted(config) ? Math.min(config.segmentMs, config.maxCompactionLagMs) : config.segmentMs;
}
