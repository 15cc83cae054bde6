/**
 * A raw Kafka wire connection for tests: writes frames, reads size-prefixed answers in order, and
 * tells when the broker closed the socket. Every wait is bounded.
 */
import * as net from 'node:net';
import { decodeResponse, encodeRequest } from '@samsa/kafka';

export class RawKafkaConnection {
  private buffered = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        this.frames.push(this.buffered.subarray(4, 4 + size));
        this.buffered = this.buffered.subarray(4 + size);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawKafkaConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new RawKafkaConnection(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(apiKey: number, apiVersion: number, correlationId: number, body: object, clientId = 'raw-test'): void {
    this.write(encodeRequest({ apiKey, apiVersion, correlationId, clientId }, body));
  }

  /** The next answer frame (bytes after the size), or throws when the connection closed first or `timeoutMs` passed. */
  async nextFrame(timeoutMs = 20_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) throw new Error('the broker closed the connection');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames.shift()!;
  }

  async request<T = any>(apiKey: number, apiVersion: number, correlationId: number, body: object): Promise<T> {
    this.send(apiKey, apiVersion, correlationId, body);
    const frame = await this.nextFrame();
    const r = decodeResponse(apiKey, apiVersion, frame);
    if (r.correlationId !== correlationId) throw new Error(`answer for correlation id ${r.correlationId}, expected ${correlationId}`);
    return r.body as T;
  }

  /** Resolves true once the broker closed the connection, false if it is still open after `timeoutMs`. */
  async waitClosed(timeoutMs = 20_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  close(): void {
    this.socket.destroy();
  }
}
