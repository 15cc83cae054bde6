/**
 * Redis Streams source and sink. Source: XREAD from `redis.stream.names` after the stored entry
 * id; each entry becomes a record (key: the stream name, value: the entry's fields as a map) whose
 * source partition is `{"stream": name}` and offset `{"id": "<entry id>"}` — a restart goes on
 * after the last stored id. Sink: each record's value (a map, or any value as field `value`) is
 * XADDed to `redis.stream.name` (`${topic}` by default), with the record key as field `key`.
 */
import type { SinkRecord, SourceRecord } from '../api.js';
import { ConnectError, SinkConnector, SinkTask, SourceConnector, SourceTask } from '../api.js';
import { ConfigDef, validators } from '../configDef.js';
import { RedisConnection, redisAddress, type RespValue } from './resp.js';

const VERSION = '0.1.0';

const redisUri = {
  name: 'redis.uri',
  type: 'STRING' as const,
  importance: 'HIGH' as const,
  documentation: 'redis://host:port',
  validator: validators.nonEmptyString(),
};

export class RedisStreamsSourceConnector extends SourceConnector {
  private props: Record<string, string> = {};
  version(): string {
    return VERSION;
  }
  config(): ConfigDef {
    return new ConfigDef()
      .define(redisUri)
      .define({ name: 'redis.stream.names', type: 'LIST', importance: 'HIGH', documentation: 'Streams to read.' })
      .define({
        name: 'topic',
        type: 'STRING',
        importance: 'HIGH',
        documentation: 'Topic to write to.',
        validator: validators.nonEmptyString(),
      })
      .define({
        name: 'batch.size',
        type: 'INT',
        defaultValue: 500,
        importance: 'LOW',
        documentation: 'Entries per XREAD.',
        validator: validators.atLeast(1),
      })
      .define({
        name: 'block.ms',
        type: 'INT',
        defaultValue: 500,
        importance: 'LOW',
        documentation: 'How long an XREAD waits for entries.',
        validator: validators.atLeast(1),
      });
  }
  start(props: Record<string, string>): void {
    this.props = props;
  }
  taskClass(): new () => SourceTask {
    return RedisStreamsSourceTask;
  }
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    const streams = (this.props['redis.stream.names'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const groups: string[][] = Array.from({ length: Math.max(1, Math.min(maxTasks, streams.length)) }, () => []);
    streams.forEach((s, i) => groups[i % groups.length]!.push(s));
    return groups.map((g) => ({ ...this.props, 'redis.stream.names': g.join(',') }));
  }
  stop(): void {}
}

function fieldsToMap(fields: RespValue): Record<string, string> {
  const out: Record<string, string> = {};
  const list = fields as Buffer[];
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!.toString()] = list[i + 1]!.toString();
  return out;
}

export class RedisStreamsSourceTask extends SourceTask {
  private conn: RedisConnection | undefined;
  private props: Record<string, string> = {};
  private readonly lastIds = new Map<string, string>();

  async start(props: Record<string, string>): Promise<void> {
    this.props = props;
    const { host, port } = redisAddress(props['redis.uri']!);
    this.conn = await RedisConnection.connect(host, port);
    for (const s of props['redis.stream.names']!.split(',').filter(Boolean)) {
      const stored = this.context.offsetStorageReader.offset({ stream: s });
      this.lastIds.set(s, typeof stored?.id === 'string' ? stored.id : '0-0');
    }
  }

  async poll(): Promise<SourceRecord[]> {
    const streams = [...this.lastIds.keys()];
    const reply = await this.conn!.command(
      'XREAD',
      'COUNT',
      this.props['batch.size'] ?? '500',
      'BLOCK',
      this.props['block.ms'] ?? '500',
      'STREAMS',
      ...streams,
      ...streams.map((s) => this.lastIds.get(s)!),
    );
    if (reply === null) return [];
    const out: SourceRecord[] = [];
    for (const [nameBuf, entries] of reply as Array<[Buffer, Array<[Buffer, RespValue]>]>) {
      const stream = nameBuf.toString();
      for (const [idBuf, fields] of entries) {
        const id = idBuf.toString();
        this.lastIds.set(stream, id);
        out.push({
          topic: this.props.topic!,
          sourcePartition: { stream },
          sourceOffset: { id },
          keySchema: { type: 'string', optional: false },
          key: stream,
          valueSchema: { type: 'map', keys: { type: 'string' }, values: { type: 'string' }, optional: false },
          value: fieldsToMap(fields),
        });
      }
    }
    return out;
  }

  stop(): void {
    this.conn?.close();
    this.conn = undefined;
  }
}

export class RedisStreamsSinkConnector extends SinkConnector {
  private props: Record<string, string> = {};
  version(): string {
    return VERSION;
  }
  config(): ConfigDef {
    return new ConfigDef().define(redisUri).define({
      name: 'redis.stream.name',
      type: 'STRING',
      defaultValue: '${topic}',
      importance: 'HIGH',
      documentation: 'Stream to add to; ${topic} is replaced by the topic.',
    });
  }
  start(props: Record<string, string>): void {
    this.props = props;
  }
  taskClass(): new () => SinkTask {
    return RedisStreamsSinkTask;
  }
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }
  stop(): void {}
}

function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export class RedisStreamsSinkTask extends SinkTask {
  private conn: RedisConnection | undefined;
  private format = '${topic}';

  async start(props: Record<string, string>): Promise<void> {
    const { host, port } = redisAddress(props['redis.uri']!);
    this.conn = await RedisConnection.connect(host, port);
    this.format = props['redis.stream.name'] ?? '${topic}';
  }

  async put(records: SinkRecord[]): Promise<void> {
    // XADDs are sent together; Redis answers in order, and one failure fails the put (redelivered or failed by the runtime).
    await Promise.all(
      records.map((r) => {
        const fields: string[] = [];
        if (r.key !== null && r.key !== undefined) fields.push('key', str(r.key));
        if (r.value !== null && typeof r.value === 'object' && !Buffer.isBuffer(r.value) && !Array.isArray(r.value)) {
          for (const [k, v] of Object.entries(r.value)) fields.push(k, str(v));
        } else {
          fields.push('value', str(r.value));
        }
        if (fields.length === 0) throw new ConnectError('a stream entry needs at least one field');
        return this.conn!.command('XADD', this.format.replace('${topic}', r.topic), '*', ...fields);
      }),
    );
  }

  stop(): void {
    this.conn?.close();
    this.conn = undefined;
  }
}
