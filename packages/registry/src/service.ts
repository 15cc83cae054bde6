/**
 * The registry service: reads answer from the state after catching up with the log; writes run
 * one at a time (each plans on the state the previous one left), append through the log and
 * answer after read-back (mirrors Confluent's `KafkaSchemaRegistry` write path under its lock).
 */
import type { RegistryLog } from './log.js';
import { RegistryOps, type RegistryOptions, type WritePlan } from './registry.js';
import type { RegistryState } from './state.js';

export class SchemaRegistry {
  readonly ops: RegistryOps;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly state: RegistryState,
    readonly log: RegistryLog,
    options?: RegistryOptions,
  ) {
    this.ops = new RegistryOps(state, options);
  }

  async read<T>(fn: (ops: RegistryOps) => T): Promise<T> {
    await this.log.sync();
    return fn(this.ops);
  }

  write<T>(plan: (ops: RegistryOps) => WritePlan<T>): Promise<T> {
    const run = async (): Promise<T> => {
      await this.log.sync();
      const p = plan(this.ops);
      if (p.records.length > 0) await this.log.append(p.records);
      return p.result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }
}
