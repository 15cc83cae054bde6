/**
 * A `datagen` source in the spirit of Confluent's kafka-connect-datagen (config keys
 * `kafka.topic`, `quickstart`, `max.interval`, `iterations`, `random.seed`): keyed records from a
 * seeded RNG, with schemas, at most one record per `max.interval` ms per task. Templates:
 * `tweets` (the course's tweet stream), `users`, `orders`. The source offset
 * `{"position": n}` counts records made, so a restart continues the sequence (same seed: same data).
 */
import type { Schema, SourceRecord } from '../api.js';
import { SourceConnector, SourceTask } from '../api.js';
import { abortableSleep } from '../sleep.js';
import { ConfigDef, validators } from '../configDef.js';
import { seededRandom } from '@samsa/protocol';

const VERSION = '0.1.0';
const WORDS = [
  'kafka',
  'stream',
  'log',
  'partition',
  'replica',
  'offset',
  'consumer',
  'producer',
  'topic',
  'broker',
  'event',
  'samsa',
  'latency',
  'throughput',
];
const NAMES = ['ada', 'grace', 'linus', 'margaret', 'dennis', 'barbara', 'ken', 'frances', 'edsger', 'radia'];
const LANGS = ['en', 'de', 'fr', 'es', 'ja'];
const ITEMS = ['book', 'lamp', 'chair', 'mug', 'pen', 'desk'];

type Template = {
  keySchema: Schema;
  valueSchema: Schema;
  make(n: number, rng: () => number, now: number): { key: unknown; value: Record<string, unknown> };
};

const pick = <T>(rng: () => number, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

export const TEMPLATES: Record<string, Template> = {
  tweets: {
    keySchema: { type: 'string', optional: false },
    valueSchema: {
      type: 'struct',
      name: 'samsa.datagen.Tweet',
      optional: false,
      fields: [
        { field: 'id', type: 'int64', optional: false },
        { field: 'created_at', type: 'int64', optional: false },
        { field: 'text', type: 'string', optional: false },
        { field: 'lang', type: 'string', optional: false },
        { field: 'retweet_count', type: 'int32', optional: false },
        {
          field: 'user',
          type: 'struct',
          optional: false,
          fields: [
            { field: 'id', type: 'int64', optional: false },
            { field: 'screen_name', type: 'string', optional: false },
            { field: 'followers_count', type: 'int32', optional: false },
          ],
        },
      ],
    },
    make(n, rng, now) {
      const userIdx = Math.floor(rng() * NAMES.length);
      const text = Array.from({ length: 4 + Math.floor(rng() * 8) }, () => pick(rng, WORDS)).join(' ') + (rng() < 0.3 ? ' #kafka' : '');
      const screenName = `${NAMES[userIdx]}_${userIdx}`;
      return {
        key: screenName,
        value: {
          id: 1_000_000 + n,
          created_at: now,
          text,
          lang: pick(rng, LANGS),
          retweet_count: Math.floor(rng() * 100),
          user: { id: userIdx + 1, screen_name: screenName, followers_count: Math.floor(rng() * 10_000) },
        },
      };
    },
  },
  users: {
    keySchema: { type: 'string', optional: false },
    valueSchema: {
      type: 'struct',
      name: 'samsa.datagen.User',
      optional: false,
      fields: [
        { field: 'userid', type: 'string', optional: false },
        { field: 'registertime', type: 'int64', optional: false },
        { field: 'regionid', type: 'string', optional: false },
        { field: 'gender', type: 'string', optional: false },
      ],
    },
    make(_n, rng, now) {
      const userid = `User_${1 + Math.floor(rng() * 9)}`;
      return {
        key: userid,
        value: {
          userid,
          registertime: now - Math.floor(rng() * 1e9),
          regionid: `Region_${1 + Math.floor(rng() * 9)}`,
          gender: pick(rng, ['MALE', 'FEMALE', 'OTHER']),
        },
      };
    },
  },
  orders: {
    keySchema: { type: 'int64', optional: false },
    valueSchema: {
      type: 'struct',
      name: 'samsa.datagen.Order',
      optional: false,
      fields: [
        { field: 'orderid', type: 'int64', optional: false },
        { field: 'ordertime', type: 'int64', optional: false },
        { field: 'itemid', type: 'string', optional: false },
        { field: 'orderunits', type: 'float64', optional: false },
        { field: 'userid', type: 'string', optional: false },
      ],
    },
    make(n, rng, now) {
      return {
        key: n,
        value: {
          orderid: n,
          ordertime: now,
          itemid: pick(rng, ITEMS),
          orderunits: Math.round(rng() * 1000) / 100,
          userid: `User_${1 + Math.floor(rng() * 9)}`,
        },
      };
    },
  },
};

export class DatagenConnector extends SourceConnector {
  private props: Record<string, string> = {};
  version(): string {
    return VERSION;
  }
  config(): ConfigDef {
    return new ConfigDef()
      .define({
        name: 'kafka.topic',
        type: 'STRING',
        importance: 'HIGH',
        documentation: 'Topic to write to.',
        validator: validators.nonEmptyString(),
      })
      .define({
        name: 'quickstart',
        type: 'STRING',
        defaultValue: 'tweets',
        importance: 'HIGH',
        documentation: 'Template: tweets, users or orders.',
        validator: validators.in(...Object.keys(TEMPLATES)),
      })
      .define({
        name: 'max.interval',
        type: 'LONG',
        defaultValue: 500,
        importance: 'LOW',
        documentation: 'Milliseconds between records of one task (the rate limit).',
        validator: validators.atLeast(0),
      })
      .define({ name: 'iterations', type: 'LONG', defaultValue: -1, importance: 'LOW', documentation: 'Records per task; -1 without end.' })
      .define({ name: 'random.seed', type: 'LONG', defaultValue: 1, importance: 'LOW', documentation: 'Seed of the generator.' });
  }
  start(props: Record<string, string>): void {
    this.props = props;
  }
  /** Its position offset per task is all it keeps, so the seeded stream resumes exactly. */
  override exactlyOnceSupport(): 'SUPPORTED' {
    return 'SUPPORTED';
  }
  taskClass(): new () => SourceTask {
    return DatagenTask;
  }
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return Array.from({ length: maxTasks }, (_, i) => ({ ...this.props, 'task.id': String(i) }));
  }
  stop(): void {}
}

export class DatagenTask extends SourceTask {
  private topic = '';
  private template!: Template;
  private interval = 500;
  private iterations = -1;
  private seed = 1;
  private taskId = '0';
  private position = 0;
  private nextAt = 0;

  start(props: Record<string, string>): void {
    this.topic = props['kafka.topic']!;
    this.template = TEMPLATES[props.quickstart ?? 'tweets']!;
    this.interval = Number(props['max.interval'] ?? '500');
    this.iterations = Number(props.iterations ?? '-1');
    this.seed = Number(props['random.seed'] ?? '1');
    this.taskId = props['task.id'] ?? '0';
    const stored = this.context.offsetStorageReader.offset({ task: this.taskId });
    this.position = typeof stored?.position === 'number' ? stored.position : 0;
  }

  async poll(signal: AbortSignal): Promise<SourceRecord[]> {
    if (this.iterations >= 0 && this.position >= this.iterations) {
      await abortableSleep(200, signal);
      return [];
    }
    if (this.nextAt === 0) this.nextAt = Date.now();
    const wait = this.nextAt - Date.now();
    if (wait > 0) await abortableSleep(wait, signal);
    if (signal.aborted) return [];
    // Records due since the last poll (at most 1000), so a slow poll loop keeps the rate.
    const due = this.interval === 0 ? 1000 : Math.min(1000, Math.floor((Date.now() - this.nextAt) / this.interval) + 1);
    const out: SourceRecord[] = [];
    for (let i = 0; i < due && (this.iterations < 0 || this.position < this.iterations); i++) {
      const n = this.position++;
      // Each record's randomness comes from (seed, task, n): a restart from an offset regenerates the same record.
      const rng = seededRandom(this.seed * 1_000_003 + Number(this.taskId) * 7919 + n);
      // A record's time is its slot in the rate schedule (never in the future: the loop above waited
      // for the first slot), so records caught up by a late poll keep their spacing.
      const at = this.interval === 0 ? Date.now() : this.nextAt + i * this.interval;
      const { key, value } = this.template.make(n, rng, at);
      out.push({
        topic: this.topic,
        sourcePartition: { task: this.taskId },
        sourceOffset: { position: n + 1 },
        keySchema: this.template.keySchema,
        key,
        valueSchema: this.template.valueSchema,
        value,
      });
    }
    this.nextAt = this.interval === 0 ? Date.now() : this.nextAt + this.interval * out.length;
    return out;
  }

  stop(): void {}
}
