/** groupByTopic: the nesting every wire message with `topics[{ name, partitions[] }]` needs. */
import { describe, expect, it } from 'vitest';
import { groupByTopic, nestByTopic } from '../src/topics.js';

describe('groupByTopic', () => {
  it('keeps topics in first-seen order and each topic\'s items in their order', () => {
    const items = [{ topic: 'b', p: 0 }, { topic: 'a', p: 1 }, { topic: 'b', p: 2 }, { topic: 'a', p: 0 }];
    expect([...groupByTopic(items)]).toEqual([
      ['b', [{ topic: 'b', p: 0 }, { topic: 'b', p: 2 }]],
      ['a', [{ topic: 'a', p: 1 }, { topic: 'a', p: 0 }]],
    ]);
    expect(groupByTopic([]).size).toBe(0);
  });

  it('nestByTopic builds the wire\'s topics[{ name, partitions[] }], each item mapped with its topic', () => {
    const items = [{ topic: 'b', p: 0 }, { topic: 'a', p: 1 }, { topic: 'b', p: 2 }];
    expect(nestByTopic(items, (i, topic) => `${topic}${i.p}`)).toEqual([{ name: 'b', partitions: ['b0', 'b2'] }, { name: 'a', partitions: ['a1'] }]);
  });
});
