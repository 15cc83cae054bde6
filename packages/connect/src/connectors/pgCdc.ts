/**
 * A PostgreSQL change-data-capture source through logical replication with the `pgoutput`
 * plugin: the job Debezium's PostgreSQL connector does, with its record shape
 * (`{before, after, source, op, ts_ms}`, op `r` snapshot / `c` / `u` / `d`, a tombstone after each
 * delete) and topics `<topic.prefix>.<schema>.<table>`.
 *
 * Start: a publication (`publication.name`, for `table.include.list` or all tables) and a
 * replication slot (`slot.name`) are created when missing; with `snapshot.mode=initial` and no
 * stored offset saying the snapshot completed, every published table is read first (op `r`).
 * Changes are read with `pg_logical_slot_peek_binary_changes` and decoded by ./pgoutput.ts, one
 * whole transaction at a time. The source offset is the slot position: the transaction's commit
 * and end LSN plus the index of the change in it. The slot is advanced (`pg_replication_slot_advance`)
 * only in commit(), to what the runtime stored, so PostgreSQL keeps every change not yet
 * acknowledged; a restart resumes after the last stored change. At-least-once: the snapshot may
 * repeat rows that also arrive as changes, and changes after the last offset flush are re-sent.
 */
import type pg from 'pg';
import type { Schema, SourceRecord } from '../api.js';
import { SourceConnector, SourceTask } from '../api.js';
import { abortableSleep } from '../sleep.js';
import { ConfigDef, validators } from '../configDef.js';
import { connect, connectValue, quoteIdent, schemaForOid } from './postgres.js';
import { decodePgOutput, formatLsn, parseLsn, textValue, type RelationColumn, type TupleValue } from './pgoutput.js';

const VERSION = '0.1.0';

export class PostgresCdcConnector extends SourceConnector {
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
      .define({
        name: 'connection.user',
        type: 'STRING',
        defaultValue: '',
        importance: 'HIGH',
        documentation: 'A user with the REPLICATION attribute.',
      })
      .define({ name: 'connection.password', type: 'PASSWORD', defaultValue: '', importance: 'HIGH', documentation: 'Database password.' })
      .define({
        name: 'topic.prefix',
        type: 'STRING',
        importance: 'HIGH',
        documentation: 'Topics are <topic.prefix>.<schema>.<table>.',
        validator: validators.nonEmptyString(),
      })
      .define({
        name: 'slot.name',
        type: 'STRING',
        defaultValue: 'samsa',
        importance: 'MEDIUM',
        documentation: 'The logical replication slot.',
      })
      .define({
        name: 'publication.name',
        type: 'STRING',
        defaultValue: 'samsa_publication',
        importance: 'MEDIUM',
        documentation: 'The publication the slot reads.',
      })
      .define({
        name: 'table.include.list',
        type: 'LIST',
        defaultValue: [],
        importance: 'MEDIUM',
        documentation: 'schema.table names to capture; empty: all tables.',
      })
      .define({
        name: 'snapshot.mode',
        type: 'STRING',
        defaultValue: 'initial',
        importance: 'MEDIUM',
        documentation: 'initial or never.',
        validator: validators.in('initial', 'never'),
      })
      .define({
        name: 'poll.interval.ms',
        type: 'INT',
        defaultValue: 500,
        importance: 'LOW',
        documentation: 'Wait between reads of the slot when it had nothing.',
        validator: validators.atLeast(1),
      })
      .define({
        name: 'max.batch.size',
        type: 'INT',
        defaultValue: 2048,
        importance: 'LOW',
        documentation: 'Changes read from the slot per poll (whole transactions).',
        validator: validators.atLeast(1),
      });
  }
  start(props: Record<string, string>): void {
    this.props = props;
  }
  taskClass(): new () => SourceTask {
    return PostgresCdcTask;
  }
  taskConfigs(): Array<Record<string, string>> {
    // One slot is read by one task.
    return [{ ...this.props }];
  }
  stop(): void {}
}

interface Relation {
  namespace: string;
  name: string;
  columns: RelationColumn[];
}
interface CdcOffset {
  lsn: string;
  commit_lsn: string;
  index: number;
  last: boolean;
  snapshot_completed: boolean;
}

export class PostgresCdcTask extends SourceTask {
  private client: pg.Client | undefined;
  private props: Record<string, string> = {};
  private partition: Record<string, string> = {};
  private slot = '';
  private publication = '';
  private snapshotPending = false;
  private readonly relations = new Map<number, Relation>();
  /** The last change handed out: later peeks skip what came before it. */
  private emitted: { endLsn: bigint; index: number } = { endLsn: 0n, index: Number.MAX_SAFE_INTEGER };

  async start(props: Record<string, string>): Promise<void> {
    this.props = props;
    this.slot = props['slot.name'] ?? 'samsa';
    this.publication = props['publication.name'] ?? 'samsa_publication';
    this.partition = { server: props['topic.prefix']!, slot: this.slot };
    const client = await connect(props);
    this.client = client;
    const tables = (props['table.include.list'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const pub = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [this.publication]);
    if (pub.rowCount === 0) {
      await client.query(
        `CREATE PUBLICATION ${quoteIdent(this.publication)} ${tables.length ? `FOR TABLE ${tables.map(quoteIdent).join(', ')}` : 'FOR ALL TABLES'}`,
      );
    }
    const slot = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [this.slot]);
    if (slot.rowCount === 0) await client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [this.slot]);
    const stored = this.context.offsetStorageReader.offset(this.partition) as CdcOffset | null;
    this.snapshotPending = (props['snapshot.mode'] ?? 'initial') === 'initial' && !stored?.snapshot_completed;
    if (stored?.lsn) {
      this.emitted = { endLsn: parseLsn(stored.lsn), index: stored.index };
      await this.advanceSlot(stored);
    }
  }

  private async advanceSlot(o: CdcOffset): Promise<void> {
    if (!o.lsn) return;
    // A transaction only partly stored is read again from its commit; the emitted mark skips its stored changes.
    const target = o.last ? parseLsn(o.lsn) : parseLsn(o.commit_lsn);
    const r = await this.client!.query('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [
      this.slot,
    ]);
    const current = r.rows[0]?.lsn ? parseLsn(r.rows[0].lsn as string) : 0n;
    if (target > current) await this.client!.query('SELECT pg_replication_slot_advance($1, $2::pg_lsn)', [this.slot, formatLsn(target)]);
  }

  override async commit(): Promise<void> {
    const stored = this.context.offsetStorageReader.offset(this.partition) as CdcOffset | null;
    if (stored && this.client) await this.advanceSlot(stored);
  }

  async poll(signal: AbortSignal): Promise<SourceRecord[]> {
    if (this.snapshotPending) {
      this.snapshotPending = false;
      const records = await this.snapshot();
      if (records.length > 0) return records;
    }
    const rows = await this.client!.query({
      text: "SELECT data FROM pg_logical_slot_peek_binary_changes($1, NULL, $2, 'proto_version', '1', 'publication_names', $3)",
      values: [this.slot, Number(this.props['max.batch.size'] ?? '2048'), this.publication],
    });
    const out: SourceRecord[] = [];
    let changes: Array<{ build: (offset: CdcOffset) => SourceRecord[] }> = [];
    for (const row of rows.rows as Array<{ data: Buffer }>) {
      const msg = decodePgOutput(row.data);
      switch (msg.tag) {
        case 'begin':
          changes = [];
          break;
        case 'relation': {
          // The key is the primary key: with REPLICA IDENTITY FULL pgoutput flags every column.
          const pk = await this.primaryKey(msg.namespace, msg.name);
          const columns = pk.size > 0 ? msg.columns.map((c) => ({ ...c, flags: pk.has(c.name) ? 1 : 0 })) : msg.columns;
          this.relations.set(msg.oid, { namespace: msg.namespace, name: msg.name, columns });
          break;
        }
        case 'insert':
          changes.push({ build: (o) => this.change('c', msg.oid, undefined, msg.newTuple, o) });
          break;
        case 'update':
          changes.push({ build: (o) => this.change('u', msg.oid, msg.oldTuple, msg.newTuple, o) });
          break;
        case 'delete':
          changes.push({ build: (o) => this.change('d', msg.oid, msg.oldTuple, undefined, o) });
          break;
        case 'commit': {
          const endLsn = msg.endLsn;
          changes.forEach((c, index) => {
            if (endLsn < this.emitted.endLsn || (endLsn === this.emitted.endLsn && index <= this.emitted.index)) return;
            out.push(
              ...c.build({
                lsn: formatLsn(endLsn),
                commit_lsn: formatLsn(msg.commitLsn),
                index,
                last: index === changes.length - 1,
                snapshot_completed: true,
              }),
            );
            this.emitted = { endLsn, index };
          });
          changes = [];
          break;
        }
        default:
          break;
      }
    }
    if (out.length === 0) {
      await abortableSleep(Number(this.props['poll.interval.ms'] ?? '500'), signal);
    }
    return out;
  }

  private columnsSchema(rel: Relation): Schema {
    return {
      type: 'struct',
      optional: true,
      name: `${this.props['topic.prefix']}.${rel.namespace}.${rel.name}.Value`,
      fields: rel.columns.map((c) => ({ ...schemaForOid(c.typeOid), field: c.name })),
    };
  }

  private envelopeSchema(rel: Relation): Schema {
    const cols = this.columnsSchema(rel);
    return {
      type: 'struct',
      optional: false,
      name: `${this.props['topic.prefix']}.${rel.namespace}.${rel.name}.Envelope`,
      fields: [
        { ...cols, field: 'before' },
        { ...cols, field: 'after' },
        {
          type: 'struct',
          optional: false,
          field: 'source',
          fields: [
            { field: 'connector', type: 'string', optional: false },
            { field: 'name', type: 'string', optional: false },
            { field: 'schema', type: 'string', optional: false },
            { field: 'table', type: 'string', optional: false },
            { field: 'lsn', type: 'string', optional: true },
            { field: 'snapshot', type: 'boolean', optional: false },
          ],
        },
        { field: 'op', type: 'string', optional: false },
        { field: 'ts_ms', type: 'int64', optional: true },
      ],
    };
  }

  private keyOf(rel: Relation, row: Record<string, unknown>): { keySchema: Schema | null; key: unknown } {
    const keyCols = rel.columns.filter((c) => (c.flags & 1) === 1);
    if (keyCols.length === 0) return { keySchema: null, key: null };
    return {
      keySchema: {
        type: 'struct',
        optional: false,
        name: `${this.props['topic.prefix']}.${rel.namespace}.${rel.name}.Key`,
        fields: keyCols.map((c) => ({ ...schemaForOid(c.typeOid), optional: false, field: c.name })),
      },
      key: Object.fromEntries(keyCols.map((c) => [c.name, row[c.name] ?? null])),
    };
  }

  private tupleRow(rel: Relation, tuple: TupleValue[] | undefined): Record<string, unknown> | null {
    if (!tuple) return null;
    const row: Record<string, unknown> = {};
    rel.columns.forEach((c, i) => {
      const v = textValue(c.typeOid, tuple[i] ?? { kind: 'null' });
      if (v !== undefined) row[c.name] = v;
    });
    return row;
  }

  private change(
    op: 'c' | 'u' | 'd',
    oid: number,
    oldTuple: TupleValue[] | undefined,
    newTuple: TupleValue[] | undefined,
    offset: CdcOffset,
  ): SourceRecord[] {
    const rel = this.relations.get(oid);
    if (!rel) throw new Error(`pgoutput: change for relation ${oid} before its Relation message`);
    const before = this.tupleRow(rel, oldTuple);
    const after = this.tupleRow(rel, newTuple);
    const topic = `${this.props['topic.prefix']}.${rel.namespace}.${rel.name}`;
    const { keySchema, key } = this.keyOf(rel, (after ?? before)!);
    const value = {
      before,
      after,
      op,
      ts_ms: Date.now(),
      source: {
        connector: 'postgresql',
        name: this.props['topic.prefix']!,
        schema: rel.namespace,
        table: rel.name,
        lsn: offset.lsn,
        snapshot: false,
      },
    };
    const record: SourceRecord = {
      topic,
      sourcePartition: this.partition,
      sourceOffset: offset as unknown as Record<string, unknown>,
      keySchema,
      key,
      valueSchema: this.envelopeSchema(rel),
      value,
    };
    // Debezium's tombstones.on.delete: a null value after a delete lets compaction drop the key.
    return op === 'd' ? [record, { ...record, valueSchema: null, value: null }] : [record];
  }

  private async primaryKey(namespace: string, table: string): Promise<Set<string>> {
    const keys = await this.client!.query(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       WHERE i.indrelid = $1::regclass AND i.indisprimary`,
      [`${quoteIdent(namespace)}.${quoteIdent(table)}`],
    );
    return new Set((keys.rows as Array<{ attname: string }>).map((r) => r.attname));
  }

  private async snapshot(): Promise<SourceRecord[]> {
    const client = this.client!;
    const tables = await client.query('SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2', [
      this.publication,
    ]);
    const out: SourceRecord[] = [];
    for (const t of tables.rows as Array<{ schemaname: string; tablename: string }>) {
      const keyNames = await this.primaryKey(t.schemaname, t.tablename);
      const result = await client.query(`SELECT * FROM ${quoteIdent(t.schemaname)}.${quoteIdent(t.tablename)}`);
      const rel: Relation = {
        namespace: t.schemaname,
        name: t.tablename,
        columns: result.fields.map((f) => ({ flags: keyNames.has(f.name) ? 1 : 0, name: f.name, typeOid: f.dataTypeID, typeMod: -1 })),
      };
      for (const r of result.rows as Array<Record<string, unknown>>) {
        const after: Record<string, unknown> = {};
        for (const c of rel.columns) after[c.name] = connectValue(schemaForOid(c.typeOid), r[c.name]);
        const { keySchema, key } = this.keyOf(rel, after);
        out.push({
          topic: `${this.props['topic.prefix']}.${rel.namespace}.${rel.name}`,
          sourcePartition: this.partition,
          sourceOffset: { snapshot_completed: false },
          keySchema,
          key,
          valueSchema: this.envelopeSchema(rel),
          value: {
            before: null,
            after,
            op: 'r',
            ts_ms: Date.now(),
            source: {
              connector: 'postgresql',
              name: this.props['topic.prefix']!,
              schema: rel.namespace,
              table: rel.name,
              lsn: null,
              snapshot: true,
            },
          },
        });
      }
    }
    // The snapshot's last record says it completed; a crash before it is stored means a new snapshot.
    if (out.length > 0) out[out.length - 1]!.sourceOffset = { snapshot_completed: true, lsn: '', commit_lsn: '', index: 0, last: true };
    return out;
  }

  async stop(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
