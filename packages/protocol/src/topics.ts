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
export function nestByTopic<T extends { topic: string }, P>(items: Iterable<T>, toPartition: (item: T, topic: string) => P): Array<{ name: string; partitions: P[] }> {
  return [...groupByTopic(items)].map(([name, list]) => ({ name, partitions: list.map((item) => toPartition(item, name)) }));
}
