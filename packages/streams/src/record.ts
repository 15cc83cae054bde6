/**
 * Records as processors see them (Kafka's `org.apache.kafka.streams.processor.api.Record`), the
 * `Change` a KTable forwards (Kafka's internal `Change<V>`: new and old value, so a downstream
 * filter or join can retract what it emitted before), and `Windowed<K>` keys.
 */
import type { Serde } from '@samsa/client';

export type Headers = Record<string, Buffer | null>;

export interface StreamRecord<K, V> {
  key: K;
  value: V;
  /** Event time, ms since the epoch. */
  timestamp: number;
  headers: Headers;
}

export interface Change<V> {
  newValue: V | null;
  oldValue: V | null;
}

export interface Window {
  start: number;
  end: number;
}

export interface Windowed<K> {
  key: K;
  window: Window;
}

/** The topic, partition and offset of the input record being processed (null inside a punctuator). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

export type { Serde };
