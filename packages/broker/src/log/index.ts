// The public surface of the partition log storage.
export {
  Log,
  type LogAppendInfo,
  type LogDeps,
  type LogLogger,
  type LogReadInfo,
  type SegmentInfo,
  type TimestampAndOffset,
} from './log.js';
export { DEFAULT_LOG_CONFIG, resolveLogConfig, type CleanupPolicy, type LogConfig, type ResolvedLogConfig } from './config.js';
export {
  LEADER_EPOCH_CHECKPOINT_FILE,
  LeaderEpochFileCache,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
  type EpochEndOffset,
  type EpochEntry,
} from './leaderEpochCache.js';
export { LOG_CHECKPOINT_FILE } from './logCheckpoint.js';
export {
  HW_CHECKPOINT_FILE,
  readHighWatermarkCheckpoint,
  writeHighWatermarkCheckpoint,
  writeHighWatermarkCheckpointAsync,
} from './hwCheckpoint.js';
export { offsetFileName } from './files.js';
export { recordChecksApply, validateRecords } from './recordValidator.js';
export {
  DEFAULT_LOG_CLEANER_CONFIG,
  LogCleaner,
  cleanLog,
  cleanableRange,
  needsCleaning,
  type CleanOptions,
  type CleanResult,
  type CleanableLog,
  type CleanableRange,
  type LogCleanerConfig,
} from './cleaner.js';
export { CLEANER_CHECKPOINT_FILE, readCleanerCheckpoint, type CleanerCheckpoint, type SwapStep } from './cleanerFiles.js';
export {
  LogDirFailureChannel,
  isLogDirFailure,
  systemCallErrorOf,
  type LogDirFailureListener,
  type OfflineLogDir,
} from './logDirFailure.js';
