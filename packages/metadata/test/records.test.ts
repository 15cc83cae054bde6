import { describe, expect, it } from 'vitest';
import {
  METADATA_RECORD_FORMAT,
  MetadataRecordError,
  decodeMetadataRecord,
  decodeMetadataEntry,
  encodeMetadataRecord,
  encodeMetadataEntry,
  type MetadataRecord,
} from '../src/index.js';

const EVERY_RECORD: MetadataRecord[] = [
  {
    type: 'RegisterBroker',
    brokerId: 1,
    incarnationId: 'a1b2',
    brokerEpoch: '12',
    host: 'kafka-1.example',
    port: 9092,
    rack: 'r1',
    fenced: true,
  },
  { type: 'RegisterBroker', brokerId: 2, incarnationId: 'c3d4', brokerEpoch: '9223372036854775807', host: 'h', port: 1, fenced: false },
  { type: 'UnregisterBroker', brokerId: 1, brokerEpoch: '12' },
  { type: 'FenceBroker', brokerId: 1, brokerEpoch: '12' },
  { type: 'UnfenceBroker', brokerId: 1, brokerEpoch: '12' },
  { type: 'BrokerControlledShutdown', brokerId: 1, brokerEpoch: '12' },
  { type: 'Topic', name: 'orders', topicId: '3f0c4a9e-1d2b-5c3d-8e4f-5a6b7c8d9e0f' },
  { type: 'Partition', topicId: 't', partition: 0, replicas: [1, 2, 3], isr: [1, 2], leader: 1, leaderEpoch: 4, partitionEpoch: 7 },
  { type: 'Partition', topicId: 't', partition: 1, replicas: [1], isr: [1], leader: -1, leaderEpoch: 0, partitionEpoch: 0 },
  { type: 'PartitionChange', topicId: 't', partition: 0, leader: 2, isr: [2], unclean: true },
  { type: 'PartitionChange', topicId: 't', partition: 0, replicas: [3, 2, 1] },
  { type: 'Config', resourceType: 'topic', resourceName: 'orders', name: 'min.insync.replicas', value: '2' },
  { type: 'Config', resourceType: 'broker', resourceName: '', name: 'log.retention.ms', value: null },
  { type: 'RemoveTopic', topicId: 't' },
  { type: 'ProducerIdsBlock', brokerId: 1, brokerEpoch: '12', nextProducerId: '9223372036854775000' },
  {
    type: 'AccessControlEntry',
    id: 'a1',
    resourceType: 2,
    resourceName: 'orders',
    patternType: 4,
    principal: 'User:alice',
    host: '*',
    operation: 3,
    permissionType: 3,
  },
  { type: 'RemoveAccessControlEntry', id: 'a1' },
  {
    type: 'UserScramCredential',
    name: 'alice',
    mechanism: 'SCRAM-SHA-256',
    salt: 'c2FsdA==',
    storedKey: 'c3Q=',
    serverKey: 'c2s=',
    iterations: 8192,
  },
  { type: 'RemoveUserScramCredential', name: 'alice', mechanism: 'SCRAM-SHA-256' },
];

describe('metadata records', () => {
  it('round-trip through encodeMetadataRecord / decodeMetadataRecord, every type', () => {
    for (const record of EVERY_RECORD) {
      const bytes = encodeMetadataRecord(record);
      expect(bytes[0]).toBe(METADATA_RECORD_FORMAT);
      expect(decodeMetadataRecord(bytes)).toEqual(record);
    }
  });

  it('encode canonically: field order does not depend on how the object was built', () => {
    const a: MetadataRecord = { type: 'FenceBroker', brokerId: 1, brokerEpoch: '5' };
    const b = { brokerEpoch: '5', brokerId: 1, type: 'FenceBroker' } as MetadataRecord;
    expect(encodeMetadataRecord(a)).toEqual(encodeMetadataRecord(b));
  });

  it('round-trip a batch, and read a single record as a batch of one', () => {
    expect(decodeMetadataEntry(encodeMetadataEntry(EVERY_RECORD))).toEqual(EVERY_RECORD);
    expect(decodeMetadataEntry(encodeMetadataRecord(EVERY_RECORD[0]!))).toEqual([EVERY_RECORD[0]]);
  });

  it('ignore unknown fields (a newer writer may add optional ones)', () => {
    const bytes = new Uint8Array([1, ...new TextEncoder().encode('{"type":"RemoveTopic","topicId":"t","future":1}')]);
    expect(decodeMetadataRecord(bytes)).toEqual({ type: 'RemoveTopic', topicId: 't' });
  });

  it('refuse an unknown format byte, bad JSON, unknown types and malformed fields', () => {
    const body = (json: string) => new Uint8Array([1, ...new TextEncoder().encode(json)]);
    expect(() => decodeMetadataRecord(new Uint8Array([2, 123, 125]))).toThrow(/format 2/);
    expect(() => decodeMetadataRecord(new Uint8Array([1]))).toThrow(MetadataRecordError);
    expect(() => decodeMetadataRecord(body('{"type":'))).toThrow(MetadataRecordError);
    expect(() => decodeMetadataRecord(body('{"type":"Nope"}'))).toThrow(/unknown metadata record type/);
    expect(() => decodeMetadataRecord(body('{"type":"toString"}'))).toThrow(/unknown metadata record type/);
    expect(() => decodeMetadataRecord(body('{"type":"FenceBroker","brokerId":1}'))).toThrow(/missing 'brokerEpoch'/);
    expect(() => decodeMetadataRecord(body('{"type":"FenceBroker","brokerId":1,"brokerEpoch":5}'))).toThrow(/bad 'brokerEpoch'/);
    expect(() => decodeMetadataRecord(body('{"type":"FenceBroker","brokerId":1,"brokerEpoch":"9223372036854775808"}'))).toThrow(
      /bad 'brokerEpoch'/,
    );
    expect(() => decodeMetadataRecord(body('{"type":"FenceBroker","brokerId":-1,"brokerEpoch":"1"}'))).toThrow(/bad 'brokerId'/);
    expect(() =>
      decodeMetadataRecord(
        body('{"type":"Partition","topicId":"t","partition":0,"replicas":[1.5],"isr":[],"leader":1,"leaderEpoch":0,"partitionEpoch":0}'),
      ),
    ).toThrow(/bad 'replicas'/);
    expect(() => decodeMetadataRecord(body('{"type":"Config","resourceType":"group","resourceName":"g","name":"n","value":null}'))).toThrow(
      /bad 'resourceType'/,
    );
    expect(() => decodeMetadataRecord(body('[]'))).toThrow(/JSON object/);
    expect(() => encodeMetadataRecord({ type: 'FenceBroker', brokerId: Number.NaN, brokerEpoch: '1' })).toThrow(MetadataRecordError);
  });
});
