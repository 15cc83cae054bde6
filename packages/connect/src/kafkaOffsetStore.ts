/**
 * Source offsets in the offset topic, after Kafka's `KafkaOffsetBackingStore`: key
 * `["<connector>",{sourcePartition}]`, value `{sourceOffset}` (null: reset), JSON. Reads come from
 * the replay of the topic, so a task moved to another worker resumes from what the old one stored.
 */
import type { SourceOffset, SourcePartition } from './api.js';
import type { KafkaBasedLog } from './kafkaBasedLog.js';
import { MemoryOffsetStore, offsetKey } from './offsetStore.js';

export class KafkaOffsetStore extends MemoryOffsetStore {
  log: KafkaBasedLog | undefined;

  /** Called for each record of the offset topic. */
  apply(key: string | null, value: Buffer | null): void {
    if (key === null) return;
    let parsed: [string, SourcePartition];
    try {
      parsed = JSON.parse(key) as [string, SourcePartition];
    } catch {
      return; // Not ours.
    }
    const k = offsetKey(parsed[0], parsed[1]);
    if (value === null) this.data.delete(k);
    else this.data.set(k, JSON.parse(value.toString('utf8')) as SourceOffset);
  }

  override async set(
    connector: string,
    offsets: ReadonlyArray<{ partition: SourcePartition; offset: SourceOffset | null }>,
  ): Promise<void> {
    await Promise.all(offsets.map(({ partition, offset }) => this.log!.send(offsetKey(connector, partition), offset)));
    await super.set(connector, offsets);
  }
}
