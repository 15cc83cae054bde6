import { ControlRecordType, ErrorCode, encodeControlBatch, encodeRecordBatch } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import { CorruptMessageError, DeserializationError, OffsetOutOfRangeError, serdes } from '../src/index.js';
import type { FetchRequest, Serde } from '../src/index.js';
import { setup } from './helpers.js';

const batchOf = (values: string[], firstTimestamp = 1000n) =>
  encodeRecordBatch(values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: firstTimestamp + BigInt(i) })));

const fetchOffsets = (request: unknown) =>
  (request as FetchRequest).topics!.flatMap((t) => t.partitions!.map((p) => `${t.name}-${p.partition}@${p.fetchOffset}`));

describe('Consumer', () => {
  it('read_committed asks Fetch for isolation level 1 and drops the aborted transactions it answers; read_uncommitted keeps them', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    const txn = (producerId: bigint, values: string[]) =>
      encodeRecordBatch(
        values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: 1n })),
        { producerId, producerEpoch: 0, baseSequence: 0, isTransactional: true },
      );
    const marker = (producerId: bigint, type: ControlRecordType) =>
      encodeControlBatch({ type, coordinatorEpoch: 0, producerId, producerEpoch: 0, timestamp: 1n });
    fake.append('t', 0, txn(7n, ['aborted-1', 'aborted-2'])); // 0-1
    fake.append('t', 0, batchOf(['plain'])); // 2
    fake.append('t', 0, txn(8n, ['committed'])); // 3
    fake.append('t', 0, marker(7n, ControlRecordType.ABORT)); // 4
    fake.append('t', 0, marker(8n, ControlRecordType.COMMIT)); // 5
    fake.append('t', 0, txn(7n, ['later'])); // 6: producer 7 again, not aborted
    fake.append('t', 0, marker(7n, ControlRecordType.COMMIT)); // 7
    fake.abortedTransactions.set('t-0', [{ producerId: '7', firstOffset: '0' }]);
    const read = async (isolationLevel: 'read_committed' | 'read_uncommitted') => {
      const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest', isolationLevel });
      consumer.assign([{ topic: 't', partition: 0 }]);
      const records = await consumer.poll();
      expect(consumer.position({ topic: 't', partition: 0 })).toBe(8n);
      return records.map((r) => [r.offset, r.value]);
    };
    expect(await read('read_committed')).toEqual([
      [2n, 'plain'],
      [3n, 'committed'],
      [6n, 'later'],
    ]);
    expect((fake.callsOf('fetch').at(-1)!.request as FetchRequest).isolationLevel).toBe(1);
    expect(await read('read_uncommitted')).toEqual([
      [0n, 'aborted-1'],
      [1n, 'aborted-2'],
      [2n, 'plain'],
      [3n, 'committed'],
      [6n, 'later'],
    ]);
    expect((fake.callsOf('fetch').at(-1)!.request as FetchRequest).isolationLevel).toBe(0);
  });

  it('skips records below the position when a fetched batch starts earlier', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.append('t', 0, batchOf(['a', 'b', 'c', 'd', 'e'])); // offsets 0..4 in one batch
    const consumer = samsa.consumer({ value: serdes.string });
    consumer.assign([{ topic: 't', partition: 0 }]);
    await consumer.seek({ topic: 't', partition: 0, offset: 3n });
    const records = await consumer.poll();
    expect(records.map((r) => [r.offset, r.value])).toEqual([
      [3n, 'd'],
      [4n, 'e'],
    ]);
    expect(fetchOffsets(fake.callsOf('fetch')[0]!.request)).toEqual(['t-0@3']);
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(5n);
  });

  it('advances past the last fetched batch and buffers beyond maxRecords', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.append('t', 0, batchOf(['a', 'b', 'c']));
    fake.append('t', 0, batchOf(['d', 'e']));
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([{ topic: 't', partition: 0 }]);
    const first = await consumer.poll({ maxRecords: 4 });
    expect(first.map((r) => r.value)).toEqual(['a', 'b', 'c', 'd']);
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(4n);
    const fetches = fake.callsOf('fetch').length;
    const second = await consumer.poll({ maxRecords: 4 });
    expect(second.map((r) => [r.offset, r.value])).toEqual([[4n, 'e']]);
    expect(fake.callsOf('fetch').length).toBe(fetches); // served from the buffer
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(5n);
    expect(consumer.lag()).toEqual([{ topic: 't', partition: 0, position: 5n, highWatermark: 5n, logStartOffset: 0n, lag: 0n }]);
  });

  it('starts from latest by default, and resolves earliest, latest and timestamps through ListOffsets', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.append('t', 0, batchOf(['a', 'b', 'c'], 100n)); // timestamps 100, 101, 102
    const consumer = samsa.consumer({ value: serdes.string });
    consumer.assign([{ topic: 't', partition: 0 }]);
    expect(await consumer.poll({ maxWaitMs: 10 })).toEqual([]);
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(3n);

    await consumer.seek({ topic: 't', partition: 0, offset: 'earliest' });
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(0n);
    await consumer.seek({ topic: 't', partition: 0, offset: { timestamp: 101n } });
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(1n);
    expect((await consumer.poll()).map((r) => r.value)).toEqual(['b', 'c']);
    await consumer.seek({ topic: 't', partition: 0, offset: { timestamp: 5000n } }); // after every record: the end
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(3n);
    await consumer.seek({ topic: 't', partition: 0, offset: 'latest' });
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(3n);
  });

  it('resets per autoOffsetReset on OFFSET_OUT_OF_RANGE', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.append('t', 0, batchOf(['a', 'b']));
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([{ topic: 't', partition: 0 }]);
    await consumer.seek({ topic: 't', partition: 0, offset: 50n });
    const records = await consumer.poll();
    expect(records.map((r) => r.value)).toEqual(['a', 'b']);
    expect(fetchOffsets(fake.callsOf('fetch')[0]!.request)).toEqual(['t-0@50']);
  });

  it("throws OffsetOutOfRangeError with autoOffsetReset 'none'", async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    const consumer = samsa.consumer({ autoOffsetReset: 'none' });
    consumer.assign([{ topic: 't', partition: 0 }]);
    await expect(consumer.poll()).rejects.toBeInstanceOf(OffsetOutOfRangeError); // no position at all
    await consumer.seek({ topic: 't', partition: 0, offset: 9n });
    const error = await consumer.poll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OffsetOutOfRangeError);
    expect(error).toMatchObject({ topic: 't', partition: 0 });
  });

  it('fetches from each leader and follows a leader move (NOT_LEADER_OR_FOLLOWER)', async () => {
    const { fake, samsa } = setup([1, 2]);
    fake.createTopic('t', 2, [1, 2]);
    fake.append('t', 0, batchOf(['p0']));
    fake.append('t', 1, batchOf(['p1']));
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
    ]);
    const got: string[] = [];
    while (got.length < 2) got.push(...(await consumer.poll()).map((r) => r.value!));
    expect(got.sort()).toEqual(['p0', 'p1']);
    expect(new Set(fake.callsOf('fetch').map((c) => c.nodeId))).toEqual(new Set([1, 2]));

    fake.moveLeader('t', 1, 1);
    fake.append('t', 1, batchOf(['p1-again']));
    const later: string[] = [];
    for (let i = 0; i < 10 && later.length === 0; i++) later.push(...(await consumer.poll()).map((r) => r.value!));
    expect(later).toEqual(['p1-again']);
    // The last fetch of t-1 (t-0 may fetch alone meanwhile while t-1 validates its position, KIP-320).
    const lastFetch = fake
      .callsOf('fetch')
      .filter((c) => fetchOffsets(c.request).some((o) => o.startsWith('t-1@')))
      .at(-1)!;
    expect(lastFetch.nodeId).toBe(1);
    expect(fetchOffsets(lastFetch.request)).toContain('t-1@1');
  });

  it('surfaces a corrupt batch as CorruptMessageError with the decode error as cause', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.append('t', 0, batchOf(['a']));
    fake.topics.get('t')![0]!.log[0]!.bytes[66] ^= 0xff; // flip a bit inside the CRC-covered records
    const consumer = samsa.consumer({ autoOffsetReset: 'earliest' });
    consumer.assign([{ topic: 't', partition: 0 }]);
    const error = await consumer.poll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptMessageError);
    expect((error as CorruptMessageError).retriable).toBe(false);
    expect((error as Error).cause).toMatchObject({ name: 'SamsaProtocolError', code: ErrorCode.CORRUPT_MESSAGE });
  });

  it('throws DeserializationError for a bad record and keeps the position on it', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.append('t', 0, batchOf(['{"ok":1}', 'not json', '{"ok":3}']));
    const consumer = samsa.consumer({ value: serdes.json<{ ok: number }>(), autoOffsetReset: 'earliest' });
    consumer.assign([{ topic: 't', partition: 0 }]);
    expect((await consumer.poll()).map((r) => r.value)).toEqual([{ ok: 1 }]);
    const error = await consumer.poll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeserializationError);
    expect((error as DeserializationError).offset).toBe(1n);
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
    expect(consumer.position({ topic: 't', partition: 0 })).toBe(1n);
    await consumer.seek({ topic: 't', partition: 0, offset: 2n });
    expect((await consumer.poll()).map((r) => r.value)).toEqual([{ ok: 3 }]);
  });

  it('iterates until close()', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    fake.append('t', 0, batchOf(['a', 'b', 'c']));
    const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
    consumer.assign([{ topic: 't', partition: 0 }]);
    const seen: string[] = [];
    for await (const record of consumer) {
      seen.push(record.value!);
      if (seen.length === 2) await consumer.close();
    }
    expect(seen).toEqual(['a', 'b']);
    expect(await consumer.poll()).toEqual([]);
  });

  it('rejects seeks on unassigned partitions and concurrent polls', async () => {
    const { fake, samsa } = setup([1]);
    fake.createTopic('t', 1);
    const consumer = samsa.consumer();
    consumer.assign([{ topic: 't', partition: 0 }]);
    await expect(consumer.seek({ topic: 't', partition: 1, offset: 0n })).rejects.toMatchObject({ errorName: 'INVALID_REQUEST' });
    const first = consumer.poll({ maxWaitMs: 5 });
    await expect(consumer.poll()).rejects.toThrow(/already running/);
    await first;
  });

  it('types records by the serdes it was given (round trip)', async () => {
    interface Order {
      id: number;
      items: string[];
    }
    const { fake, samsa } = setup([1]);
    fake.createTopic('orders', 1);
    const upper: Serde<string> = {
      serialize: (v) => Buffer.from(v.toUpperCase()),
      deserialize: (b) => (b === null ? '' : b.toString().toLowerCase()),
    };
    const producer = samsa.producer({ key: upper, value: serdes.json<Order>() });
    await producer.send({
      topic: 'orders',
      messages: [
        { key: 'Order-1', value: { id: 1, items: ['x'] } },
        { key: 'tomb', value: null },
      ],
    });
    const consumer = samsa.consumer({ key: upper, value: serdes.json<Order>(), autoOffsetReset: 'earliest' });
    consumer.assign([{ topic: 'orders', partition: 0 }]);
    const records = await consumer.poll();
    const first = records[0]!;
    const key: string = first.key;
    const value: Order | null = first.value;
    expect([key, value]).toEqual(['order-1', { id: 1, items: ['x'] }]);
    expect(records[1]!.value).toBeNull();
    expect(fake.records('orders', 0)[0]!.key!.toString()).toBe('ORDER-1');

    const raw = samsa.consumer({ autoOffsetReset: 'earliest' });
    raw.assign([{ topic: 'orders', partition: 0 }]);
    const [rawRecord] = await raw.poll({ maxRecords: 1 });
    const bytes: Buffer | null = rawRecord!.value;
    expect(bytes).toBeInstanceOf(Buffer);
  });
});
