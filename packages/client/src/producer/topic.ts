/**
 * A typed topic: its name and the serdes of its keys and values, defined once and shared by
 * producers and consumers so a value of the wrong type is a compile error at every use.
 */
import type { Serde } from '../serdes.js';

export interface TopicDescriptor<K, V> {
  readonly name: string;
  readonly key: Serde<K>;
  readonly value: Serde<V>;
}

export function defineTopic<K, V>(name: string, serdes: { key: Serde<K>; value: Serde<V> }): TopicDescriptor<K, V> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('defineTopic needs a non-empty topic name');
  return Object.freeze({ name, key: serdes.key, value: serdes.value });
}
