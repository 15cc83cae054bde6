/**
 * One Kafka connection without a network: frames are handled one at a time (Kafka's muted
 * channel) except consecutive Produce requests, which start while earlier ones wait for their
 * acks; answers always go out in request order.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { KafkaConnection, type KafkaAnswer, type KafkaRequestHandler } from '../../src/kafka/connection.js';

/** The parts of a net.Socket the connection uses; `written` collects what it writes. */
class FakeSocket extends EventEmitter {
  written: Buffer[] = [];
  destroyed = false;
  paused = false;
  remoteAddress = '127.0.0.1';
  setNoDelay(): void {}
  setTimeout(): void {}
  resume(): void {
    this.paused = false;
  }
  pause(): void {
    this.paused = true;
  }
  isPaused(): boolean {
    return this.paused;
  }
  write(b: Buffer): boolean {
    this.written.push(b);
    return true;
  }
  end(cb?: () => void): void {
    this.destroyed = true;
    cb?.();
  }
  destroy(): void {
    this.destroyed = true;
  }
}

/** A size-prefixed frame: api key, version 0, correlation id (enough for the connection and this handler). */
function frame(apiKey: number, correlationId: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeInt32BE(8, 0);
  b.writeInt16BE(apiKey, 4);
  b.writeInt16BE(0, 6);
  b.writeInt32BE(correlationId, 8);
  return b;
}

const PRODUCE = 0;
const METADATA = 3;

/** Produce frames answer when the test says so; anything else answers at once. */
function handler() {
  const started: number[] = [];
  const pending = new Map<number, (a: KafkaAnswer) => void>();
  const h: KafkaRequestHandler = {
    handle(f) {
      const id = f.readInt32BE(4);
      started.push(id);
      const bytes = Buffer.alloc(4);
      bytes.writeInt32BE(id, 0);
      if (f.readInt16BE(0) !== PRODUCE) return { kind: 'response', bytes };
      return new Promise<KafkaAnswer>((resolve) => pending.set(id, () => resolve({ kind: 'response', bytes })));
    },
  };
  const answer = async (id: number) => {
    pending.get(id)!({ kind: 'none' });
    // Let the answer's promise chain run.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { h, started, answer };
}

describe('KafkaConnection', () => {
  it('starts consecutive Produce requests before earlier ones answer, holds anything else, and answers in request order', async () => {
    const socket = new FakeSocket();
    const { h, started, answer } = handler();
    new KafkaConnection(socket as unknown as Socket, h, {
      maxRequestBytes: 1024,
      listenerName: 'PLAINTEXT',
      logger: pino({ level: 'silent' }),
    });
    socket.emit('data', Buffer.concat([frame(PRODUCE, 1), frame(PRODUCE, 2), frame(METADATA, 3), frame(PRODUCE, 4)]));
    // Both Produces started (appended); the Metadata waits for them.
    expect(started).toEqual([1, 2]);
    const written = () => socket.written.map((b) => b.readInt32BE(0));
    // The second answers first: nothing may be written before the first's answer.
    await answer(2);
    expect(written()).toEqual([]);
    expect(started).toEqual([1, 2]);
    await answer(1);
    // Both answers in request order, then the Metadata (answered at once), then the next Produce starts.
    expect(written()).toEqual([1, 2, 3]);
    expect(started).toEqual([1, 2, 3, 4]);
    await answer(4);
    expect(written()).toEqual([1, 2, 3, 4]);
  });

  it('does not start a Produce while a non-Produce request is being handled', async () => {
    const socket = new FakeSocket();
    const started: number[] = [];
    let release: (() => void) | undefined;
    const h: KafkaRequestHandler = {
      handle(f) {
        const id = f.readInt32BE(4);
        started.push(id);
        const bytes = Buffer.alloc(4);
        bytes.writeInt32BE(id, 0);
        if (id === 1) return new Promise<KafkaAnswer>((r) => (release = () => r({ kind: 'response', bytes })));
        return { kind: 'response', bytes };
      },
    };
    new KafkaConnection(socket as unknown as Socket, h, {
      maxRequestBytes: 1024,
      listenerName: 'PLAINTEXT',
      logger: pino({ level: 'silent' }),
    });
    // A long-polling Fetch (api key 1), then a Produce: the Produce waits for the Fetch's answer.
    socket.emit('data', Buffer.concat([frame(1, 1), frame(PRODUCE, 2)]));
    expect(started).toEqual([1]);
    release!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(started).toEqual([1, 2]);
    expect(socket.written.map((b) => b.readInt32BE(0))).toEqual([1, 2]);
  });
});
