import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/index.js';
import { cooperativeStickyAssignor, rangeAssignor, roundRobinAssignor, validOwners } from '../src/consumer/group/assignors.js';
import type { AssignorMember, GroupAssignment, PartitionAssignor } from '../src/consumer/group/assignors.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  toTopicPartitions,
} from '../src/consumer/group/protocol.js';
import type { Subscription } from '../src/consumer/group/protocol.js';

const sub = (topics: string[], owned: Record<string, number[]> = {}, generationId = -1): Subscription => ({
  topics,
  userData: null,
  ownedPartitions: Object.entries(owned).map(([topic, partitions]) => ({ topic, partitions })),
  generationId,
});
const member = (memberId: string, s: Subscription, groupInstanceId: string | null = null): AssignorMember => ({
  memberId,
  groupInstanceId,
  subscription: s,
});
const names = (a: GroupAssignment, m: string) => a.get(m)!.map((tp) => `${tp.topic}-${tp.partition}`);

function ownersOf(a: GroupAssignment): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [m, list] of a)
    for (const tp of list) {
      const k = `${tp.topic}-${tp.partition}`;
      out.set(k, [...(out.get(k) ?? []), m]);
    }
  return out;
}

describe('consumer protocol bytes', () => {
  it('round-trips a subscription with owned partitions and generation in Kafka layout', () => {
    const s = sub(['orders', 'payments'], { orders: [0, 2], payments: [1] }, 7);
    s.userData = Buffer.from('hi');
    const bytes = encodeSubscription(s);
    expect(bytes.readInt16BE(0)).toBe(2);
    expect(bytes.readInt32BE(2)).toBe(2); // topics count
    expect(bytes.readInt16BE(6)).toBe(6); // 'orders'
    expect(decodeSubscription(bytes)).toEqual(s);
  });

  it('reads a v0 subscription (topics and user data only) and a v3 one with a rack id', () => {
    const v0 = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 1, 0, 1]), Buffer.from('t'), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    expect(decodeSubscription(v0)).toEqual({ topics: ['t'], userData: null, ownedPartitions: [], generationId: -1 });
    const v2 = encodeSubscription(sub(['t'], { t: [3] }, 4));
    const v3 = Buffer.concat([Buffer.from([0, 3]), v2.subarray(2), Buffer.from([0, 2]), Buffer.from('r1')]);
    expect(decodeSubscription(v3)).toEqual(sub(['t'], { t: [3] }, 4));
  });

  it('round-trips an assignment; an empty buffer is no partitions', () => {
    const a = {
      partitions: toTopicPartitions([
        { topic: 'b', partition: 2 },
        { topic: 'a', partition: 1 },
        { topic: 'b', partition: 0 },
      ]),
      userData: null,
    };
    expect(a.partitions).toEqual([
      { topic: 'a', partitions: [1] },
      { topic: 'b', partitions: [0, 2] },
    ]);
    expect(decodeAssignment(encodeAssignment(a))).toEqual(a);
    expect(decodeAssignment(Buffer.alloc(0))).toEqual({ partitions: [], userData: null });
  });

  it('refuses truncated or garbage bytes with INVALID_REQUEST instead of crashing', () => {
    const bytes = encodeSubscription(sub(['orders'], { orders: [1] }, 1));
    for (let cut = 1; cut < bytes.length - 4; cut++) {
      expect(() => decodeSubscription(bytes.subarray(0, cut))).toThrow(/truncated|bad array/);
    }
    expect(() => decodeAssignment(Buffer.from([0, 0, 0x7f, 0xff, 0xff, 0xff]))).toThrow(/bad array length/);
  });
});

describe('range assignor', () => {
  it('gives contiguous ranges, the first members one more (Kafka example)', () => {
    const a = rangeAssignor.assign(
      [member('c1', sub(['t0', 't1'])), member('c0', sub(['t0', 't1']))],
      new Map([
        ['t0', 3],
        ['t1', 3],
      ]),
    );
    expect(names(a, 'c0')).toEqual(['t0-0', 't0-1', 't1-0', 't1-1']);
    expect(names(a, 'c1')).toEqual(['t0-2', 't1-2']);
  });

  it('orders static members by instance id', () => {
    const a = rangeAssignor.assign([member('zz', sub(['t']), 'a'), member('aa', sub(['t']), 'b')], new Map([['t', 2]]));
    expect(names(a, 'zz')).toEqual(['t-0']);
    expect(names(a, 'aa')).toEqual(['t-1']);
  });

  it('is not sticky: when an owner leaves, the idle member takes the partition its member-id rank gives it, not the one that was left', () => {
    // Three members on two partitions: the last in member-id order idles.
    const three = rangeAssignor.assign(
      [member('m-a', sub(['t'])), member('m-b', sub(['t'])), member('m-c', sub(['t']))],
      new Map([['t', 2]]),
    );
    expect([names(three, 'm-a'), names(three, 'm-b'), names(three, 'm-c')]).toEqual([['t-0'], ['t-1'], []]);
    // m-a (owner of t-0) leaves: m-b moves to t-0 and the formerly idle m-c gets t-1.
    const two = rangeAssignor.assign([member('m-b', sub(['t'])), member('m-c', sub(['t']))], new Map([['t', 2]]));
    expect([names(two, 'm-b'), names(two, 'm-c')]).toEqual([['t-0'], ['t-1']]);
  });
});

describe('roundrobin assignor', () => {
  it('deals partitions in turn, skipping members not subscribed', () => {
    const a = roundRobinAssignor.assign(
      [member('c0', sub(['t0'])), member('c1', sub(['t0', 't1'])), member('c2', sub(['t0', 't1', 't2']))],
      new Map([
        ['t0', 1],
        ['t1', 2],
        ['t2', 3],
      ]),
    );
    expect(names(a, 'c0')).toEqual(['t0-0']);
    expect(names(a, 'c1')).toEqual(['t1-0']);
    expect(names(a, 'c2')).toEqual(['t1-1', 't2-0', 't2-1', 't2-2']);
  });
});

describe('cooperative-sticky assignor', () => {
  it('withholds a moving partition for one generation, then assigns it (two-phase revoke)', () => {
    const topics = new Map([['t', 6]]);
    // c1 owns everything; c2 joins.
    const round1 = cooperativeStickyAssignor.assign(
      [member('c1', sub(['t'], { t: [0, 1, 2, 3, 4, 5] }, 3)), member('c2', sub(['t'], {}, -1))],
      topics,
    );
    expect(names(round1, 'c1')).toHaveLength(3);
    expect(names(round1, 'c2')).toEqual([]);
    const kept = round1.get('c1')!.map((tp) => tp.partition);
    const round2 = cooperativeStickyAssignor.assign([member('c1', sub(['t'], { t: kept }, 4)), member('c2', sub(['t'], {}, 4))], topics);
    expect(round2.get('c1')!.map((tp) => tp.partition)).toEqual(kept);
    expect(round2.get('c2')).toHaveLength(3);
  });

  it('ignores claims from an older generation and cancels duplicate claims of one generation', () => {
    const topics = new Map([['t', 2]]);
    const owners = validOwners(
      [
        member('old', sub(['t'], { t: [0] }, 1)),
        member('new', sub(['t'], { t: [0] }, 2)),
        member('x', sub(['t'], { t: [1] }, 2)),
        member('y', sub(['t'], { t: [1] }, 2)),
      ],
      topics,
    );
    expect(owners.get('t\u00000')).toBe('new');
    expect(owners.has('t\u00001')).toBe(false);
  });

  it('property (seeded): never two owners, only subscribers, never a direct move, balanced after two rounds', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const trace: string[] = [];
      const random = seededRandom(seed);
      const int = (n: number) => Math.floor(random() * n);
      const topics = new Map<string, number>();
      for (let t = 0; t < 1 + int(3); t++) topics.set(`t${t}`, 1 + int(8));
      const sameSubs = random() < 0.6;
      const allTopics = [...topics.keys()];
      let owned = new Map<string, { topic: string; partition: number }[]>();
      let ids: string[] = Array.from({ length: 1 + int(5) }, (_, i) => `m${i}`);
      const subs = new Map<string, string[]>();
      const subsOf = (id: string) => {
        if (!subs.has(id))
          subs.set(
            id,
            sameSubs
              ? allTopics
              : allTopics.filter(() => random() < 0.7).concat(allTopics.length ? [allTopics[int(allTopics.length)]!] : []),
          );
        return [...new Set(subs.get(id)!)];
      };
      let generation = 1;
      let nextId = ids.length;
      for (let step = 0; step < 6; step++) {
        // Membership churn: someone joins or leaves.
        if (random() < 0.4 && ids.length > 1) {
          const gone = int(ids.length);
          ids = ids.filter((_, i) => i !== gone);
        }
        if (random() < 0.5) ids.push(`m${nextId++}`);
        owned = new Map([...owned].filter(([id]) => ids.includes(id)));
        // Up to three rounds: the follow-up rebalance after revocations must settle it.
        for (let round = 0; round < 3; round++) {
          const members = ids.map((id) =>
            member(
              id,
              sub(subsOf(id), Object.fromEntries(toTopicPartitions(owned.get(id) ?? []).map((t) => [t.topic, t.partitions])), generation),
            ),
          );
          const result = cooperativeStickyAssignor.assign(members, topics);
          trace.push(JSON.stringify({ ids, topics: [...topics], owned: [...owned], result: [...result] }));
          for (const [k, holders] of ownersOf(result)) expect(holders.length, `seed ${seed}: ${k} has two owners`).toBe(1);
          for (const [id, list] of result) {
            for (const tp of list) {
              expect(subsOf(id)).toContain(tp.topic);
              // A partition another member owned is never handed over in the same round.
              const prev = [...owned].find(([, l]) => l.some((o) => o.topic === tp.topic && o.partition === tp.partition))?.[0];
              if (prev !== undefined) expect(prev, `seed ${seed}: ${tp.topic}-${tp.partition} moved directly`).toBe(id);
            }
          }
          const revoked = [...owned].some(([id, l]) =>
            l.some((o) => !result.get(id)!.some((n) => n.topic === o.topic && n.partition === o.partition)),
          );
          owned = new Map([...result].map(([id, l]) => [id, [...l]]));
          generation++;
          if (!revoked) break;
        }
        if (sameSubs) {
          const total = [...topics.values()].reduce((a, b) => a + b, 0);
          const counts = ids.map((id) => owned.get(id)!.length);
          expect(
            counts.reduce((a, b) => a + b, 0),
            `seed ${seed}: every partition assigned ${trace.join('\n')}`,
          ).toBe(total);
          expect(Math.max(...counts) - Math.min(...counts), `seed ${seed}: balanced`).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('property (seeded): a stable balanced group keeps every partition where it is', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = seededRandom(seed * 31);
      const topics = new Map([
        ['a', 1 + Math.floor(random() * 12)],
        ['b', 1 + Math.floor(random() * 12)],
      ]);
      const ids = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => `m${i}`);
      const first = cooperativeStickyAssignor.assign(
        ids.map((id) => member(id, sub(['a', 'b']))),
        topics,
      );
      const again = cooperativeStickyAssignor.assign(
        ids.map((id) =>
          member(id, sub(['a', 'b'], Object.fromEntries(toTopicPartitions(first.get(id)!).map((t) => [t.topic, t.partitions])), 5)),
        ),
        topics,
      );
      expect(again).toEqual(first);
    }
  });
});

describe('eager assignors (seeded property)', () => {
  for (const assignor of [rangeAssignor, roundRobinAssignor] as PartitionAssignor[]) {
    it(`${assignor.name}: every partition of a subscribed topic exactly once, to a subscriber`, () => {
      for (let seed = 1; seed <= 100; seed++) {
        const random = seededRandom(seed);
        const topics = new Map<string, number>();
        for (let t = 0; t < 1 + Math.floor(random() * 4); t++) topics.set(`t${t}`, Math.floor(random() * 9));
        const all = [...topics.keys()];
        const members = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) =>
          member(`m${i}`, sub(all.filter(() => random() < 0.7))),
        );
        const a = assignor.assign(members, topics);
        const owners = ownersOf(a);
        for (const [t, n] of topics) {
          const subscribed = members.some((m) => m.subscription.topics.includes(t));
          for (let p = 0; p < n; p++) expect(owners.get(`${t}-${p}`)?.length ?? 0, `seed ${seed} ${t}-${p}`).toBe(subscribed ? 1 : 0);
        }
        for (const m of members) for (const tp of a.get(m.memberId)!) expect(m.subscription.topics).toContain(tp.topic);
        if (members.every((m) => m.subscription.topics.length === all.length) && assignor === roundRobinAssignor) {
          const counts = members.map((m) => a.get(m.memberId)!.length);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        }
      }
    });
  }
});
