/**
 * The chaos workload: acks=all producers writing unique, self-describing keyed values at a steady
 * rate, one `send()` per record so every record has its own outcome; a reader that reads every
 * partition all along; and the final drain that reads every partition from 0 to its high
 * watermark with a fresh client. Everything goes to the history.
 */
import { performance } from 'node:perf_hooks';
import {
  Samsa,
  SamsaError,
  isRetriable,
  serdes,
  type Consumer,
  type GroupConsumer,
  type Producer,
  type ProducerOptions,
  type TopicPartition,
} from '@samsa/client';
import { encodeValue, type History } from './history.js';

export interface WorkloadOptions {
  bootstrap: string[];
  topic: string;
  producers: number;
  /** Records per second over all producers. */
  ratePerSec: number;
  keysPerProducer: number;
  /** Producers run with enableIdempotence (the default; off only with --no-idempotence). */
  idempotence: boolean;
  deliveryTimeoutMs: number;
  history: History;
}

/** The error's Kafka name, and the client-side reason where there is one. */
export function errorLabel(err: unknown): string {
  if (err instanceof SamsaError) return err.name === 'DeliveryTimeoutError' ? `${err.errorName} (delivery timeout)` : err.errorName;
  return err instanceof Error ? err.name : 'unknown';
}

/** Records not yet answered, per producer, beyond which sending pauses (bounds memory in an outage). */
const MAX_OUTSTANDING = 5_000;

export class Workload {
  private readonly clients: Samsa[] = [];
  private readonly producers: Producer<string | null, string | null>[] = [];
  private readonly outstanding = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private readonly sent: number[] = [];
  private readonly inFlight: number[] = [];

  constructor(private readonly o: WorkloadOptions) {}

  start(): void {
    for (let i = 0; i < this.o.producers; i++) {
      const client = new Samsa({
        brokers: this.o.bootstrap,
        clientId: `chaos-producer-${i}`,
        requestTimeoutMs: 10_000,
        retry: { initialRetryTimeMs: 50, maxRetryTimeMs: 1_000 },
      });
      const options: ProducerOptions<string | null, string | null> & Record<string, unknown> = {
        key: serdes.string,
        value: serdes.string,
        acks: -1,
        // The broker's wait for the ISR: short, so a write to a cut-off leader fails over quickly.
        timeoutMs: 5_000,
        deliveryTimeoutMs: this.o.deliveryTimeoutMs,
        lingerMs: 5,
        // Without idempotence only one request in flight keeps a retried batch in order (Kafka's rule).
        maxInFlightRequests: this.o.idempotence ? 5 : 1,
      };
      options.enableIdempotence = this.o.idempotence;
      this.clients.push(client);
      this.producers.push(client.producer(options));
      this.sent.push(0);
      this.inFlight.push(0);
    }
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.tick(), 10);
  }

  private tick(): void {
    const elapsedS = (performance.now() - this.startedAt) / 1000;
    const perProducer = this.o.ratePerSec / this.o.producers;
    for (let p = 0; p < this.producers.length; p++) {
      const due = Math.floor(perProducer * elapsedS) - this.sent[p]!;
      for (let i = 0; i < due && this.inFlight[p]! < MAX_OUTSTANDING; i++) this.sendOne(p);
      // Behind because of backpressure: skip what was not sent, keep the steady rate from here.
      if (this.inFlight[p]! >= MAX_OUTSTANDING) this.sent[p] = Math.floor(perProducer * elapsedS);
    }
  }

  private sendOne(p: number): void {
    const seq = this.sent[p]!++;
    const key = `p${p}-k${seq % this.o.keysPerProducer}`;
    const value = encodeValue({ p, k: key, s: seq });
    const { history, topic } = this.o;
    history.log({ type: 'send', producer: p, key, value, seq });
    const t0 = performance.now();
    this.inFlight[p]!++;
    const done = this.producers[p]!.send({ topic, messages: [{ key, value }] })
      .then(
        ([meta]) => {
          history.log({
            type: 'ack',
            value,
            partition: meta!.partition,
            offset: meta!.offset.toString(),
            latencyMs: Math.round((performance.now() - t0) * 10) / 10,
          });
        },
        (err: unknown) => {
          history.log({
            type: 'fail',
            value,
            error: errorLabel(err),
            message: (err as Error)?.message ?? String(err),
            latencyMs: Math.round(performance.now() - t0),
          });
        },
      )
      .finally(() => {
        this.inFlight[p]!--;
        this.outstanding.delete(done);
      });
    this.outstanding.add(done);
  }

  /** Stops sending and waits (bounded by the delivery timeout) for every send to be answered. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.producers.map((p) => p.close(this.o.deliveryTimeoutMs + 5_000)));
    await Promise.allSettled([...this.outstanding]);
    await Promise.all(this.clients.map((c) => c.close()));
  }
}

export interface ReadRecord {
  partition: number;
  offset: bigint;
  key: string | null;
  value: string | null;
  /** The group member id that read it (GroupReader). */
  member?: string;
}

/**
 * Reads every partition of the topic from the beginning, for as long as it runs: a consumer group
 * (GroupReader, the default) or one consumer with assign() (AssignReader, `--reader assign`).
 */
export interface Reader {
  start(onRecord: (r: ReadRecord) => void): void;
  stop(): Promise<void>;
  /** Poll failures the reader retried (or recovered from), for the report's notes. */
  readonly errors: number;
}

export class AssignReader implements Reader {
  private client: Samsa | undefined;
  private consumer: Consumer<string | null, string | null> | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  errors = 0;

  constructor(
    private readonly bootstrap: string[],
    private readonly topic: string,
    private readonly partitions: number,
  ) {}

  start(onRecord: (r: ReadRecord) => void): void {
    this.client = new Samsa({
      brokers: this.bootstrap,
      clientId: 'chaos-reader',
      requestTimeoutMs: 10_000,
      retry: { initialRetryTimeMs: 50, maxRetryTimeMs: 1_000 },
    });
    const consumer = this.client.consumer({ key: serdes.string, value: serdes.string, autoOffsetReset: 'earliest', maxWaitMs: 300 });
    this.consumer = consumer;
    consumer.assign(Array.from({ length: this.partitions }, (_, partition) => ({ topic: this.topic, partition })));
    this.loop = (async () => {
      while (!this.stopping) {
        try {
          for (const r of await consumer.poll({ maxWaitMs: 300 }))
            onRecord({ partition: r.partition, offset: r.offset, key: r.key, value: r.value });
        } catch {
          // A fault the consumer does not retry itself: count it and go on reading.
          this.errors++;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.consumer?.close();
    await this.client?.close();
  }
}

export interface GroupReaderOptions {
  bootstrap: string[];
  topic: string;
  groupId: string;
  members: number;
  /** The group session timeout; heartbeats go every third of it. */
  sessionTimeoutMs: number;
  /** Tells the history about partitions assigned, revoked or lost per member. */
  onRebalance?: (member: string, change: 'assigned' | 'revoked' | 'lost', partitions: number[]) => void;
}

/** The assignor the group reader uses (why: README.md, "The consumer group reader"). */
export const GROUP_READER_ASSIGNOR = 'cooperative-sticky';

/** After this many poll failures in a row a member is replaced by a fresh one (bounded recovery). */
const MEMBER_FAILURES_BEFORE_REPLACING = 20;
/** close() of a member in trouble (coordinator unreachable) must not hold the harness. */
const MEMBER_CLOSE_TIMEOUT_MS = 15_000;

/**
 * A consumer group reading the whole topic: `members` group members, each with its own client,
 * subscribed to the topic, auto-commit on, starting at the earliest offset. Records are
 * at-least-once: after a rebalance the new owner starts at the last commit, so some records are
 * read twice (reported) but none may be skipped (judged: group read gaps).
 *
 * Faults must not end the reader: a poll that throws is counted and retried; a member whose polls
 * keep failing, or that hit an error the consumer does not retry (e.g. fenced for good), is closed
 * (bounded) and replaced by a fresh member of the same group, which resumes from the commits.
 */
export class GroupReader implements Reader {
  private readonly clients: Samsa[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly current: (GroupConsumer<string | null, string | null> | undefined)[] = [];
  private stopping = false;
  errors = 0;
  /** Members closed and replaced by a fresh one. */
  replaced = 0;

  constructor(private readonly o: GroupReaderOptions) {}

  start(onRecord: (r: ReadRecord) => void): void {
    for (let i = 0; i < this.o.members; i++) {
      const client = new Samsa({
        brokers: this.o.bootstrap,
        clientId: `chaos-reader-${i}`,
        requestTimeoutMs: 5_000,
        retry: { initialRetryTimeMs: 50, maxRetryTimeMs: 1_000 },
      });
      this.clients.push(client);
      this.current.push(undefined);
      this.loops.push(this.runMember(i, client, onRecord));
    }
  }

  private member(i: number, client: Samsa): GroupConsumer<string | null, string | null> {
    const label = (): string => consumer.groupMetadata().memberId || `chaos-reader-${i}`;
    const tell = (change: 'assigned' | 'revoked' | 'lost') => (tps: TopicPartition[]) => {
      if (tps.length > 0)
        this.o.onRebalance?.(
          label(),
          change,
          tps.map((tp) => tp.partition).sort((a, b) => a - b),
        );
    };
    const consumer = client.consumer({
      groupId: this.o.groupId,
      key: serdes.string,
      value: serdes.string,
      autoOffsetReset: 'earliest',
      partitionAssignors: [GROUP_READER_ASSIGNOR],
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      heartbeatIntervalMs: Math.max(1, Math.floor(this.o.sessionTimeoutMs / 3)),
      // Also the rebalance timeout: a member that is slow to rejoin holds the group this long at most.
      maxPollIntervalMs: 30_000,
      autoCommit: true,
      // Short, so a rebalance re-reads little.
      autoCommitIntervalMs: 1_000,
      fetchMaxWaitMs: 300,
      rebalanceListener: { assigned: tell('assigned'), revoked: tell('revoked'), lost: tell('lost') },
    });
    consumer.subscribe([this.o.topic]);
    return consumer;
  }

  private async runMember(i: number, client: Samsa, onRecord: (r: ReadRecord) => void): Promise<void> {
    let consumer = this.member(i, client);
    this.current[i] = consumer;
    let failures = 0;
    while (!this.stopping) {
      try {
        const records = await consumer.poll({ maxWaitMs: 300 });
        failures = 0;
        const member = consumer.groupMetadata().memberId;
        for (const r of records) onRecord({ partition: r.partition, offset: r.offset, key: r.key, value: r.value, member });
      } catch (err) {
        if (this.stopping) break;
        this.errors++;
        failures++;
        if (!isRetriable(err) || failures >= MEMBER_FAILURES_BEFORE_REPLACING) {
          this.replaced++;
          failures = 0;
          await closeBounded(consumer);
          if (this.stopping) break;
          consumer = this.member(i, client);
          this.current[i] = consumer;
        } else {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    // Members leave the group (committing what they read) one by one, each bounded.
    for (const c of this.current) if (c) await closeBounded(c);
    await Promise.all(this.clients.map((c) => c.close()));
  }
}

async function closeBounded(consumer: GroupConsumer<string | null, string | null>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    consumer.close().catch(() => undefined),
    new Promise<void>((r) => {
      timer = setTimeout(r, MEMBER_CLOSE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * The final drain: a fresh client reads every partition from offset 0 to its high watermark (as
 * its leader answers ListOffsets latest). Bounded by `timeoutMs`; a partition not read to its end
 * is logged as incomplete.
 */
export async function drain(bootstrap: string[], topic: string, partitions: number, history: History, timeoutMs: number): Promise<void> {
  const client = new Samsa({
    brokers: bootstrap,
    clientId: 'chaos-drain',
    requestTimeoutMs: 10_000,
    retry: { retries: 20, initialRetryTimeMs: 100, maxRetryTimeMs: 1_000 },
  });
  const deadline = Date.now() + timeoutMs;
  const ends = new Map<number, bigint>();
  const consumer = client.consumer({ key: serdes.string, value: serdes.string, autoOffsetReset: 'earliest', maxWaitMs: 200 });
  try {
    for (let attempt = 0; ends.size < partitions; attempt++) {
      try {
        const offsets = await client.admin().listOffsets(
          topic,
          Array.from({ length: partitions }, (_, partition) => ({ partition, timestamp: 'latest' as const })),
        );
        for (const o of offsets) ends.set(o.partition, o.offset);
      } catch (err) {
        if (Date.now() >= deadline) {
          for (let partition = 0; partition < partitions; partition++)
            history.log({ type: 'drain', partition, highWatermark: '-1', complete: false });
          throw new Error(`the drain could not learn the high watermarks: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    for (let partition = 0; partition < partitions; partition++) await consumer.seek({ topic, partition, offset: 0n });
    const done = (p: number) => (consumer.position({ topic, partition: p }) ?? -1n) >= ends.get(p)!;
    while (Date.now() < deadline && ![...ends.keys()].every(done)) {
      try {
        for (const r of await consumer.poll({ maxWaitMs: 200 })) {
          if (r.offset < ends.get(r.partition)!)
            history.log({ type: 'read', reader: 'drain', partition: r.partition, offset: r.offset.toString(), key: r.key, value: r.value });
        }
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    for (const [partition, hw] of ends) history.log({ type: 'drain', partition, highWatermark: hw.toString(), complete: done(partition) });
  } finally {
    await consumer.close();
    await client.close();
  }
}
