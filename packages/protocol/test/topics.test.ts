/** groupByTopic: the nesting every wire message with `topics[{ name, partitions[] }]` needs. */
import { describe, expect, it } from 'vitest';
import {
  ConfigOperation,
  ConfigResource,
  configResourceKind,
  groupByTopic,
  nestByTopic,
  partitionsByTopic,
  topicPartitionKey,
} from '../src/index.js';

describe('groupByTopic', () => {
  it("keeps topics in first-seen order and each topic's items in their order", () => {
    const items = [
      { topic: 'b', p: 0 },
      { topic: 'a', p: 1 },
      { topic: 'b', p: 2 },
      { topic: 'a', p: 0 },
    ];
    expect([...groupByTopic(items)]).toEqual([
      [
        'b',
        [
          { topic: 'b', p: 0 },
          { topic: 'b', p: 2 },
        ],
      ],
      [
        'a',
        [
          { topic: 'a', p: 1 },
          { topic: 'a', p: 0 },
        ],
      ],
    ]);
    expect(groupByTopic([]).size).toBe(0);
  });

  it("nestByTopic builds the wire's topics[{ name, partitions[] }], each item mapped with its topic", () => {
    const items = [
      { topic: 'b', p: 0 },
      { topic: 'a', p: 1 },
      { topic: 'b', p: 2 },
    ];
    expect(nestByTopic(items, (i, topic) => `${topic}${i.p}`)).toEqual([
      { name: 'b', partitions: ['b0', 'b2'] },
      { name: 'a', partitions: ['a1'] },
    ]);
  });

  it('partitionsByTopic keeps only the partition numbers, in the same order', () => {
    const tps = [
      { topic: 'b', partition: 3 },
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 0 },
    ];
    expect([...partitionsByTopic(tps)]).toEqual([
      ['b', [3, 0]],
      ['a', [1]],
    ]);
  });
});

describe('topicPartitionKey', () => {
  it('gives distinct keys where a dash-joined name would collide', () => {
    const pairs: Array<[string, number]> = [
      ['a-1', 0],
      ['a', 10],
      ['a-10', 0],
      ['a', 1],
      ['a1', 0],
    ];
    expect(new Set(pairs.map(([t, p]) => topicPartitionKey(t, p))).size).toBe(pairs.length);
    expect(topicPartitionKey('t', 3)).toBe(topicPartitionKey('t', 3));
  });
});

describe('config resources', () => {
  it("name Kafka's ConfigResource.Type codes and refuse the rest", () => {
    expect(configResourceKind(ConfigResource.TOPIC)).toBe('topic');
    expect(configResourceKind(ConfigResource.BROKER)).toBe('broker');
    expect([0, 1, 3, 8].map(configResourceKind)).toEqual([undefined, undefined, undefined, undefined]);
    expect(ConfigOperation).toEqual({ SET: 0, DELETE: 1 });
  });
});
