/**
 * Divergent replicas: after healing, every replica of a partition must hold the same batches,
 * byte for byte, below the high watermark (followers copy the leader's bytes verbatim, and a
 * deposed leader truncates what was never committed). A follower may still be catching up, so
 * this waits (bounded) until each replica's log reaches the high watermark, then compares.
 */
import { batchSizeAt, lastOffsetOf, readBatchHeader, RECORD_BATCH_OVERHEAD } from '@samsa/protocol';
import type { ChaosNode, ClusterDriver } from './driver.js';
import type { History } from './history.js';

/** The leading whole batches of `log` whose last offset is below `highWatermark`, and whether they reach it. */
export function committedPrefix(log: Buffer, highWatermark: bigint): { bytes: Buffer; reachesHighWatermark: boolean; batches: number } {
  let end = 0;
  let next = -1n;
  let batches = 0;
  while (end + RECORD_BATCH_OVERHEAD <= log.length) {
    const size = batchSizeAt(log, end);
    if (end + size > log.length) break;
    const last = lastOffsetOf(readBatchHeader(log, end));
    if (last >= highWatermark) break;
    end += size;
    next = last + 1n;
    batches++;
  }
  return { bytes: log.subarray(0, end), reachesHighWatermark: highWatermark === 0n || next === highWatermark, batches };
}

/** Where two buffers first differ (or the shorter length when one is a prefix of the other). */
function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

export async function compareReplicas(
  driver: ClusterDriver,
  topic: string,
  replicasOf: Map<number, number[]>,
  highWatermarks: Map<number, bigint>,
  history: History,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const [partition, hw] of [...highWatermarks].sort((a, b) => a[0] - b[0])) {
    const brokers = (replicasOf.get(partition) ?? [])
      .map((id) => driver.brokers.find((b) => b.nodeId === id))
      .filter((b): b is ChaosNode => b !== undefined);
    let prefixes: { broker: ChaosNode; bytes: Buffer; reachesHighWatermark: boolean; batches: number }[] = [];
    for (;;) {
      prefixes = await Promise.all(
        brokers.map(async (broker) => ({ broker, ...committedPrefix(await driver.readPartitionLog(broker, topic, partition), hw) })),
      );
      if (prefixes.every((p) => p.reachesHighWatermark) || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const problems: string[] = [];
    const lagging = prefixes.filter((p) => !p.reachesHighWatermark);
    if (lagging.length > 0)
      problems.push(`${lagging.map((p) => p.broker.name).join(', ')} did not reach the high watermark ${hw} within ${timeoutMs} ms`);
    const reference = prefixes.find((p) => p.reachesHighWatermark) ?? prefixes[0];
    for (const p of prefixes) {
      if (!reference || p === reference) continue;
      const n = Math.min(p.bytes.length, reference.bytes.length);
      if (!p.bytes.subarray(0, n).equals(reference.bytes.subarray(0, n))) {
        problems.push(`${p.broker.name} differs from ${reference.broker.name} at byte ${firstDifference(p.bytes, reference.bytes)}`);
      }
    }
    const identical = problems.length === 0;
    history.log({
      type: 'replicas',
      partition,
      highWatermark: hw.toString(),
      identical,
      detail: identical
        ? `${prefixes.length} replicas, ${reference?.batches ?? 0} batches, ${reference?.bytes.length ?? 0} bytes identical`
        : problems.join('; '),
    });
  }
}
