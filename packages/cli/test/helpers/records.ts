/**
 * Record-level helpers for the replication tests: produce with every acknowledged offset noted,
 * read a topic back below the high watermark, and read a replica's segment files from disk.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serdes, type Producer, type Samsa } from '@samsa/client';
import { batchSizeAt, lastOffsetOf, readBatchHeader, RECORD_BATCH_OVERHEAD } from '@samsa/protocol';
import type { ClusterNode } from './cluster.js';

/** Sends `values` in chunks spread over `partitions` and records each acknowledged `partition@offset`. */
export async function produceAll(
  producer: Producer<Buffer | null, string | null>,
  topic: string,
  values: string[],
  partitions: number,
  acked: Map<string, string>,
): Promise<void> {
  for (let i = 0; i < values.length; i += 30) {
    const chunk = values.slice(i, i + 30);
    const sent = await producer.send({ topic, messages: chunk.map((value, k) => ({ value, partition: (i + k) % partitions })) });
    sent.forEach((meta, k) => acked.set(`${meta.partition}@${meta.offset}`, chunk[k]!));
  }
}

/** Every record of `topic` below each partition's high watermark, by `partition@offset` (bounded polling). */
export async function readAll(samsa: Samsa, topic: string, partitions: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ends = await samsa.admin().listOffsets(
    topic,
    Array.from({ length: partitions }, (_, partition) => ({ partition, timestamp: 'latest' as const })),
  );
  const consumer = samsa.consumer({ value: serdes.string, autoOffsetReset: 'earliest' });
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    for (let partition = 0; partition < partitions; partition++) await consumer.seek({ topic, partition, offset: 0n });
    const total = ends.reduce((n, e) => n + Number(e.offset), 0);
    for (let round = 0; round < 300 && out.size < total; round++) {
      for (const r of await consumer.poll({ maxWaitMs: 200 })) out.set(`${r.partition}@${r.offset}`, r.value ?? '');
    }
  } finally {
    await consumer.close();
  }
  return out;
}

/** The bytes of every segment of one replica's partition log, in offset order. */
export function logBytes(broker: ClusterNode, topic: string, partition: number): Buffer {
  const dir = join(broker.dataDir, `${topic}-${partition}`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
  return Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
}

/** The leading whole batches of a replica's log whose last offset is below `highWatermark`. */
export function committedBytes(broker: ClusterNode, topic: string, partition: number, highWatermark: bigint): Buffer {
  const log = logBytes(broker, topic, partition);
  let end = 0;
  while (end + RECORD_BATCH_OVERHEAD <= log.length) {
    const size = batchSizeAt(log, end);
    if (lastOffsetOf(readBatchHeader(log, end)) >= highWatermark || end + size > log.length) break;
    end += size;
  }
  return log.subarray(0, end);
}
