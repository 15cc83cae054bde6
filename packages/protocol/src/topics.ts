/**
 * Wire messages nest partitions under their topic (`topics[{ name, partitions[] }]`), as Kafka's
 * do; this groups a flat list of per-partition items that way, topics in first-seen order and
 * items in their given order within each.
 */
export function groupByTopic<T extends { topic: string }>(items: Iterable<T>): Map<string, T[]> {
  const topics = new Map<string, T[]>();
  for (const item of items) {
    const list = topics.get(item.topic);
    if (list) list.push(item);
    else topics.set(item.topic, [item]);
  }
  return topics;
}

/**
 * The wire's nesting itself: `[{ name, partitions: [toPartition(item), ...] }]`, grouped as
 * groupByTopic groups, each item turned into its partition entry.
 */
export function nestByTopic<T extends { topic: string }, P>(
  items: Iterable<T>,
  toPartition: (item: T, topic: string) => P,
): Array<{ name: string; partitions: P[] }> {
  return [...groupByTopic(items)].map(([name, list]) => ({ name, partitions: list.map((item) => toPartition(item, name)) }));
}

/** Each topic's partition numbers (as Kafka's `topic -> [partition]` request fields), grouped as groupByTopic groups. */
export function partitionsByTopic(items: Iterable<{ topic: string; partition: number }>): Map<string, number[]> {
  return new Map([...groupByTopic(items)].map(([topic, list]) => [topic, list.map((item) => item.partition)]));
}

/**
 * The one key for a topic-partition in a Map or Set: `topic NUL partition`. A topic name never
 * holds NUL (Kafka allows [a-zA-Z0-9._-]), so no two pairs share a key.
 */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}
