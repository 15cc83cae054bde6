/**
 * An HTTP sink: POSTs record values as a JSON array, `batch.max.size` at a time, to
 * `http.api.url`. 5xx answers, timeouts (`request.timeout.ms`) and connection errors are retried
 * `max.retries` times with `retry.backoff.ms` doubling; after that the batch is handed back as a
 * RetriableError, so the runtime redelivers it (nothing is dropped). A 4xx answer is the record's
 * fault: the batch is sent again record by record and each record still refused goes to the
 * errant record reporter (the dead letter queue, KIP-610) with the status and body as the error.
 */
import type { SinkRecord } from '../api.js';
import { RetriableError, SinkConnector, SinkTask } from '../api.js';
import { ConfigDef, validators } from '../configDef.js';

const VERSION = '0.1.0';

export class HttpSinkConnector extends SinkConnector {
  private props: Record<string, string> = {};
  version(): string {
    return VERSION;
  }
  config(): ConfigDef {
    return new ConfigDef()
      .define({
        name: 'http.api.url',
        type: 'STRING',
        importance: 'HIGH',
        documentation: 'The URL records are POSTed to.',
        validator: (name, v) =>
          typeof v === 'string' && !/^https?:\/\/[^/]+/.test(v)
            ? `Invalid value ${v} for configuration ${name}: must be an http:// or https:// URL`
            : undefined,
      })
      .define({
        name: 'batch.max.size',
        type: 'INT',
        defaultValue: 1,
        importance: 'MEDIUM',
        documentation: 'Records per request.',
        validator: validators.atLeast(1),
      })
      .define({
        name: 'max.retries',
        type: 'INT',
        defaultValue: 3,
        importance: 'MEDIUM',
        documentation: 'Retries of a request that failed with 5xx, a timeout or a connection error.',
        validator: validators.atLeast(0),
      })
      .define({
        name: 'retry.backoff.ms',
        type: 'INT',
        defaultValue: 300,
        importance: 'LOW',
        documentation: 'First backoff between retries; doubles each time.',
        validator: validators.atLeast(0),
      })
      .define({
        name: 'request.timeout.ms',
        type: 'INT',
        defaultValue: 10000,
        importance: 'LOW',
        documentation: 'Time a request may take.',
        validator: validators.atLeast(1),
      })
      .define({
        name: 'headers',
        type: 'STRING',
        defaultValue: '',
        importance: 'LOW',
        documentation: 'Extra request headers, name:value separated by |.',
      });
  }
  start(props: Record<string, string>): void {
    this.props = props;
  }
  taskClass(): new () => SinkTask {
    return HttpSinkTask;
  }
  taskConfigs(maxTasks: number): Array<Record<string, string>> {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }
  stop(): void {}
}

class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 500)}`);
  }
}

export class HttpSinkTask extends SinkTask {
  private url = '';
  private batchSize = 1;
  private maxRetries = 3;
  private backoffMs = 300;
  private timeoutMs = 10_000;
  private headers: Record<string, string> = {};

  start(props: Record<string, string>): void {
    this.url = props['http.api.url']!;
    this.batchSize = Number(props['batch.max.size'] ?? '1');
    this.maxRetries = Number(props['max.retries'] ?? '3');
    this.backoffMs = Number(props['retry.backoff.ms'] ?? '300');
    this.timeoutMs = Number(props['request.timeout.ms'] ?? '10000');
    this.headers = { 'content-type': 'application/json' };
    for (const h of (props.headers ?? '').split('|').filter(Boolean)) {
      const i = h.indexOf(':');
      if (i > 0) this.headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
  }

  async put(records: SinkRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += this.batchSize) {
      const batch = records.slice(i, i + this.batchSize);
      try {
        await this.sendWithRetries(batch);
      } catch (err) {
        if (!(err instanceof HttpStatusError) || err.status >= 500) throw err;
        if (batch.length === 1) {
          await this.context.errantRecordReporter(batch[0]!, err);
          continue;
        }
        // Find the refused records one by one; the others are delivered.
        for (const r of batch) {
          try {
            await this.sendWithRetries([r]);
          } catch (single) {
            if (!(single instanceof HttpStatusError) || single.status >= 500) throw single;
            await this.context.errantRecordReporter(r, single);
          }
        }
      }
    }
  }

  private async sendWithRetries(batch: SinkRecord[]): Promise<void> {
    const body = JSON.stringify(batch.map((r) => (Buffer.isBuffer(r.value) ? r.value.toString('utf8') : r.value)));
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 1)));
      try {
        const res = await fetch(this.url, { method: 'POST', headers: this.headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
        const text = await res.text();
        if (res.ok) return;
        const err = new HttpStatusError(res.status, text);
        if (res.status < 500) throw err;
        lastError = err;
      } catch (err) {
        if (err instanceof HttpStatusError && err.status < 500) throw err;
        lastError = err;
      }
    }
    throw new RetriableError(
      `HTTP sink gave up after ${this.maxRetries + 1} attempts: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
      { cause: lastError },
    );
  }

  stop(): void {}
}
