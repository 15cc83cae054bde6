/**
 * ListOffsets for partitions of one topic, routed to each partition's leader (one request per
 * leader), with retriable failures retried after a metadata refresh. Shared by the consumer (seek,
 * auto offset reset) and the admin.
 */
import { toBigInt, toWire } from '@samsa/protocol';
import { OffsetOutOfRangeError, UnknownServerError, errorFromCode, isRetriable, needsMetadataRefresh } from '../errors.js';
import type { Retrier } from '../retry.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP } from '../wire.js';
import type { Cluster, LeaderRoute } from './cluster.js';

/**
 * Where to look: the log start, the end (next offset to be written), the first record carrying
 * the largest timestamp ('max-timestamp', KIP-734), or the first record at or after a time (ms).
 */
export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | bigint;

export interface PartitionOffset {
  partition: number;
  /** For a timestamp (or max-timestamp) query that matches no record: -1n. */
  offset: bigint;
  /** The matched record's timestamp; -1n for earliest/latest. */
  timestamp: bigint;
  leaderEpoch: number;
}

export function specTimestamp(spec: OffsetSpec): bigint {
  if (spec === 'earliest') return EARLIEST_TIMESTAMP;
  if (spec === 'latest') return LATEST_TIMESTAMP;
  if (spec === 'max-timestamp') return MAX_TIMESTAMP;
  if (typeof spec !== 'bigint' || spec < 0n)
    throw new RangeError(
      `offset spec must be 'earliest', 'latest', 'max-timestamp' or a non-negative bigint timestamp, got ${String(spec)}`,
    );
  return spec;
}

export async function listOffsets(
  deps: { cluster: Cluster; retrier: Retrier },
  topic: string,
  requests: readonly { partition: number; spec: OffsetSpec }[],
  /** 1 = read_committed: 'latest' answers the last stable offset rather than the high watermark (KIP-98). */
  isolationLevel: 0 | 1 = 0,
): Promise<PartitionOffset[]> {
  const { cluster, retrier } = deps;
  // Keyed by request index: one partition may be asked twice (e.g. earliest and latest).
  const results = new Map<number, PartitionOffset>();
  let pending = requests.map((r, index) => ({ ...r, index }));
  let stale = false;
  await retrier.run(
    async () => {
      if (stale) {
        stale = false;
        cluster.invalidateTopics([topic]);
        await cluster.refreshMetadata([topic]);
      }
      // One request per leader, except that a partition asked twice goes in a second request.
      // Each partition carries its own leader epoch: partitions sharing a leader can be at different ones.
      const groups: { route: LeaderRoute; items: typeof pending; partitions: Set<number>; epochs: Map<number, number> }[] = [];
      const failures: { item: (typeof pending)[number]; error: unknown }[] = [];
      for (const item of pending) {
        try {
          const route = await cluster.leaderFor(topic, item.partition);
          let group = groups.find((g) => g.route.nodeId === route.nodeId && !g.partitions.has(item.partition));
          if (!group) groups.push((group = { route, items: [], partitions: new Set(), epochs: new Map() }));
          group.items.push(item);
          group.partitions.add(item.partition);
          group.epochs.set(item.partition, route.leaderEpoch);
        } catch (error) {
          failures.push({ item, error });
        }
      }
      await Promise.all(
        groups.map(async ({ route, items, epochs }) => {
          try {
            const response = await route.connection.listOffsets(
              {
                isolationLevel,
                topics: [
                  {
                    name: topic,
                    partitions: items.map((i) => ({
                      partition: i.partition,
                      timestamp: toWire(specTimestamp(i.spec)),
                      currentLeaderEpoch: epochs.get(i.partition)!,
                    })),
                  },
                ],
              },
              cluster.requestOptions(),
            );
            for (const item of items) {
              const p = response.topics.find((t) => t.name === topic)?.partitions.find((x) => x.partition === item.partition);
              if (!p) {
                failures.push({
                  item,
                  error: new UnknownServerError(`ListOffsets response has no answer for ${topic}-${item.partition}`, {
                    topic,
                    partition: item.partition,
                  }),
                });
              } else if (p.errorCode !== 0) {
                cluster.updateLeader(topic, item.partition, p.currentLeader);
                failures.push({ item, error: errorFromCode(p.errorCode, p.errorMessage, undefined, { topic, partition: item.partition }) });
              } else {
                results.set(item.index, {
                  partition: item.partition,
                  offset: toBigInt(p.offset, -1n),
                  timestamp: toBigInt(p.timestamp, -1n),
                  leaderEpoch: p.leaderEpoch,
                });
              }
            }
          } catch (error) {
            for (const item of items) failures.push({ item, error });
          }
        }),
      );
      pending = failures.map((f) => f.item);
      if (failures.length === 0) return;
      stale = failures.some((f) => needsMetadataRefresh(f.error));
      throw (failures.find((f) => !isRetriable(f.error)) ?? failures[0]!).error;
    },
    { what: `list offsets of ${topic}` },
  );
  return requests.map((r, index) => {
    const result = results.get(index);
    if (!result) throw new OffsetOutOfRangeError(`no offset for ${topic}-${r.partition}`, { topic, partition: r.partition });
    return result;
  });
}
