/**
 * A JDBC-style PostgreSQL source after Confluent's JdbcSourceConnector config keys:
 * `connection.url`, `mode` (bulk, incrementing, timestamp, timestamp+incrementing),
 * `incrementing.column.name`, `timestamp.column.name`, `table.whitelist` or `query`,
 * `topic.prefix`, `poll.interval.ms`, `batch.max.rows`, `timestamp.delay.interval.ms`.
 *
 * The source partition is `{"table": name}` (or `{"query": sql}`), the offset
 * `{"incrementing": n}`, `{"timestamp": "<UTC text, microseconds>"}` or both. Rows are read in
 * (timestamp, incrementing) order strictly after the stored offset; in timestamp modes only rows
 * older than now − delay are read, so a row committed late with an earlier timestamp is not skipped
 * by a moving window (the same rule as Confluent's).
 */
import type pg from 'pg';
import type { Schema, SourceRecord } from '../api.js';
import { ConnectError, SourceConnector, SourceTask } from '../api.js';
import { abortableSleep } from '../sleep.js';
import { ConfigDef, validators } from '../configDef.js';
import { connect, connectValue, quoteIdent, schemaForOid } from './postgres.js';

const VERSION = '0.1.0';
type Mode = 'bulk' | 'incrementing' | 'timestamp' | 'timestamp+incrementing';

export class PostgresSourceConnector extends SourceConnector {
  private props: Record<string, string> = {};
  version(): string {
    return VERSION;
  }
  config(): ConfigDef {
    return new ConfigDef()
      .define({
        name: 'connection.url',
        type: 'STRING',
        importance: 'HIGH',
        documentation: 'jdbc:postgresql://host:port/database',
        validator: validators.nonEmptyString(),
      })
      .define({ name: 'connection.user', type: 'STRING', defaultValue: '', importance: 'HIGH', documentation: 'Database user.' })
      .define({ name: 'connection.password', type: 'PASSWORD', defaultValue: '', importance: 'HIGH', documentation: 'Database password.' })
      .define({
        name: 'mode',
        type: 'STRING',
        importance: 'HIGH',
        documentation: 'bulk, incrementing, timestamp or timestamp+incrementing.',
        validator: validators.in('bulk', 'incrementing', 'timestamp', 'timestamp+incrementing'),
      })
      .define({
        name: 'incrementing.column.name',
        type: 'STRING',
        defaultValue: '',
        importance: 'MEDIUM',
        documentation: 'A strictly increasing column.',
      })
      .define({
        name: 'timestamp.column.name',
        type: 'STRING',
        defaultValue: '',
        importance: 'MEDIUM',
        documentation: 'A last-modified timestamp column.',
      })
      .define({ name: 'table.whitelist', type: 'LIST', defaultValue: [], importance: 'MEDIUM', documentation: 'Tables to copy.' })
      .define({
        name: 'query',
        type: 'STRING',
        defaultValue: '',
        importance: 'MEDIUM',
        documentation: 'A query to copy instead of whole tables.',
      })
      .define({
        name: 'topic.prefix',
        type: 'STRING',
        importance: 'HIGH',
        documentation: 'Prefix of table names to make topic names; the topic name in query mode.',
      })
      .define({
        name: 'poll.interval.ms',
        type: 'INT',
        defaultValue: 5000,
        importance: 'HIGH',
        documentation: 'How often to look for new rows.',
        validator: validators.atLeast(1),
      })
      .define({
        name: 'batch.max.rows',
        type: 'INT',
        defaultValue: 100,
        importance: 'LOW',
        documentation: 'Rows per poll per table.',
        validator: validators.atLeast(1),
      })
      .define({
        name: 'timestamp.delay.interval.ms',
        type: 'LONG',
        defaultValue: 0,
        importance: 'HIGH',
        documentation: "How long after a row's timestamp it may be read.",
        validator: validators.atLeast(0),
      });
  }
  start(props: Record<string, string>): void {
    const tables = (props['table.whitelist'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const query = (props.query ?? '').trim();
    if (tables.length > 0 === (query !== '')) throw new ConnectError('Exactly one of table.whitelist or query must be set');
    const mode = props.mode as Mode;
    if (mode.includes('incrementing') && !props['incrementing.column.name'])
      throw new ConnectError(`Mode ${mode} needs incrementing.column.name`);
    if (mode.includes('timestamp') && !props['timestamp.column.name']) throw new ConnectError(`Mode ${mode} needs timestamp.column.name`);
    this.props = props;
  }
  taskClass(): new () => SourceTask {
    return PostgresSourceTask;
  }
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    const tables = (this.props['table.whitelist'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (tables.length === 0) return [{ ...this.props }];
    // Tables dealt round-robin over at most maxTasks tasks.
    const groups: string[][] = Array.from({ length: Math.min(maxTasks, tables.length) }, () => []);
    tables.forEach((t, i) => groups[i % groups.length]!.push(t));
    return groups.map((g) => ({ ...this.props, tables: g.join(',') }));
  }
  stop(): void {}
}

interface Source {
  partition: Record<string, string>;
  topic: string;
  from: string;
}

export class PostgresSourceTask extends SourceTask {
  private client: pg.Client | undefined;
  private props: Record<string, string> = {};
  private mode: Mode = 'bulk';
  private sources: Source[] = [];
  private lastPoll = new Map<string, number>();

  async start(props: Record<string, string>): Promise<void> {
    this.props = props;
    this.mode = props.mode as Mode;
    const prefix = props['topic.prefix'] ?? '';
    const tables = (props.tables ?? '').split(',').filter(Boolean);
    this.sources =
      tables.length > 0
        ? tables.map((t) => ({ partition: { table: t }, topic: `${prefix}${t}`, from: quoteIdent(t) }))
        : [{ partition: { query: props.query! }, topic: prefix, from: `(${props.query!})` }];
    this.client = await connect(props);
  }

  async poll(signal: AbortSignal): Promise<SourceRecord[]> {
    const interval = Number(this.props['poll.interval.ms'] ?? '5000');
    const out: SourceRecord[] = [];
    for (const source of this.sources) {
      const key = JSON.stringify(source.partition);
      const last = this.lastPoll.get(key) ?? 0;
      if (Date.now() - last < interval) continue;
      const rows = await this.readBatch(source);
      // A full batch means more is waiting: poll this source again without waiting.
      this.lastPoll.set(key, rows.length >= Number(this.props['batch.max.rows'] ?? '100') ? 0 : Date.now());
      out.push(...rows);
    }
    if (out.length === 0) {
      await abortableSleep(Math.min(interval, 200), signal);
    }
    return out;
  }

  private offset(source: Source): { incrementing?: number; timestamp?: string } {
    const stored = this.context.offsetStorageReader.offset(source.partition) as { incrementing?: number; timestamp?: string } | null;
    return stored ?? {};
  }

  private async readBatch(source: Source): Promise<SourceRecord[]> {
    const inc = this.props['incrementing.column.name'] ?? '';
    const ts = this.props['timestamp.column.name'] ?? '';
    const limit = Number(this.props['batch.max.rows'] ?? '100');
    const delay = Number(this.props['timestamp.delay.interval.ms'] ?? '0');
    const stored = { ...this.offset(source), ...this.pendingOffsets.get(JSON.stringify(source.partition)) };
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const tsText = `to_char(${quoteIdent(ts)}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
    if (this.mode === 'incrementing') {
      where.push(`${quoteIdent(inc)} > ${p(stored.incrementing ?? -1)}`);
    } else if (this.mode === 'timestamp') {
      if (stored.timestamp) where.push(`${quoteIdent(ts)} > ${p(stored.timestamp)}::timestamp`);
      where.push(`${quoteIdent(ts)} < (now() AT TIME ZONE 'UTC') - ${p(`${delay} milliseconds`)}::interval`);
    } else if (this.mode === 'timestamp+incrementing') {
      if (stored.timestamp) {
        const t = p(stored.timestamp);
        where.push(
          `(${quoteIdent(ts)} > ${t}::timestamp OR (${quoteIdent(ts)} = ${t}::timestamp AND ${quoteIdent(inc)} > ${p(stored.incrementing ?? -1)}))`,
        );
      }
      where.push(`${quoteIdent(ts)} < (now() AT TIME ZONE 'UTC') - ${p(`${delay} milliseconds`)}::interval`);
    }
    const order =
      this.mode === 'incrementing'
        ? ` ORDER BY ${quoteIdent(inc)}`
        : this.mode === 'timestamp'
          ? ` ORDER BY ${quoteIdent(ts)}`
          : this.mode === 'timestamp+incrementing'
            ? ` ORDER BY ${quoteIdent(ts)}, ${quoteIdent(inc)}`
            : '';
    const sql =
      `SELECT q.*${ts ? `, ${tsText.replace(quoteIdent(ts), `q.${quoteIdent(ts)}`)} AS "__samsa_ts"` : ''} FROM ${source.from} AS q` +
      `${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order}${this.mode === 'bulk' ? '' : ` LIMIT ${limit}`}`;
    const result = await this.client!.query({ text: sql, values: params });
    const fields = result.fields.filter((f) => f.name !== '__samsa_ts');
    const schema: Schema = {
      type: 'struct',
      optional: false,
      name: 'table' in source.partition ? source.partition.table : 'query',
      fields: fields.map((f) => ({ ...schemaForOid(f.dataTypeID), field: f.name })),
    };
    return result.rows.map((row: Record<string, unknown>) => {
      const value: Record<string, unknown> = {};
      for (const f of schema.fields!) value[f.field] = connectValue(f, row[f.field]);
      const offset: Record<string, unknown> = {};
      if (this.mode.includes('incrementing')) offset.incrementing = Number(row[inc]);
      if (this.mode.includes('timestamp')) offset.timestamp = row.__samsa_ts;
      if (this.mode !== 'bulk')
        this.pendingOffsets.set(JSON.stringify(source.partition), offset as { incrementing?: number; timestamp?: string });
      return {
        topic: source.topic,
        sourcePartition: source.partition,
        sourceOffset: offset,
        keySchema: null,
        key: null,
        valueSchema: schema,
        value,
      };
    });
  }

  /** Offsets of rows already handed out but maybe not yet committed: the next query starts after them. */
  private readonly pendingOffsets = new Map<string, { incrementing?: number; timestamp?: string }>();

  async stop(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
