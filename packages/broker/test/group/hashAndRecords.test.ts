/**
 * The group → partition mapping is Kafka's bit for bit (checked against a BigInt reference of
 * Java's String.hashCode and known values), and the `__consumer_offsets` records round-trip.
 */
import { describe, expect, it } from 'vitest';
import { javaStringHashCode, kafkaAbs, partitionFor } from '../../src/group/hash.js';
import { decodeCoordinatorRecord, encodeCoordinatorRecord, type CoordinatorRecord } from '../../src/group/records.js';
import { seededRandom } from '@samsa/protocol';

/** Java's hashCode computed exactly with BigInt, then wrapped to int32. */
function reference(s: string): number {
  let h = 0n;
  for (let i = 0; i < s.length; i++) h = (h * 31n + BigInt(s.charCodeAt(i))) & 0xffffffffn;
  return Number(BigInt.asIntN(32, h));
}

describe('group partition', () => {
  it('matches Java String.hashCode on known values', () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('a')).toBe(97);
    expect(javaStringHashCode('hello')).toBe(99162322);
    // The classic string whose hashCode is Integer.MIN_VALUE: Kafka's Utils.abs maps it to 0.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    expect(partitionFor('polygenelubricants', 50)).toBe(0);
    expect(kafkaAbs(-5)).toBe(5);
  });

  it('matches a BigInt reference on random strings, with non-ASCII code units', () => {
    const rnd = seededRandom(42);
    for (let i = 0; i < 2_000; i++) {
      const len = Math.floor(rnd() * 40);
      let s = '';
      for (let j = 0; j < len; j++) s += String.fromCharCode(Math.floor(rnd() * (rnd() < 0.8 ? 128 : 0xffff)));
      const h = reference(s);
      expect(javaStringHashCode(s)).toBe(h);
      expect(partitionFor(s, 50)).toBe((h === -2147483648 ? 0 : Math.abs(h)) % 50);
    }
  });
});

describe('coordinator records', () => {
  const roundTrip = (r: CoordinatorRecord) => {
    const { key, value } = encodeCoordinatorRecord(r);
    return decodeCoordinatorRecord(key, value);
  };

  it('round-trips offsets, group metadata and tombstones', () => {
    const offset: CoordinatorRecord = {
      type: 'offset',
      group: 'grüppe',
      topic: 't',
      partition: 7,
      value: { offset: 123456789012n, leaderEpoch: 3, metadata: 'meta', commitTimestamp: 1_700_000_000_000 },
    };
    expect(roundTrip(offset)).toEqual(offset);
    const group: CoordinatorRecord = {
      type: 'group',
      group: 'g',
      value: {
        protocolType: 'consumer',
        generation: 9,
        protocol: 'range',
        leader: 'm1',
        currentStateTimestamp: 42,
        members: [
          {
            memberId: 'm1',
            groupInstanceId: null,
            clientId: 'c',
            clientHost: '/127.0.0.1',
            rebalanceTimeoutMs: 300000,
            sessionTimeoutMs: 45000,
            subscription: Buffer.from([1, 2]),
            assignment: Buffer.alloc(0),
          },
          {
            memberId: 'm2',
            groupInstanceId: 'static',
            clientId: 'c2',
            clientHost: '/::1',
            rebalanceTimeoutMs: 1,
            sessionTimeoutMs: 2,
            subscription: Buffer.alloc(0),
            assignment: Buffer.from('x'),
          },
        ],
      },
    };
    expect(roundTrip(group)).toEqual(group);
    const empty: CoordinatorRecord = {
      type: 'group',
      group: 'g',
      value: { protocolType: '', generation: 0, protocol: null, leader: null, currentStateTimestamp: 0, members: [] },
    };
    expect(roundTrip(empty)).toEqual(empty);
    expect(roundTrip({ type: 'offset', group: 'g', topic: 't', partition: 0, value: null })).toEqual({
      type: 'offset',
      group: 'g',
      topic: 't',
      partition: 0,
      value: null,
    });
    expect(roundTrip({ type: 'group', group: 'g', value: null })).toEqual({ type: 'group', group: 'g', value: null });
    // Offset and group keys of the same group differ (compaction keeps one value per key).
    expect(
      encodeCoordinatorRecord({ type: 'group', group: 'g', value: null }).key.equals(
        encodeCoordinatorRecord({ type: 'offset', group: 'g', topic: '', partition: 0, value: null }).key,
      ),
    ).toBe(false);
  });

  it('refuses unknown versions and truncated buffers', () => {
    expect(() => decodeCoordinatorRecord(Buffer.from([0, 9, 0, 0]), null)).toThrow(/unknown coordinator record key version 9/);
    const { key, value } = encodeCoordinatorRecord({
      type: 'offset',
      group: 'g',
      topic: 't',
      partition: 0,
      value: { offset: 1n, leaderEpoch: 0, metadata: '', commitTimestamp: 0 },
    });
    expect(() => decodeCoordinatorRecord(key, value!.subarray(0, 5))).toThrow(/truncated/);
    const bad = Buffer.from(value!);
    bad.writeInt16BE(77, 0);
    expect(() => decodeCoordinatorRecord(key, bad)).toThrow(/unknown offset commit value version 77/);
  });
});
