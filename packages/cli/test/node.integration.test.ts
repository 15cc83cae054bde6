/**
 * One broker node as a child process: 100,000 records over several partitions go in and come back
 * in order with their keys and values; after SIGKILL and a restart the same records come back.
 */
import { Samsa, serdes, type ConsumerRecord } from '@samsa/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startNode, stopAll, stopProcess, tempDir, type NodeProcess } from './helpers/processes.js';

const TOPIC = 'durable';
const PARTITIONS = 4;
const RECORDS = 100_000;

function keyOf(i: number): string {
  return `key-${i % 1000}`;
}
function valueOf(i: number): string {
  return `value-${i}-${'x'.repeat(i % 37)}`;
}

async function readAll(address: string): Promise<Map<number, ConsumerRecord<string | null, string | null>[]>> {
  const samsa = new Samsa({ brokers: [address] });
  try {
    const consumer = samsa.consumer({ key: serdes.string, value: serdes.string, autoOffsetReset: 'none' });
    const tps = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition }));
    consumer.assign(tps);
    for (const tp of tps) await consumer.seek({ ...tp, offset: 'earliest' });
    const byPartition = new Map<number, ConsumerRecord<string | null, string | null>[]>();
    let total = 0;
    const deadline = Date.now() + 60_000;
    while (total < RECORDS && Date.now() < deadline) {
      for (const r of await consumer.poll({ maxWaitMs: 200, maxRecords: 20_000 })) {
        let list = byPartition.get(r.partition);
        if (!list) byPartition.set(r.partition, (list = []));
        list.push(r);
        total++;
      }
    }
    // Nothing more is stored past the 100,000 records: the partitions' log ends add up to them.
    const ends = await samsa.admin().listOffsets(
      TOPIC,
      tps.map(({ partition }) => ({ partition, timestamp: 'latest' as const })),
    );
    expect(ends.reduce((n, e) => n + e.offset, 0n)).toBe(BigInt(RECORDS));
    await consumer.close();
    return byPartition;
  } finally {
    await samsa.close();
  }
}

describe('a broker node as a child process', () => {
  let dataDir: string;
  let node: NodeProcess;
  const sentByPartition = new Map<number, number[]>();

  beforeAll(async () => {
    dataDir = tempDir('node');
    node = await startNode({ dataDir });
  });

  afterAll(async () => {
    await stopAll();
    removeDir(dataDir);
  });

  it('stores 100,000 records over several partitions and reads them back in order', async () => {
    const samsa = new Samsa({ brokers: [node.address] });
    try {
      await samsa.admin().createTopics([{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }]);
      const producer = samsa.producer({ key: serdes.string, value: serdes.string, acks: 1 });
      const chunk = 5_000;
      for (let start = 0; start < RECORDS; start += chunk) {
        const messages = Array.from({ length: chunk }, (_, k) => ({ key: keyOf(start + k), value: valueOf(start + k) }));
        const results = await producer.send({ topic: TOPIC, messages });
        results.forEach((r, k) => {
          let list = sentByPartition.get(r.partition);
          if (!list) sentByPartition.set(r.partition, (list = []));
          // Offsets within a partition are dense and in send order.
          expect(r.offset).toBe(BigInt(list.length));
          list.push(start + k);
        });
      }
      await producer.close();
    } finally {
      await samsa.close();
    }
    expect(sentByPartition.size).toBe(PARTITIONS);

    const read = await readAll(node.address);
    for (const [partition, indices] of sentByPartition) {
      const records = read.get(partition) ?? [];
      expect(records.length).toBe(indices.length);
      records.forEach((r, k) => {
        expect(r.offset).toBe(BigInt(k));
        expect(r.key).toBe(keyOf(indices[k]!));
        expect(r.value).toBe(valueOf(indices[k]!));
      });
    }
  });

  it('returns the same records after SIGKILL and a restart', async () => {
    await stopProcess(node.child, 'SIGKILL');
    node = await startNode({ dataDir, port: node.port, controllerPort: node.controllerPort });
    const read = await readAll(node.address);
    let total = 0;
    for (const [partition, indices] of sentByPartition) {
      const records = read.get(partition) ?? [];
      expect(records.map((r) => r.value)).toEqual(indices.map(valueOf));
      expect(records.map((r) => r.key)).toEqual(indices.map(keyOf));
      total += records.length;
    }
    expect(total).toBe(RECORDS);
  });
});
