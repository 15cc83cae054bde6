/** The pure parts of `samsa reassign-partitions`: Kafka's JSON files and the --generate proposal. */
import { describe, expect, it } from 'vitest';
import {
  formatReassignmentJson,
  parseBrokerList,
  parseReassignmentJson,
  parseTopicsToMoveJson,
  proposeAssignment,
} from '../src/commands/reassignPartitions.js';
import { UsageError } from '../src/errors.js';

describe('reassign-partitions JSON', () => {
  it("reads Kafka's reassignment file, log_dirs and version included", () => {
    const text = '{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[4,5,6],"log_dirs":["any","any","any"]}]}';
    expect(parseReassignmentJson(text)).toEqual([{ topic: 't', partition: 0, replicas: [4, 5, 6] }]);
  });

  it('refuses bad files with a sentence naming the problem', () => {
    const bad: Array<[string, RegExp]> = [
      ['not json', /not JSON/],
      ['{"version":1}', /"partitions"/],
      ['{"partitions":[{"topic":"","partition":0,"replicas":[1]}]}', /"topic"/],
      ['{"partitions":[{"topic":"t","partition":-1,"replicas":[1]}]}', /"partition"/],
      ['{"partitions":[{"topic":"t","partition":0,"replicas":[]}]}', /"replicas"/],
      ['{"partitions":[{"topic":"t","partition":0,"replicas":[1,1]}]}', /repeats/],
      ['{"partitions":[{"topic":"t","partition":0,"replicas":[1]},{"topic":"t","partition":0,"replicas":[2]}]}', /more than once/],
    ];
    for (const [text, message] of bad) {
      expect(() => parseReassignmentJson(text)).toThrow(UsageError);
      expect(() => parseReassignmentJson(text)).toThrow(message);
    }
  });

  it('reads the topics-to-move file and the broker list', () => {
    expect(parseTopicsToMoveJson('{"topics":[{"topic":"a"},{"topic":"b"}],"version":1}')).toEqual(['a', 'b']);
    expect(() => parseTopicsToMoveJson('{"topics":[]}')).toThrow(UsageError);
    expect(parseBrokerList('4,5, 6')).toEqual([4, 5, 6]);
    expect(() => parseBrokerList('4,x')).toThrow(UsageError);
    expect(() => parseBrokerList('4,4')).toThrow(/repeats/);
    expect(() => parseBrokerList(undefined)).toThrow(/--broker-list/);
  });

  it('proposes each partition on replication-factor distinct brokers of the list, leaders spread', () => {
    const proposed = proposeAssignment([{ topic: 't', partitions: 3, replicationFactor: 3 }], [6, 4, 5]);
    expect(proposed).toEqual([
      { topic: 't', partition: 0, replicas: [4, 5, 6] },
      { topic: 't', partition: 1, replicas: [5, 6, 4] },
      { topic: 't', partition: 2, replicas: [6, 4, 5] },
    ]);
    expect(() => proposeAssignment([{ topic: 't', partitions: 1, replicationFactor: 3 }], [1, 2])).toThrow(/replication factor 3/);
  });

  it("prints Kafka's JSON, which reads back", () => {
    const entries = [{ topic: 't', partition: 1, replicas: [1, 2] }];
    const text = formatReassignmentJson(entries);
    expect(JSON.parse(text)).toEqual({
      version: 1,
      partitions: [{ topic: 't', partition: 1, replicas: [1, 2], log_dirs: ['any', 'any'] }],
    });
    expect(parseReassignmentJson(text)).toEqual(entries);
  });
});
