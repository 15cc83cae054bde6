import { describe, expect, it } from 'vitest';
import { MessageTooLargeError } from '@samsa/client';
import type { ProducerRecord, RecordMetadata } from '@samsa/client';
import { ProducerCollector, StreamsError } from '@samsa/streams';
import type { CollectorProducer } from '@samsa/streams';

/** A producer that acks with increasing offsets and rejects values over 10 bytes. */
function fakeProducer(): CollectorProducer & { sent: Array<{ topic: string; value: string; headers: Record<string, string> }> } {
  const offsets = new Map<string, bigint>();
  const sent: Array<{ topic: string; value: string; headers: Record<string, string> }> = [];
  return {
    sent,
    async send(record: ProducerRecord<Buffer | null, Buffer | null>): Promise<RecordMetadata[]> {
      const m = record.messages[0]!;
      if ((m.value?.length ?? 0) > 10) throw new MessageTooLargeError('record too large');
      sent.push({
        topic: record.topic,
        value: m.value?.toString() ?? '',
        headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v.toString()])),
      });
      const partition = m.partition ?? 0;
      const k = `${record.topic}-${partition}`;
      const offset = offsets.get(k) ?? 0n;
      offsets.set(k, offset + 1n);
      return [{ topic: record.topic, partition, offset, timestamp: 0n }];
    },
    async flush() {},
  } as never;
}

const big = Buffer.from('x'.repeat(20));

describe('the runtime record collector', () => {
  it('tracks the next offset of each partition written (changelog checkpoints)', async () => {
    const c = new ProducerCollector(fakeProducer(), 'fail', 'app-');
    c.send('app-s-changelog', 2, Buffer.from('k'), Buffer.from('a'), 1, {});
    c.send('app-s-changelog', 2, Buffer.from('k'), Buffer.from('b'), 1, {});
    c.send('out', 0, null, Buffer.from('c'), 1, {});
    await c.flush();
    expect(c.nextOffsets.get('app-s-changelog\0' + '2')).toBe(2n);
    expect(c.nextOffsets.get('out\0' + '0')).toBe(1n);
  });

  it('fail: a failed output send fails the next flush and every later send', async () => {
    const c = new ProducerCollector(fakeProducer(), 'fail', 'app-');
    c.send('out', 0, null, big, 1, {});
    await expect(c.flush()).rejects.toThrowError(StreamsError);
    expect(() => c.send('out', 0, null, Buffer.from('ok'), 1, {})).toThrowError(/could not produce to out/);
  });

  it('continue skips (and counts) failed output sends, never failed changelog sends', async () => {
    const c = new ProducerCollector(fakeProducer(), 'continue', 'app-');
    c.send('out', 0, null, big, 1, {});
    c.send('out', 0, null, Buffer.from('ok'), 1, {});
    await c.flush();
    expect(c.skippedRecords).toBe(1);
    c.send('app-s-changelog', 0, null, big, 1, {});
    await expect(c.flush()).rejects.toThrowError(/could not produce to app-s-changelog/);
  });

  it('a dead-letter topic receives what could not be produced, with the error in headers', async () => {
    const p = fakeProducer();
    const c = new ProducerCollector(p, { deadLetterQueue: 'out-dlq' }, 'app-');
    c.send('out', 0, null, Buffer.from('12345678901'), 1, {});
    // 11 bytes are too large for the dead-letter topic as well: that fails, nothing is lost silently.
    await expect(c.flush()).rejects.toThrowError(/nor to its dead-letter topic out-dlq/);
    expect(p.sent).toEqual([]);
    const q = fakeProducer();
    const d = new ProducerCollector(
      {
        ...q,
        send: (r: ProducerRecord<Buffer | null, Buffer | null>) =>
          r.topic === 'out' ? Promise.reject(new MessageTooLargeError('too large')) : q.send(r),
      } as never,
      { deadLetterQueue: 'out-dlq' },
      'app-',
    );
    d.send('out', 0, null, Buffer.from('v'), 1, {});
    await d.flush();
    expect(q.sent).toEqual([
      { topic: 'out-dlq', value: 'v', headers: { '__streams.errors.exception': 'too large', '__streams.errors.topic': 'out' } },
    ]);
  });

  it('exactly_once_v2: calls beforeSend before each send; reset() forgets an aborted transaction and its late failures', async () => {
    let calls = 0;
    let rejectLate: ((e: Error) => void) | undefined;
    const producer = fakeProducer();
    const slow = {
      send: (record: ProducerRecord<Buffer | null, Buffer | null>) =>
        record.topic === 'late'
          ? new Promise<RecordMetadata[]>((_resolve, reject) => {
              rejectLate = reject;
            })
          : producer.send(record),
      flush: async () => {},
    } as CollectorProducer;
    const c = new ProducerCollector(slow, 'fail', 'app-', undefined, { beforeSend: () => calls++ });
    c.send('out', 0, null, big, 1, {});
    expect(calls).toBe(1);
    await expect(c.flush()).rejects.toBeInstanceOf(StreamsError);
    expect(() => c.send('out', 0, null, Buffer.from('a'), 1, {})).toThrow(StreamsError);
    c.reset(); // the transaction was aborted: its failure is gone
    c.send('late', 0, null, Buffer.from('a'), 1, {}); // in flight when the next abort comes
    c.reset();
    // The aborted transaction's send fails after the reset: the next transaction does not inherit it.
    rejectLate!(new MessageTooLargeError('aborted'));
    await new Promise((r) => setImmediate(r));
    c.send('out', 0, null, Buffer.from('ok'), 1, {});
    await expect(c.flush()).resolves.toBeUndefined();
    expect(calls).toBe(3);
    expect(producer.sent.map((r) => r.value)).toEqual(['ok']);
  });
});
