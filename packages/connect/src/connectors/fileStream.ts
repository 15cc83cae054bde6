/**
 * FileStream source and sink, after Kafka's `FileStreamSourceConnector`/`FileStreamSinkConnector`
 * (config keys `file`, `topic`, `topics`, `batch.size`). The source partition is
 * `{"filename": file}` and the source offset `{"position": <lines read>}`: a restart skips that
 * many lines and goes on from there.
 */
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { SinkRecord, SourceRecord } from '../api.js';
import { ConnectError, SinkConnector, SinkTask, SourceConnector, SourceTask } from '../api.js';
import { abortableSleep } from '../sleep.js';
import { ConfigDef, validators } from '../configDef.js';

const VERSION = '0.1.0';

export class FileStreamSourceConnector extends SourceConnector {
  private props: Record<string, string> = {};
  version(): string {
    return VERSION;
  }
  config(): ConfigDef {
    return new ConfigDef()
      .define({
        name: 'file',
        type: 'STRING',
        importance: 'HIGH',
        documentation: 'Source filename.',
        validator: validators.nonEmptyString(),
      })
      .define({
        name: 'topic',
        type: 'STRING',
        importance: 'HIGH',
        documentation: 'The topic to publish data to.',
        validator: (name, v) =>
          typeof v === 'string' && (v.includes(',') || v === '')
            ? `Invalid value ${v} for configuration ${name}: '${name}' in FileStreamSourceConnector configuration requires definition of a single topic`
            : undefined,
      })
      .define({
        name: 'batch.size',
        type: 'INT',
        defaultValue: 2000,
        importance: 'LOW',
        documentation: 'The maximum number of records the source task can read from the file each time it is polled.',
        validator: validators.atLeast(1),
      });
  }
  start(props: Record<string, string>): void {
    this.props = props;
  }
  /** Line positions are the only progress it keeps, one file per task: exactly-once capable (as Kafka's, for a named file). */
  override exactlyOnceSupport(props: Record<string, string>): 'SUPPORTED' | 'UNSUPPORTED' {
    return (props.file ?? '').trim() === '' ? 'UNSUPPORTED' : 'SUPPORTED';
  }
  taskClass(): new () => SourceTask {
    return FileStreamSourceTask;
  }
  taskConfigs(): Array<Record<string, string>> {
    // One file is read by one task, as Kafka's.
    return [{ file: this.props.file!, topic: this.props.topic!, 'batch.size': this.props['batch.size'] ?? '2000' }];
  }
  stop(): void {}
}

export class FileStreamSourceTask extends SourceTask {
  private fd: number | undefined;
  private file = '';
  private topic = '';
  private batchSize = 2000;
  private bytePosition = 0;
  private line = 0;
  private carry = Buffer.alloc(0);

  start(props: Record<string, string>): void {
    this.file = props.file!;
    this.topic = props.topic!;
    this.batchSize = Number(props['batch.size'] ?? '2000');
    const stored = this.context.offsetStorageReader.offset({ filename: this.file });
    const skip = typeof stored?.position === 'number' ? stored.position : 0;
    // Skip the lines already sent, so they are not sent again.
    while (this.line < skip) {
      const lines = this.readLines(skip - this.line);
      if (lines.length === 0) break;
    }
  }

  private open(): number | undefined {
    if (this.fd !== undefined) return this.fd;
    try {
      this.fd = openSync(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // Not there yet: wait for it.
      throw new ConnectError(`Couldn't find file ${this.file}`, { cause: err });
    }
    return this.fd;
  }

  /** Up to `max` complete lines from the current position. */
  private readLines(max: number): string[] {
    const fd = this.open();
    if (fd === undefined) return [];
    const out: string[] = [];
    const chunk = Buffer.alloc(64 * 1024);
    while (out.length < max) {
      let nl = this.carry.indexOf(10);
      while (nl >= 0 && out.length < max) {
        out.push(this.carry.subarray(0, nl).toString('utf8').replace(/\r$/, ''));
        this.carry = this.carry.subarray(nl + 1);
        this.line++;
        nl = this.carry.indexOf(10);
      }
      if (out.length >= max) break;
      const n = readSync(fd, chunk, 0, chunk.length, this.bytePosition);
      if (n === 0) break;
      this.bytePosition += n;
      this.carry = Buffer.concat([this.carry, chunk.subarray(0, n)]);
    }
    return out;
  }

  async poll(signal: AbortSignal): Promise<SourceRecord[]> {
    const first = this.line;
    const lines = this.readLines(this.batchSize);
    if (lines.length === 0) {
      await abortableSleep(200, signal);
      return [];
    }
    return lines.map((value, i) => ({
      topic: this.topic,
      sourcePartition: { filename: this.file },
      sourceOffset: { position: first + i + 1 },
      keySchema: null,
      key: null,
      valueSchema: { type: 'string', optional: false },
      value,
    }));
  }

  stop(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export class FileStreamSinkConnector extends SinkConnector {
  private props: Record<string, string> = {};
  version(): string {
    return VERSION;
  }
  config(): ConfigDef {
    return new ConfigDef().define({
      name: 'file',
      type: 'STRING',
      importance: 'HIGH',
      documentation: 'Destination filename.',
      validator: validators.nonEmptyString(),
    });
  }
  start(props: Record<string, string>): void {
    this.props = props;
  }
  taskClass(): new () => SinkTask {
    return FileStreamSinkTask;
  }
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return Array.from({ length: maxTasks }, () => ({ file: this.props.file! }));
  }
  stop(): void {}
}

export class FileStreamSinkTask extends SinkTask {
  private fd: number | undefined;
  start(props: Record<string, string>): void {
    this.fd = openSync(props.file!, 'a');
  }
  put(records: SinkRecord[]): void {
    const text = records
      .map(
        (r) =>
          `${typeof r.value === 'object' && r.value !== null && !Buffer.isBuffer(r.value) ? JSON.stringify(r.value) : String(r.value)}\n`,
      )
      .join('');
    if (text !== '') writeSync(this.fd!, text);
  }
  override flush(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }
  stop(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
