/**
 * An in-memory one-member group coordinator and a one-topic group consumer on the fake cluster and
 * a manual clock, shared by the group consumer's unit tests.
 */
import { ErrorCode, encodeRecordBatch } from '@samsa/protocol';
import { Samsa, seededRandom, serdes } from '../src/index.js';
import type { GroupConsumerOptions, GroupsConnection, TopicPartition } from '../src/index.js';
import { FakeCluster, ManualClock } from './fakes.js';

export const batchOf = (values: string[]) =>
  encodeRecordBatch(values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1000n + BigInt(i) })));

export class FakeCoordinator {
  readonly calls: Array<{ method: string; request: any }> = [];
  heartbeatCode = 0;
  /** Pending member ids this coordinator forgets (a failover or reload between the two joins of KIP-394). */
  forgetPending = 0;
  generation = 0;
  nextMember = 1;
  assignment = Buffer.alloc(0);
  readonly offsets = new Map<string, string>();
  /** KIP-320: the committed leader epoch per partition, as the coordinator stores it with the offset. */
  readonly epochs = new Map<string, number>();
  constructor(private readonly address: string) {}
  connection = (address: string): GroupsConnection => {
    const record = (method: string, request: any) => this.calls.push({ method, request });
    const self = this;
    const ok = <T>(value: T) => Promise.resolve(value);
    return {
      address,
      findCoordinator(r: any) {
        record('findCoordinator', r);
        const [host, port] = self.address.split(':');
        return ok({ errorCode: 0, errorMessage: '', nodeId: 1, host: host!, port: Number(port) });
      },
      joinGroup(r: any) {
        record('joinGroup', r);
        if (!r.memberId)
          return ok({
            errorCode: ErrorCode.MEMBER_ID_REQUIRED,
            errorMessage: '',
            generationId: -1,
            protocolType: '',
            protocolName: '',
            leader: '',
            memberId: `member-${self.nextMember++}`,
            members: [],
            skipAssignment: false,
          });
        if (self.forgetPending > 0) {
          self.forgetPending--;
          return ok({
            errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
            errorMessage: `group 'g' has no member '${r.memberId}' (the group does not exist)`,
            generationId: -1,
            protocolType: '',
            protocolName: '',
            leader: '',
            memberId: r.memberId,
            members: [],
            skipAssignment: false,
          });
        }
        self.generation++;
        return ok({
          errorCode: 0,
          errorMessage: '',
          generationId: self.generation,
          protocolType: 'consumer',
          protocolName: r.protocols[0].name,
          leader: r.memberId,
          memberId: r.memberId,
          members: [{ memberId: r.memberId, groupInstanceId: '', metadata: r.protocols[0].metadata }],
          skipAssignment: false,
        });
      },
      syncGroup(r: any) {
        record('syncGroup', r);
        if (r.assignments.length) self.assignment = Buffer.from(r.assignments[0].assignment);
        return ok({ errorCode: 0, errorMessage: '', protocolType: 'consumer', protocolName: r.protocolName, assignment: self.assignment });
      },
      heartbeat(r: any) {
        record('heartbeat', r);
        return ok({ errorCode: self.heartbeatCode, errorMessage: '' });
      },
      leaveGroup(r: any) {
        record('leaveGroup', r);
        return ok({ errorCode: 0, errorMessage: '', members: [] });
      },
      txnOffsetCommit(r: any) {
        record('txnOffsetCommit', r);
        return ok({
          topics: r.topics.map((t: any) => ({
            name: t.name,
            partitions: t.partitions.map((p: any) => ({ partition: p.partition, errorCode: 0, errorMessage: '' })),
          })),
        });
      },
      offsetCommit(r: any) {
        record('offsetCommit', r);
        for (const t of r.topics)
          for (const p of t.partitions) {
            self.offsets.set(`${t.name}-${p.partition}`, p.committedOffset);
            self.epochs.set(`${t.name}-${p.partition}`, p.committedLeaderEpoch);
          }
        return ok({
          topics: r.topics.map((t: any) => ({
            name: t.name,
            partitions: t.partitions.map((p: any) => ({ partition: p.partition, errorCode: 0, errorMessage: '' })),
          })),
        });
      },
      offsetFetch(r: any) {
        record('offsetFetch', r);
        return ok({
          errorCode: 0,
          errorMessage: '',
          topics: r.topics.map((t: any) => ({
            name: t.name,
            partitions: t.partitions.map((p: number) => ({
              partition: p,
              committedOffset: self.offsets.get(`${t.name}-${p}`) ?? '-1',
              committedLeaderEpoch: self.epochs.get(`${t.name}-${p}`) ?? -1,
              metadata: '',
              errorCode: 0,
              errorMessage: '',
            })),
          })),
        });
      },
      listGroups() {
        return ok({ errorCode: 0, errorMessage: '', groups: [] });
      },
      describeGroups() {
        return ok({ groups: [] });
      },
      deleteGroups() {
        return ok({ results: [] });
      },
      close() {},
    } as unknown as GroupsConnection;
  };
  count(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }
}

export function setupGroup(options: { maxPollIntervalMs?: number } & Partial<GroupConsumerOptions<null, string>> = {}) {
  const fake = new FakeCluster([1]);
  fake.createTopic('t', 2);
  fake.append('t', 0, batchOf(['a', 'b', 'c']));
  fake.append('t', 1, batchOf(['d', 'e']));
  const clock = new ManualClock();
  // An empty Fetch long-polls on the clock, as a broker's would.
  fake.clock = clock;
  const coordinator = new FakeCoordinator(fake.addressOf(1));
  const samsa = new Samsa({
    brokers: [fake.addressOf(1)],
    connectionFactory: fake.connectionFactory,
    groupsConnectionFactory: coordinator.connection,
    clock,
    random: seededRandom(1),
    retry: { retries: 2, initialRetryTimeMs: 10, jitter: 0 },
  });
  const events: string[] = [];
  const names = (tps: TopicPartition[]) => tps.map((tp) => `${tp.topic}-${tp.partition}`).join(',');
  const consumer = samsa.consumer({
    groupId: 'g',
    value: serdes.string,
    autoOffsetReset: 'earliest',
    partitionAssignors: ['range'],
    heartbeatIntervalMs: 1_000,
    sessionTimeoutMs: 10_000,
    autoCommitIntervalMs: 5_000,
    maxPollIntervalMs: options.maxPollIntervalMs ?? 60_000,
    ...options,
    rebalanceListener: {
      assigned: (tps) => {
        events.push(`assigned ${names(tps)}`);
      },
      revoked: (tps) => {
        events.push(`revoked ${names(tps)}`);
      },
      lost: (tps) => {
        events.push(`lost ${names(tps)}`);
      },
    },
  });
  consumer.subscribe('t');
  /** poll() with the manual clock moving until it resolves (bounded). */
  const poll = async () => {
    const p = consumer.poll({ maxWaitMs: 100 });
    let done = false;
    void p.finally(() => {
      done = true;
    });
    for (let i = 0; i < 50 && !done; i++) await clock.advance(10);
    return p;
  };
  return { fake, clock, coordinator, samsa, consumer, events, poll };
}

/** Moves the manual clock in 10 ms steps until `done()` (at most `steps` steps); says whether it got there. */
export async function advanceUntil(clock: ManualClock, done: () => boolean, steps = 500): Promise<boolean> {
  for (let i = 0; i < steps && !done(); i++) await clock.advance(10);
  return done();
}
