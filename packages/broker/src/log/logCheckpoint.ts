/**
 * The per-partition offsets checkpoint (`log-offsets-checkpoint`), standing in for Kafka's
 * per-directory recovery-point-offset-checkpoint, log-start-offset-checkpoint and
 * .kafka_cleanshutdown files:
 *
 *   0                        version
 *   recovery-point 1234      every offset below it is fsynced (segments below it are not rescanned)
 *   log-start-offset 100     first readable offset (retention, DeleteRecords)
 *   clean-shutdown false     true only between close() and the next open
 *
 * Always replaced atomically (tmp + rename).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from './files.js';

export const LOG_CHECKPOINT_FILE = 'log-offsets-checkpoint';
const VERSION = '0';

export interface LogCheckpointState {
  recoveryPoint: bigint;
  logStartOffset: bigint;
  cleanShutdown: boolean;
}

export function logCheckpointPath(dir: string): string {
  return join(dir, LOG_CHECKPOINT_FILE);
}

/** Reads the checkpoint; undefined when absent. Throws an Error saying what is wrong when malformed. */
export function readLogCheckpoint(dir: string): LogCheckpointState | undefined {
  const path = logCheckpointPath(dir);
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== VERSION) throw new Error(`${path}: unsupported version line '${lines[0] ?? ''}'`);
  const fields = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const m = /^\s*([a-z-]+)\s+(\S+)\s*$/.exec(line);
    if (!m) throw new Error(`${path}: bad line '${line}'`);
    fields.set(m[1]!, m[2]!);
  }
  const offset = (name: string): bigint => {
    const v = fields.get(name);
    if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${path}: missing or bad '${name}'`);
    return BigInt(v);
  };
  return {
    recoveryPoint: offset('recovery-point'),
    logStartOffset: offset('log-start-offset'),
    cleanShutdown: fields.get('clean-shutdown') === 'true',
  };
}

export function writeLogCheckpoint(dir: string, state: LogCheckpointState, durable: boolean): void {
  const text =
    `${VERSION}\n` +
    `recovery-point ${state.recoveryPoint}\n` +
    `log-start-offset ${state.logStartOffset}\n` +
    `clean-shutdown ${state.cleanShutdown}\n`;
  writeFileAtomicSync(logCheckpointPath(dir), text, durable);
}
