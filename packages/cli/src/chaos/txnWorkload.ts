/**
 * `samsa chaos --workload transactions`: consume-transform-produce workers with the SDK's
 * transactional producer (Kafka's TransactionManager, KIP-98) and read_committed group consumers
 * (KIP-447's consumerGroupMetadata fencing), as a Kafka Streams task or an exactly-once service
 * runs them. The input topic is written by the ordinary idempotent workload (workload.ts); each
 * worker polls it, writes one output record per input record to the same partition of the output
 * topic, sends the input offsets with the transaction and commits, or (every tenth of the
 * time) aborts on purpose and rewinds. A read_committed reader reads the output all along, and
 * after healing the output is drained twice: read_committed (what must be exactly once) and
 * read_uncommitted (the whole log, aborted records included). txnChecker.ts judges the history.
 */
import { Samsa, isRetriable, serdes, type Consumer, type GroupConsumer, type Producer, type TopicPartition } from '@samsa/client';
import { encodeTransformed, type History, type OutputReadEvent } from './history.js';
import { errorLabel } from './workload.js';

/** The transform group and its workers' transactional ids (`<group>-<worker>`). */
export const TRANSFORM_GROUP = 'chaos-transform';
/** Short, so a transaction a killed worker or broker left open is aborted within the run. */
export const TRANSACTION_TIMEOUT_MS = 10_000;
/**
 * Every ABORT_EVERY-th transaction of a worker (its 4th, 14th, 24th, ...) is aborted on purpose, so
 * read_committed has aborted records to hide in every run long enough to matter.
 */
export const ABORT_EVERY = 10;
/** At most this many input records per transaction (the consumer's maxPollRecords). */
export const MAX_RECORDS_PER_TRANSACTION = 100;

export interface TransformOptions {
  bootstrap: string[];
  input: string;
  output: string;
  workers: number;
  /** The group session timeout; heartbeats every third of it. */
  sessionTimeoutMs: number;
  history: History;
  onRebalance?: (member: string, change: 'assigned' | 'revoked' | 'lost', partitions: number[]) => void;
}

type Member = GroupConsumer<string | null, string | null>;
type TxnProducer = Producer<string | null, string | null>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or undefined after `ms`: close() of a client in trouble must not hold the harness. */
async function bounded<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.catch(() => undefined),
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class TransformWorkers {
  private readonly clients: Samsa[] = [];
  private readonly loops: Promise<void>[] = [];
  private stopping = false;
  /** Failed steps (a fault): each ends the worker's producer and rewinds it to the committed offsets. */
  errors = 0;
  /** Fresh producers of a transactional id after a failure (each fences its predecessor). */
  producersReplaced = 0;
  consumersReplaced = 0;

  constructor(private readonly o: TransformOptions) {}

  start(): void {
    for (let i = 0; i < this.o.workers; i++) {
      const client = new Samsa({
        brokers: this.o.bootstrap,
        clientId: `chaos-transform-${i}`,
        requestTimeoutMs: 5_000,
        retry: { retries: 10, initialRetryTimeMs: 50, maxRetryTimeMs: 1_000 },
      });
      this.clients.push(client);
      this.loops.push(this.runWorker(i, client));
    }
  }

  private consumer(i: number, client: Samsa): Member {
    const tell = (change: 'assigned' | 'revoked' | 'lost') => (tps: TopicPartition[]) => {
      if (tps.length > 0)
        this.o.onRebalance?.(
          consumer.groupMetadata().memberId || `chaos-transform-${i}`,
          change,
          tps.map((tp) => tp.partition).sort((a, b) => a - b),
        );
    };
    const consumer: Member = client.consumer({
      groupId: TRANSFORM_GROUP,
      key: serdes.string,
      value: serdes.string,
      isolationLevel: 'read_committed',
      autoCommit: false,
      autoOffsetReset: 'earliest',
      partitionAssignors: ['cooperative-sticky'],
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      heartbeatIntervalMs: Math.max(1, Math.floor(this.o.sessionTimeoutMs / 3)),
      maxPollIntervalMs: 30_000,
      fetchMaxWaitMs: 300,
      // Transactions of at most this many records: many transactions per run, each a chance for a fault to land inside it.
      maxPollRecords: MAX_RECORDS_PER_TRANSACTION,
      rebalanceListener: { assigned: tell('assigned'), revoked: tell('revoked'), lost: tell('lost') },
    });
    consumer.subscribe([this.o.input]);
    return consumer;
  }

  /**
   * Positions back to what the group committed, for every partition the member owns: after a
   * failure the worker's consumed-but-not-committed records must be read again (Kafka's
   * consume-transform-produce loop does the same after abortTransaction).
   */
  private async rewind(consumer: Member): Promise<void> {
    const owned = consumer.assignment();
    if (owned.length === 0) return;
    const committed = await consumer.committedOffsets(owned);
    for (const tp of owned) {
      const offset = committed.get(`${tp.topic}-${tp.partition}`);
      await consumer.seek({ ...tp, offset: offset !== undefined && offset >= 0n ? offset : 0n });
    }
  }

  private async runWorker(i: number, client: Samsa): Promise<void> {
    const { history, input, output } = this.o;
    let consumer = this.consumer(i, client);
    let producer: TxnProducer | undefined;
    let consumerFailures = 0;
    for (let n = 0; !this.stopping; ) {
      let txn: string | undefined;
      let intent: 'commit' | 'abort' = 'commit';
      let step = 'poll';
      try {
        if (!producer) {
          step = 'init';
          producer = client.producer({
            key: serdes.string,
            value: serdes.string,
            transactionalId: `${TRANSFORM_GROUP}-${i}`,
            transactionTimeoutMs: TRANSACTION_TIMEOUT_MS,
            lingerMs: 5,
            timeoutMs: 5_000,
            deliveryTimeoutMs: 30_000,
          });
          // Fences every older producer of this id and completes or aborts its open transaction,
          // so the offsets the group holds afterwards are final: rewind to them.
          await producer.initTransactions();
          await this.rewind(consumer);
        }
        step = 'poll';
        const records = await consumer.poll({ maxWaitMs: 300 });
        consumerFailures = 0;
        if (records.length === 0 || this.stopping) continue;
        intent = n % ABORT_EVERY === 3 ? 'abort' : 'commit';
        txn = `w${i}-${n++}`;
        history.log({ type: 'txn', worker: i, txn, phase: 'begin', intent });
        step = 'transaction';
        producer.beginTransaction();
        const byPartition = new Map<number, typeof records>();
        for (const r of records) {
          let list = byPartition.get(r.partition);
          if (!list) byPartition.set(r.partition, (list = []));
          list.push(r);
        }
        const current = txn;
        await Promise.all(
          [...byPartition].map(async ([partition, list]) => {
            const values = list.map((r) => encodeTransformed({ src: `${r.partition}@${r.offset}`, v: r.value, txn: current }));
            const meta = await producer!.send({
              topic: output,
              messages: list.map((r, k) => ({ key: r.key, value: values[k]!, partition })),
            });
            meta.forEach((m, k) =>
              history.log({ type: 'txn-output', txn: current, value: values[k]!, partition: m.partition, offset: m.offset.toString() }),
            );
          }),
        );
        const offsets: Record<string, string> = {};
        for (const [partition, list] of byPartition) offsets[String(partition)] = String(list[list.length - 1]!.offset + 1n);
        history.log({ type: 'txn-offsets', txn, offsets });
        await producer.sendOffsetsToTransaction({
          consumerGroupMetadata: consumer.groupMetadata(),
          offsets: Object.entries(offsets).map(([partition, offset]) => ({
            topic: input,
            partition: Number(partition),
            offset: BigInt(offset),
          })),
        });
        if (intent === 'abort') {
          await producer.abortTransaction();
          history.log({ type: 'txn', worker: i, txn, phase: 'aborted' });
          // Read the batch again: the next transaction transforms it for good.
          for (const [partition, list] of byPartition) await consumer.seek({ topic: input, partition, offset: list[0]!.offset });
        } else {
          await producer.commitTransaction();
          history.log({ type: 'txn', worker: i, txn, phase: 'committed' });
        }
      } catch (err) {
        if (txn !== undefined)
          history.log({
            type: 'txn',
            worker: i,
            txn,
            phase: intent === 'abort' ? 'abort-failed' : 'commit-failed',
            error: `${step}: ${errorLabel(err)}`,
          });
        if (this.stopping) break;
        this.errors++;
        if (step === 'poll' && !isRetriable(err)) consumerFailures += 20;
        else if (step === 'poll') consumerFailures++;
        // The outcome of the transaction is unknown (a commit may have gone through): a fresh
        // producer of the same id resolves it and the worker rewinds to what the group committed.
        if (producer && step !== 'poll') {
          this.producersReplaced++;
          await bounded(producer.close(), 10_000);
          producer = undefined;
        }
        if (consumerFailures >= 20) {
          this.consumersReplaced++;
          consumerFailures = 0;
          await bounded(consumer.close(), 15_000);
          if (producer) await bounded(producer.close(), 10_000);
          producer = undefined;
          if (this.stopping) break;
          consumer = this.consumer(i, client);
        }
        await sleep(200);
      }
    }
    if (producer) await bounded(producer.close(), 10_000);
    await bounded(consumer.close(), 15_000);
  }

  /** Stops after the transaction in progress (each worker bounded) and closes the clients. */
  async stop(): Promise<void> {
    this.stopping = true;
    await bounded(Promise.all(this.loops), 90_000);
    await Promise.all(this.clients.map((c) => bounded(c.close(), 10_000)));
  }
}

/** A read_committed reader of the whole output topic during the run (assign(), from the start). */
export class CommittedOutputReader {
  private client: Samsa | undefined;
  private consumer: Consumer<string | null, string | null> | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  errors = 0;
  /** The highest offset read per partition. */
  readonly readUpTo = new Map<number, bigint>();

  constructor(
    private readonly bootstrap: string[],
    private readonly topic: string,
    private readonly partitions: number,
    private readonly history: History,
  ) {}

  start(): void {
    this.client = new Samsa({
      brokers: this.bootstrap,
      clientId: 'chaos-committed-reader',
      requestTimeoutMs: 10_000,
      retry: { initialRetryTimeMs: 50, maxRetryTimeMs: 1_000 },
    });
    const consumer = this.client.consumer({
      key: serdes.string,
      value: serdes.string,
      isolationLevel: 'read_committed',
      autoOffsetReset: 'earliest',
      maxWaitMs: 300,
    });
    this.consumer = consumer;
    consumer.assign(Array.from({ length: this.partitions }, (_, partition) => ({ topic: this.topic, partition })));
    this.loop = (async () => {
      while (!this.stopping) {
        try {
          for (const r of await consumer.poll({ maxWaitMs: 300 })) {
            if (r.offset > (this.readUpTo.get(r.partition) ?? -1n)) this.readUpTo.set(r.partition, r.offset);
            this.history.log({ type: 'out-read', reader: 'live', partition: r.partition, offset: r.offset.toString(), value: r.value });
          }
        } catch {
          this.errors++;
          await sleep(200);
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

/**
 * Reads every partition of the output topic from 0 to its high watermark with a fresh client:
 * read_committed (`drain`) or read_uncommitted (`uncommitted`). A read_committed consumer steps
 * over aborted records and markers, so its position reaches the high watermark once no
 * transaction is open. Bounded by `timeoutMs`; logs a `drain` event per partition (topic output)
 * for the read_committed pass.
 */
export async function drainOutput(
  bootstrap: string[],
  topic: string,
  partitions: number,
  reader: Exclude<OutputReadEvent['reader'], 'live'>,
  history: History,
  timeoutMs: number,
): Promise<void> {
  const client = new Samsa({
    brokers: bootstrap,
    clientId: `chaos-drain-${reader}`,
    requestTimeoutMs: 10_000,
    retry: { retries: 20, initialRetryTimeMs: 100, maxRetryTimeMs: 1_000 },
  });
  const deadline = Date.now() + timeoutMs;
  const ends = new Map<number, bigint>();
  const consumer = client.consumer({
    key: serdes.string,
    value: serdes.string,
    isolationLevel: reader === 'drain' ? 'read_committed' : 'read_uncommitted',
    autoOffsetReset: 'earliest',
    maxWaitMs: 200,
  });
  try {
    while (ends.size < partitions) {
      try {
        const offsets = await client.admin().listOffsets(
          topic,
          Array.from({ length: partitions }, (_, partition) => ({ partition, timestamp: 'latest' as const })),
        );
        for (const o of offsets) ends.set(o.partition, o.offset);
      } catch (err) {
        if (Date.now() >= deadline) throw new Error(`the ${reader} drain could not learn the high watermarks: ${(err as Error).message}`);
        await sleep(500);
      }
    }
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    for (let partition = 0; partition < partitions; partition++) await consumer.seek({ topic, partition, offset: 0n });
    const done = (p: number) => (consumer.position({ topic, partition: p }) ?? -1n) >= ends.get(p)!;
    while (Date.now() < deadline && ![...ends.keys()].every(done)) {
      try {
        for (const r of await consumer.poll({ maxWaitMs: 200 }))
          if (r.offset < ends.get(r.partition)!)
            history.log({ type: 'out-read', reader, partition: r.partition, offset: r.offset.toString(), value: r.value });
      } catch {
        await sleep(200);
      }
    }
    if (reader === 'drain')
      for (const [partition, hw] of ends)
        history.log({ type: 'drain', topic: 'output', partition, highWatermark: hw.toString(), complete: done(partition) });
  } finally {
    await consumer.close();
    await client.close();
  }
}

/** The transform group's committed offsets of the input topic (next record to read), by partition. */
export async function committedInputOffsets(bootstrap: string[], input: string): Promise<Map<number, bigint>> {
  const client = new Samsa({ brokers: bootstrap, clientId: 'chaos-offsets', requestTimeoutMs: 5_000, retry: { retries: 5 } });
  try {
    const offsets = await client.admin().fetchOffsets(TRANSFORM_GROUP, [input]);
    return new Map(offsets.filter((o) => o.topic === input && o.offset >= 0n).map((o) => [o.partition, o.offset]));
  } finally {
    await client.close();
  }
}
