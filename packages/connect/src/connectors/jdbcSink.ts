/**
 * A JDBC-style PostgreSQL sink after Confluent's JdbcSinkConnector config keys:
 * `connection.url`, `insert.mode` (insert, upsert), `pk.mode` (none, record_key, record_value),
 * `pk.fields`, `auto.create`, `delete.enabled` (tombstones delete by key; needs
 * pk.mode=record_key), `table.name.format` (`${topic}`), `batch.size`.
 *
 * One put is one transaction: consecutive writes to a table go as multi-row INSERT (… ON CONFLICT
 * (pk) DO UPDATE for upserts) of at most batch.size rows, a tombstone as a DELETE; within one
 * statement the last record of a key wins, as it would have row by row.
 */
import type pg from 'pg';
import type { Schema, SinkRecord } from '../api.js';
import { ConnectError, SinkConnector, SinkTask } from '../api.js';
import { ConfigDef, validators } from '../configDef.js';
import { TIMESTAMP_LOGICAL, connect, quoteIdent, sqlType } from './postgres.js';

const VERSION = '0.1.0';

export class PostgresSinkConnector extends SinkConnector {
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
        name: 'insert.mode',
        type: 'STRING',
        defaultValue: 'insert',
        importance: 'HIGH',
        documentation: 'insert or upsert.',
        validator: validators.in('insert', 'upsert'),
      })
      .define({
        name: 'pk.mode',
        type: 'STRING',
        defaultValue: 'none',
        importance: 'HIGH',
        documentation: 'none, record_key or record_value.',
        validator: validators.in('none', 'record_key', 'record_value'),
      })
      .define({ name: 'pk.fields', type: 'LIST', defaultValue: [], importance: 'MEDIUM', documentation: 'Primary key column names.' })
      .define({
        name: 'auto.create',
        type: 'BOOLEAN',
        defaultValue: false,
        importance: 'MEDIUM',
        documentation: 'Create a missing table from the record schema.',
      })
      .define({
        name: 'delete.enabled',
        type: 'BOOLEAN',
        defaultValue: false,
        importance: 'MEDIUM',
        documentation: "Delete the row of a tombstone's key.",
      })
      .define({
        name: 'table.name.format',
        type: 'STRING',
        defaultValue: '${topic}',
        importance: 'MEDIUM',
        documentation: 'Table name; ${topic} is replaced by the topic.',
      })
      .define({
        name: 'batch.size',
        type: 'INT',
        defaultValue: 3000,
        importance: 'MEDIUM',
        documentation: 'Rows per statement.',
        validator: validators.atLeast(1),
      });
  }
  start(props: Record<string, string>): void {
    const pkMode = props['pk.mode'] ?? 'none';
    if ((props['delete.enabled'] ?? 'false') === 'true' && pkMode !== 'record_key')
      throw new ConnectError('Deletes are only supported for pk.mode record_key');
    if ((props['insert.mode'] ?? 'insert') === 'upsert' && pkMode === 'none')
      throw new ConnectError('insert.mode upsert needs a primary key: set pk.mode');
    this.props = props;
  }
  taskClass(): new () => SinkTask {
    return PostgresSinkTask;
  }
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }
  stop(): void {}
}

interface Row {
  table: string;
  columns: Map<string, { value: unknown; schema?: Schema }>;
  pk: string[];
  delete: boolean;
}

export class PostgresSinkTask extends SinkTask {
  private client: pg.Client | undefined;
  private props: Record<string, string> = {};
  private readonly knownTables = new Set<string>();

  async start(props: Record<string, string>): Promise<void> {
    this.props = props;
    this.client = await connect(props);
  }

  private rowOf(r: SinkRecord): Row {
    const table = (this.props['table.name.format'] ?? '${topic}').replace('${topic}', r.topic);
    const pkMode = this.props['pk.mode'] ?? 'none';
    const pkFields = (this.props['pk.fields'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const columns = new Map<string, { value: unknown; schema?: Schema }>();
    const fieldSchema = (s: Schema | null | undefined, f: string) => s?.fields?.find((x) => x.field === f);
    let pk: string[] = [];
    if (pkMode === 'record_key') {
      if (r.key !== null && typeof r.key === 'object' && !Buffer.isBuffer(r.key)) {
        const keyObj = r.key as Record<string, unknown>;
        pk = pkFields.length ? pkFields : Object.keys(keyObj);
        for (const f of pk)
          columns.set(f, { value: keyObj[f], ...(fieldSchema(r.keySchema, f) ? { schema: fieldSchema(r.keySchema, f)! } : {}) });
      } else {
        if (r.key === null || r.key === undefined)
          throw new ConnectError(
            `Record with a null key at ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset} cannot be written with pk.mode=record_key`,
          );
        pk = [pkFields[0] ?? '__connect_key'];
        columns.set(pk[0]!, { value: r.key, ...(r.keySchema ? { schema: r.keySchema } : {}) });
      }
    }
    if (r.value === null || r.value === undefined) return { table, columns, pk, delete: true };
    if (typeof r.value !== 'object' || Buffer.isBuffer(r.value) || Array.isArray(r.value)) {
      throw new ConnectError(
        `PostgreSQL sink needs struct or map values; ${r.topic}-${r.kafkaPartition}@${r.kafkaOffset} has a ${typeof r.value}`,
      );
    }
    for (const [k, v] of Object.entries(r.value as Record<string, unknown>)) {
      if (columns.has(k) && pkMode === 'record_key') continue;
      columns.set(k, { value: v, ...(fieldSchema(r.valueSchema, k) ? { schema: fieldSchema(r.valueSchema, k)! } : {}) });
    }
    if (pkMode === 'record_value') pk = pkFields;
    return { table, columns, pk, delete: false };
  }

  async put(records: SinkRecord[]): Promise<void> {
    if (records.length === 0) return;
    const client = this.client!;
    const rows = records.map((r) => this.rowOf(r));
    const deleteEnabled = (this.props['delete.enabled'] ?? 'false') === 'true';
    await client.query('BEGIN');
    try {
      let run: Row[] = [];
      const flushRun = async () => {
        if (run.length > 0) await this.write(run);
        run = [];
      };
      for (const row of rows) {
        if (row.delete) {
          await flushRun();
          if (!deleteEnabled) continue; // Kafka's JDBC sink skips tombstones unless deletes are on.
          await this.ensureTable(row);
          const where = row.pk.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(' AND ');
          await client.query(
            `DELETE FROM ${quoteIdent(row.table)} WHERE ${where}`,
            row.pk.map((c) => dbValue(row.columns.get(c))),
          );
          continue;
        }
        if (run.length > 0 && (run[0]!.table !== row.table || run.length >= Number(this.props['batch.size'] ?? '3000'))) await flushRun();
        run.push(row);
      }
      await flushRun();
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async ensureTable(row: Row): Promise<void> {
    if (this.knownTables.has(row.table) || (this.props['auto.create'] ?? 'false') !== 'true') return;
    const cols = [...row.columns].map(
      ([name, c]) => `${quoteIdent(name)} ${sqlType(c.schema, c.value)}${row.pk.includes(name) ? ' NOT NULL' : ''}`,
    );
    const pk = row.pk.length > 0 ? `, PRIMARY KEY (${row.pk.map(quoteIdent).join(', ')})` : '';
    await this.client!.query(`CREATE TABLE IF NOT EXISTS ${quoteIdent(row.table)} (${cols.join(', ')}${pk})`);
    this.knownTables.add(row.table);
  }

  private async write(run: Row[]): Promise<void> {
    const upsert = (this.props['insert.mode'] ?? 'insert') === 'upsert';
    let rows = run;
    if (upsert) {
      // One statement may not touch a row twice: keep the last record of each key.
      const byKey = new Map<string, Row>();
      for (const r of run) byKey.set(JSON.stringify(r.pk.map((c) => dbValue(r.columns.get(c)))), r);
      rows = [...byKey.values()];
    }
    await this.ensureTable(rows[0]!);
    const columns = [...new Set(rows.flatMap((r) => [...r.columns.keys()]))];
    const params: unknown[] = [];
    const tuples = rows.map(
      (r) =>
        `(${columns
          .map((c) => {
            params.push(dbValue(r.columns.get(c)));
            return `$${params.length}`;
          })
          .join(', ')})`,
    );
    let sql = `INSERT INTO ${quoteIdent(rows[0]!.table)} (${columns.map(quoteIdent).join(', ')}) VALUES ${tuples.join(', ')}`;
    if (upsert) {
      const pk = rows[0]!.pk;
      const rest = columns.filter((c) => !pk.includes(c));
      sql += ` ON CONFLICT (${pk.map(quoteIdent).join(', ')}) DO ${rest.length ? `UPDATE SET ${rest.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}` : 'NOTHING'}`;
    }
    await this.client!.query(sql, params);
  }

  async stop(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}

function dbValue(c: { value: unknown; schema?: Schema } | undefined): unknown {
  if (!c || c.value === undefined) return null;
  if (c.schema?.name === TIMESTAMP_LOGICAL && typeof c.value === 'number') return new Date(c.value);
  if (c.value !== null && typeof c.value === 'object' && !Buffer.isBuffer(c.value) && !(c.value instanceof Date))
    return JSON.stringify(c.value);
  return c.value;
}
