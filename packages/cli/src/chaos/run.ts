/**
 * One chaos run, start to verdict (the sequence in README.md): cluster, topic, workload, the
 * seeded nemeses one at a time, heal, drain, replica comparison, check, report.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionFor } from '@samsa/broker';
import { Samsa } from '@samsa/client';
import { checkHistory } from './checker.js';
import { ComposeCluster } from './composeDriver.js';
import type { ChaosNode, ClusterDriver } from './driver.js';
import { History } from './history.js';
import { ProcessCluster, waitUntil } from './processDriver.js';
import { compareReplicas } from './replicas.js';
import { perSecond, summaryTable, svgPlot, type Report, type RunInfo } from './report.js';
import { planNemeses, reassignmentTarget, type NemesisEvent, type NemesisType } from './schedule.js';
import { KAFKA_GROUP_READER_ASSIGNOR, KafkaGroupReader, KafkaWorkload, loadKafkaJs } from './kafkaWorkload.js';
import { checkTransactions } from './txnChecker.js';
import { CommittedOutputReader, TRANSFORM_GROUP, TransformWorkers, committedInputOffsets, drainOutput } from './txnWorkload.js';
import { AssignReader, GROUP_READER_ASSIGNOR, GroupReader, Workload, drain, type Reader } from './workload.js';

export const TOPIC = 'chaos';
export const PARTITIONS = 6;
export const GROUP_ID = 'chaos-readers';
/** The output topic of `--workload transactions` (its input is TOPIC). */
export const OUTPUT_TOPIC = 'chaos-out';

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  nemeses: NemesisType[];
  reportDir: string;
  idempotence: boolean;
  producers: number;
  ratePerSec: number;
  /** The command line, for the report. */
  command: string;
  /** Drive the docker compose cluster instead of processes. */
  compose?: { file: string; project?: string; bootstrap: string[]; dataDir: string };
  /** The network namespace this process runs in (created by the outer harness), enabling partitions. */
  netns?: string;
  /** Why there is no namespace, when partitions were asked for. */
  noPartitionReason?: string;
  sessionTimeoutMs: number;
  /** The live reader: a consumer group (default) or one consumer with assign(). */
  reader?: 'group' | 'assign';
  /** Members of the reader group. Default 2. */
  groupMembers?: number;
  /**
   * Who writes and reads: the Samsa SDK over gRPC (default) or KafkaJS over the Kafka listener
   * (idempotent acks=-1 producers, a KafkaJS consumer group; kafkaWorkload.ts).
   */
  workload?: 'sdk' | 'kafka' | 'transactions';
  /** Keep the node data directories after a passing run (they are always kept after a failing one). */
  keepData?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The reader group's session timeout: twice the brokers' (controller) session timeout, so when the
 * coordinator's broker is paused or cut off the controller fences it and a new coordinator loads
 * the group before the members' sessions run out (a coordinator move then costs no rebalance),
 * while a member that really is gone leaves within seconds.
 */
export function groupSessionTimeoutMs(brokerSessionTimeoutMs: number): number {
  return 2 * brokerSessionTimeoutMs;
}

/** Kafka's default group.min.session.timeout.ms: what compose brokers accept (their settings are not ours). */
const KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS = 6_000;

export async function runChaos(o: ChaosOptions, say: (line: string) => void): Promise<Report> {
  const started = Date.now();
  mkdirSync(o.reportDir, { recursive: true });
  const history = new History(join(o.reportDir, 'history.jsonl'));
  const notes: string[] = [];
  const stamp = () => `[${(history.elapsed() / 1000).toFixed(1).padStart(6)} s]`;
  const dataRoot = o.compose ? '' : mkdtempSync(join(tmpdir(), 'samsa-chaos-'));
  const groupSession = o.compose
    ? Math.max(KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS, groupSessionTimeoutMs(o.sessionTimeoutMs))
    : groupSessionTimeoutMs(o.sessionTimeoutMs);
  const driver: ClusterDriver = o.compose
    ? new ComposeCluster({ ...o.compose })
    : new ProcessCluster({
        dataRoot,
        logDir: join(o.reportDir, 'nodes'),
        heartbeatIntervalMs: 500,
        sessionTimeoutMs: o.sessionTimeoutMs,
        replicaLagTimeMaxMs: 3_000,
        groupMinSessionTimeoutMs: groupSession,
        groupInitialRebalanceDelayMs: 500,
        ...(o.netns ? { netns: o.netns } : {}),
        ...(o.noPartitionReason ? { noPartitionReason: o.noPartitionReason } : {}),
        diskFull: o.nemeses.includes('disk-full'),
      });
  const schedule = planNemeses({
    seed: o.seed,
    durationMs: o.durationMs,
    types: o.nemeses,
    brokers: 3,
    partitions: PARTITIONS,
    sessionTimeoutMs: o.sessionTimeoutMs,
  });
  say(`samsa chaos: seed ${o.seed}, ${o.durationMs / 1000} s, nemeses ${o.nemeses.join(',') || 'none'}; report in ${o.reportDir}`);
  if (o.nemeses.includes('partition') && !driver.partition.supported) {
    const line = `the partition nemesis is SKIPPED: ${driver.partition.reason}`;
    say(line);
    notes.push(line);
  }
  say(
    `schedule: ${schedule.map((e) => `${(e.atMs / 1000).toFixed(1)}s ${e.type}${e.target >= 0 ? ` broker-${e.target + 1}` : ''} for ${(e.holdMs / 1000).toFixed(1)}s`).join('; ') || '(none)'}`,
  );

  let failed = false;
  const onSignal = () => {
    say('interrupted: stopping the cluster');
    void driver.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const admin = () =>
    new Samsa({
      brokers: driver.bootstrap,
      clientId: 'chaos-admin',
      requestTimeoutMs: 3_000,
      retry: { retries: 10, initialRetryTimeMs: 100, maxRetryTimeMs: 1_000 },
    });
  const transactions = o.workload === 'transactions';
  const topics = transactions ? [TOPIC, OUTPUT_TOPIC] : [TOPIC];
  /** Each topic's replicas by partition, once every partition of every topic has a leader and a full ISR. */
  const fullIsr = async (timeoutMs: number): Promise<Map<string, Map<number, number[]>>> => {
    const samsa = admin();
    try {
      return await waitUntil(
        'every partition to have a leader and a full ISR',
        async () => {
          const described = await samsa.admin().describeTopics(topics);
          const full = described.every(
            (t) => t.partitions.length === PARTITIONS && t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length),
          );
          return full ? new Map(described.map((t) => [t.name, new Map(t.partitions.map((p) => [p.partition, p.replicas]))])) : undefined;
        },
        timeoutMs,
        300,
      );
    } finally {
      await samsa.close();
    }
  };

  try {
    await driver.start();
    for (const line of driver.describe()) say(`  ${line}`);
    const samsa = admin();
    try {
      await samsa
        .admin()
        .createTopics(
          topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } })),
        );
    } finally {
      await samsa.close();
    }
    await fullIsr(30_000);
    say(`${stamp()} cluster up, topic(s) ${topics.join(', ')} (${PARTITIONS} partitions, RF=3, min.insync.replicas=2); workload starts`);

    const kafkajs = o.workload === 'kafka' ? await loadKafkaJs() : undefined;
    const workload = kafkajs
      ? new KafkaWorkload(kafkajs, {
          bootstrap: driver.bootstrap,
          topic: TOPIC,
          partitions: PARTITIONS,
          producers: o.producers,
          ratePerSec: o.ratePerSec,
          keysPerProducer: 8,
          deliveryTimeoutMs: 60_000,
          history,
        })
      : new Workload({
          bootstrap: driver.bootstrap,
          topic: TOPIC,
          producers: o.producers,
          ratePerSec: o.ratePerSec,
          keysPerProducer: 8,
          idempotence: o.idempotence,
          deliveryTimeoutMs: 60_000,
          history,
        });
    const members = o.groupMembers ?? 2;
    const onRebalance = (member: string, change: 'assigned' | 'revoked' | 'lost', partitions: number[]) =>
      history.log({ type: 'rebalance', member, change, partitions });
    const transform = transactions
      ? new TransformWorkers({
          bootstrap: driver.bootstrap,
          input: TOPIC,
          output: OUTPUT_TOPIC,
          workers: members,
          sessionTimeoutMs: groupSession,
          history,
          onRebalance,
        })
      : undefined;
    const committedReader = transactions ? new CommittedOutputReader(driver.bootstrap, OUTPUT_TOPIC, PARTITIONS, history) : undefined;
    const reader: Reader =
      transform && committedReader
        ? {
            start: () => {
              transform.start();
              committedReader.start();
            },
            stop: async () => {
              await transform.stop();
              await committedReader.stop();
            },
            get errors() {
              return transform.errors + committedReader.errors;
            },
          }
        : o.reader === 'assign'
          ? new AssignReader(driver.bootstrap, TOPIC, PARTITIONS)
          : kafkajs
            ? new KafkaGroupReader(kafkajs, {
                bootstrap: driver.bootstrap,
                topic: TOPIC,
                groupId: GROUP_ID,
                members,
                sessionTimeoutMs: groupSession,
                onRebalance,
              })
            : new GroupReader({
                bootstrap: driver.bootstrap,
                topic: TOPIC,
                groupId: GROUP_ID,
                members,
                sessionTimeoutMs: groupSession,
                onRebalance,
              });
    const assignor = kafkajs ? KAFKA_GROUP_READER_ASSIGNOR : GROUP_READER_ASSIGNOR;
    // The transactions workload has no live reader of the input (its workers are judged by txnChecker.ts).
    if (!transactions)
      history.log(
        o.reader === 'assign'
          ? { type: 'reader', kind: 'assign' }
          : { type: 'reader', kind: 'group', groupId: GROUP_ID, members, assignor },
      );
    history.log({ type: 'phase', phase: 'workload-start' });
    const t0 = history.elapsed();
    await workload.start();
    // The highest offset the live reader got to, per partition: its catch-up at the end.
    const readUpTo = new Map<number, bigint>();
    reader.start((r) => {
      if (r.offset > (readUpTo.get(r.partition) ?? -1n)) readUpTo.set(r.partition, r.offset);
      history.log({
        type: 'read',
        reader: 'live',
        partition: r.partition,
        offset: r.offset.toString(),
        key: r.key,
        value: r.value,
        ...(r.member ? { member: r.member } : {}),
      });
    });

    for (const event of schedule) {
      const wait = t0 + event.atMs - history.elapsed();
      if (wait > 0) await sleep(wait);
      if (history.elapsed() + event.holdMs > t0 + o.durationMs) {
        history.log({
          type: 'nemesis',
          id: event.id,
          phase: 'skipped',
          nemesis: event.type,
          detail: 'no time left (an earlier fault ran long)',
        });
        say(`${stamp()} ${event.type}: skipped, no time left`);
        continue;
      }
      if (event.type === 'disk-full' && !driver.diskFull.supported) {
        history.log({
          type: 'nemesis',
          id: event.id,
          phase: 'skipped',
          nemesis: event.type,
          detail: driver.diskFull.reason ?? 'not supported',
        });
        say(`${stamp()} disk-full broker-${event.target + 1}: SKIPPED (${driver.diskFull.reason})`);
        await sleep(event.holdMs);
        continue;
      }
      if (event.type === 'partition' && !driver.partition.supported) {
        history.log({
          type: 'nemesis',
          id: event.id,
          phase: 'skipped',
          nemesis: event.type,
          detail: driver.partition.reason ?? 'not supported',
        });
        say(`${stamp()} partition broker-${event.target + 1}: SKIPPED (${driver.partition.reason})`);
        await sleep(event.holdMs);
        continue;
      }
      await runNemesis(driver, event, history, say, stamp, fullIsr, notes, admin, () => coordinatorNode(driver, transactions, admin));
    }
    const rest = t0 + o.durationMs - history.elapsed();
    if (rest > 0) await sleep(rest);
    history.log({ type: 'phase', phase: 'nemeses-end' });

    // Heal: undo anything left, then wait for a leader and a full ISR everywhere.
    await driver.heal();
    for (const b of driver.brokers) await driver.resume(b);
    for (const n of [...driver.controllers, ...driver.brokers])
      await driver.restart(n).catch((err: unknown) => notes.push(`restart ${n.name} while healing: ${(err as Error).message}`));
    let replicasOf = new Map<string, Map<number, number[]>>();
    try {
      replicasOf = await fullIsr(60_000);
      history.log({ type: 'phase', phase: 'healed' });
      say(`${stamp()} healed: every partition has a leader and a full ISR`);
    } catch (err) {
      notes.push(`the cluster did not heal: ${(err as Error).message}`);
      say(`${stamp()} the cluster did not heal within 60 s; checking anyway`);
      const every = new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, driver.brokers.map((b) => b.nodeId)]));
      replicasOf = new Map(topics.map((t) => [t, every]));
    }
    // Writes after healing show the cluster took writes again.
    await sleep(3_000);
    history.log({ type: 'phase', phase: 'workload-end' });
    await workload.stop();
    // Every acknowledged write is answered now: let the live reader get past the last one (bounded).
    const lastAcked = new Map<number, bigint>();
    for (const e of history.events)
      if (e.type === 'ack' && BigInt(e.offset) > (lastAcked.get(e.partition) ?? -1n)) lastAcked.set(e.partition, BigInt(e.offset));
    if (transactions) {
      // The workers must transform everything in the input: wait (bounded) until the group's
      // committed offsets reach the input's high watermarks.
      say(`${stamp()} workload stopped; waiting for the transform workers to commit offsets up to the end of the input`);
      const samsa = admin();
      try {
        const ends = new Map(
          (
            await samsa.admin().listOffsets(
              TOPIC,
              Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, timestamp: 'latest' as const })),
            )
          ).map((x) => [x.partition, x.offset]),
        );
        // Bounded twice: 5 min in all, and 60 s without the committed offsets moving (a loaded
        // machine makes transactions slow, not stuck; a stuck worker should not hold the run).
        const deadline = Date.now() + 300_000;
        let progress = { total: -1n, at: Date.now() };
        for (;;) {
          const committed = await committedInputOffsets(driver.bootstrap, TOPIC).catch(() => new Map<number, bigint>());
          if ([...ends].every(([p, end]) => end === 0n || (committed.get(p) ?? -1n) >= end)) break;
          const total = [...committed.values()].reduce((a, b) => a + b, 0n);
          if (total > progress.total) progress = { total, at: Date.now() };
          if (Date.now() - progress.at > 60_000) throw new Error('their committed offsets did not move for 60 s');
          if (Date.now() > deadline) throw new Error('still behind after 300 s');
          await sleep(1_000);
        }
      } catch (err) {
        notes.push(`the transform workers did not commit up to the end of the input: ${(err as Error).message}`);
      } finally {
        await samsa.close();
      }
    } else {
      const caughtUp = () => [...lastAcked].every(([p, offset]) => (readUpTo.get(p) ?? -1n) >= offset);
      say(`${stamp()} workload stopped; waiting for the live reader to read past the last acknowledged offsets`);
      await waitUntil('the live reader to catch up', caughtUp, 60_000, 200).catch(() => {
        notes.push(`the live reader did not read up to the last acknowledged offset of every partition within 60 s`);
      });
    }
    await reader.stop();
    if (transform) {
      const committed = await committedInputOffsets(driver.bootstrap, TOPIC).catch((err: unknown) => {
        notes.push(`could not fetch the transform group's committed offsets: ${(err as Error).message}`);
        return undefined;
      });
      if (committed)
        history.log({ type: 'group-offsets', offsets: Object.fromEntries([...committed].map(([p, o]) => [String(p), o.toString()])) });
      if (transform.producersReplaced > 0 || transform.consumersReplaced > 0)
        notes.push(
          `transform workers: ${transform.errors} failed step(s), ${transform.producersReplaced} producer(s) replaced (fencing the old one), ${transform.consumersReplaced} consumer(s) replaced`,
        );
    }
    if (workload instanceof KafkaWorkload && workload.replaced > 0)
      notes.push(`${workload.replaced} KafkaJS producer(s) replaced by a fresh producer id after a failed send`);
    if (reader.errors > 0)
      notes.push(
        `the live reader's poll failed ${reader.errors} time(s) (it retried${(reader instanceof GroupReader || reader instanceof KafkaGroupReader) && reader.replaced > 0 ? `; ${reader.replaced} member(s) replaced` : ''})`,
      );
    say(`${stamp()} draining every partition to its high watermark`);
    await drain(driver.bootstrap, TOPIC, PARTITIONS, history, 60_000);
    const highWatermarks = new Map<number, bigint>();
    for (const e of history.events)
      if (e.type === 'drain' && e.topic === undefined && e.complete) highWatermarks.set(e.partition, BigInt(e.highWatermark));
    if (transactions) {
      say(`${stamp()} draining ${OUTPUT_TOPIC} read_committed and read_uncommitted`);
      await drainOutput(driver.bootstrap, OUTPUT_TOPIC, PARTITIONS, 'drain', history, 60_000);
      await drainOutput(driver.bootstrap, OUTPUT_TOPIC, PARTITIONS, 'uncommitted', history, 60_000);
    }
    say(`${stamp()} comparing replica logs below the high watermark`);
    await compareReplicas(driver, TOPIC, replicasOf.get(TOPIC)!, highWatermarks, history, 30_000);
    if (transactions) {
      const outputEnds = new Map<number, bigint>();
      for (const e of history.events)
        if (e.type === 'drain' && e.topic === 'output' && e.complete) outputEnds.set(e.partition, BigInt(e.highWatermark));
      await compareReplicas(driver, OUTPUT_TOPIC, replicasOf.get(OUTPUT_TOPIC)!, outputEnds, history, 30_000);
    }
  } catch (err) {
    failed = true;
    notes.push(`the run stopped early: ${(err as Error).message}`);
    say(`${stamp()} the run stopped early: ${(err as Error).message}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await driver.stop().catch((err: unknown) => notes.push(`stopping the cluster: ${(err as Error).message}`));
    history.close();
  }

  const crashes = driver.unexpectedExits();
  for (const c of crashes) notes.push(`CRASH: ${c}`);
  const result = checkHistory(history.events, { idempotence: o.workload !== 'sdk' || o.idempotence });
  if (transactions) {
    const txn = checkTransactions(history.events);
    result.transactions = txn;
    result.violations += txn.violations;
    result.ok = result.ok && txn.ok;
  }
  // A run that stopped early, or a node that died without a nemesis, has no trustworthy verdict.
  if (failed || crashes.length > 0) result.ok = false;
  if (dataRoot) {
    if (result.ok && !o.keepData) rmSync(dataRoot, { recursive: true, force: true });
    else notes.push(`node data kept in ${dataRoot}`);
  }
  const run: RunInfo = {
    seed: o.seed,
    command: o.command,
    durationMs: o.durationMs,
    nemeses: o.nemeses,
    cluster: o.compose
      ? `docker compose (${o.compose.file})`
      : `processes, 3 controllers + 3 brokers${o.netns ? ` in network namespace ${o.netns}` : ''}`,
    idempotence: o.workload !== 'sdk' ? true : o.idempotence,
    workload: transactions
      ? `consume-transform-produce over gRPC: ${o.producers} idempotent acks=-1 producer(s) write ${TOPIC} at ${o.ratePerSec} records/s; ${o.groupMembers ?? 2} transactional worker(s) (group ${TRANSFORM_GROUP}, read_committed) write ${OUTPUT_TOPIC}`
      : o.workload === 'kafka'
        ? `KafkaJS over the Kafka listener: ${o.producers} idempotent acks=-1 producer(s), ${o.ratePerSec} records/s`
        : `Samsa SDK over gRPC: ${o.producers} acks=-1 producer(s)${o.idempotence ? ', idempotent' : ''}, ${o.ratePerSec} records/s`,
    reader: transactions
      ? `a read_committed assign() reader of ${OUTPUT_TOPIC}; drains of ${OUTPUT_TOPIC} read_committed and read_uncommitted`
      : o.reader === 'assign'
        ? 'one consumer with assign() over every partition'
        : `${o.workload === 'kafka' ? 'KafkaJS ' : ''}consumer group ${GROUP_ID}, ${o.groupMembers ?? 2} members, ${o.workload === 'kafka' ? KAFKA_GROUP_READER_ASSIGNOR : GROUP_READER_ASSIGNOR}, auto-commit, session ${groupSession} ms`,
    partition: driver.partition,
    schedule,
    elapsedMs: Date.now() - started,
    notes,
  };
  const report: Report = { run, result, series: perSecond(history.events) };
  writeFileSync(join(o.reportDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(o.reportDir, 'report.svg'), svgPlot(report, history.events));
  const table = summaryTable(report);
  writeFileSync(join(o.reportDir, 'summary.txt'), table);
  return report;
}

async function runNemesis(
  driver: ClusterDriver,
  event: NemesisEvent,
  history: History,
  say: (line: string) => void,
  stamp: () => string,
  fullIsr: (timeoutMs: number) => Promise<unknown>,
  notes: string[],
  admin: () => Samsa,
  coordinator: () => Promise<ChaosNode>,
): Promise<void> {
  let node: ChaosNode | undefined = event.target >= 0 ? driver.brokers[event.target] : undefined;
  const hold = (event.holdMs / 1000).toFixed(1);
  try {
    if (event.type === 'controller-kill') node = await driver.activeController();
    if (event.type === 'coordinator-kill') node = await coordinator();
    history.log({ type: 'nemesis', id: event.id, phase: 'start', nemesis: event.type, ...(node ? { node: node.name } : {}) });
    say(`${stamp()} ${event.type}${node ? ` ${node.name}` : ''}${event.type === 'rolling-restart' ? '' : ` for ${hold} s`}`);
    switch (event.type) {
      case 'kill':
      case 'controller-kill':
      case 'coordinator-kill':
        await driver.kill(node!);
        await sleep(event.holdMs);
        await driver.restart(node!);
        break;
      case 'pause':
        await driver.pause(node!);
        await sleep(event.holdMs);
        await driver.resume(node!);
        break;
      case 'partition':
        await driver.isolate(node!);
        await sleep(event.holdMs);
        await driver.heal();
        break;
      case 'reassign':
        await reassignAndBack(driver, event, node!, admin, say, stamp, notes);
        break;
      case 'disk-full':
        await driver.fillDisk(node!);
        await sleep(event.holdMs);
        await driver.freeDisk(node!);
        // Its log directory went offline: as in Kafka, only a restart brings it back.
        await driver.gracefulRestart(node!);
        break;
      case 'rolling-restart':
        for (const b of driver.brokers) {
          say(`${stamp()}   restarting ${b.name} (SIGTERM)`);
          await driver.gracefulRestart(b);
          // Like an operator: the next broker only once this one is back in every ISR.
          await fullIsr(30_000).catch(() => notes.push(`rolling restart: ISR not full after restarting ${b.name}`));
        }
        break;
    }
    history.log({ type: 'nemesis', id: event.id, phase: 'end', nemesis: event.type, ...(node ? { node: node.name } : {}) });
    say(`${stamp()} ${event.type}${node ? ` ${node.name}` : ''} ended`);
  } catch (err) {
    const message = (err as Error).message;
    notes.push(`${event.type}${node ? ` ${node.name}` : ''}: ${message}`);
    say(`${stamp()} ${event.type}: ${message}; undoing it`);
    await driver.heal().catch(() => undefined);
    if (node) {
      await driver.resume(node).catch(() => undefined);
      await driver.restart(node).catch(() => undefined);
    }
    history.log({
      type: 'nemesis',
      id: event.id,
      phase: 'end',
      nemesis: event.type,
      ...(node ? { node: node.name } : {}),
      detail: `error: ${message}`,
    });
  }
}

/** Partition reassignments settle within this (the moved replica catches up from nothing). */
const REASSIGNMENT_TIMEOUT_MS = 60_000;

/**
 * The reassign nemesis: moves `victim`'s replica of one partition away with
 * AlterPartitionReassignments (reassignmentTarget), waits for the move to complete, holds, then
 * moves it back to the original replicas and waits again. A move that does not complete in time
 * is noted (the next move, or the heal, finds it still running).
 */
async function reassignAndBack(
  driver: ClusterDriver,
  event: NemesisEvent,
  victim: ChaosNode,
  admin: () => Samsa,
  say: (line: string) => void,
  stamp: () => string,
  notes: string[],
): Promise<void> {
  const partition = event.partition ?? 0;
  const samsa = admin();
  try {
    const [t] = await samsa.admin().describeTopics([TOPIC]);
    const original = t!.partitions.find((p) => p.partition === partition)?.replicas ?? [];
    const target = reassignmentTarget(
      original,
      driver.brokers.map((b) => b.nodeId),
      victim.nodeId,
    );
    if (!target) {
      notes.push(`reassign: ${victim.name} holds no replica of ${TOPIC}-${partition}; nothing moved`);
      return;
    }
    const move = async (replicas: readonly number[], what: string) => {
      const [result] = await samsa.admin().alterPartitionReassignments([{ topic: TOPIC, partition, replicas }]);
      if (result!.errorCode !== 0) throw new Error(`${what}: refused (${result!.error?.message ?? result!.errorCode})`);
      say(`${stamp()}   ${what}: ${TOPIC}-${partition} [${original.join(',')}] -> [${replicas.join(',')}]`);
      await waitUntil(
        `the reassignment of ${TOPIC}-${partition} (${what}) to complete`,
        async () => (await samsa.admin().listPartitionReassignments({ partitions: [{ topic: TOPIC, partition }] })).length === 0,
        REASSIGNMENT_TIMEOUT_MS,
        300,
      );
    };
    await move(target, 'move away');
    await sleep(event.holdMs);
    await move(original, 'move back');
  } finally {
    await samsa.close();
  }
}

/** Kafka's transaction state topic, whose partition leaders are the transaction coordinators. */
const TRANSACTION_STATE_TOPIC = '__transaction_state';

/**
 * The coordinator-kill nemesis's target, resolved when it fires: the broker coordinating the first
 * transform worker's transactional id (`--workload transactions`), else the reader group's
 * coordinator. A transactional id's coordinator is the leader of its `__transaction_state`
 * partition (Utils.abs(id.hashCode) % partitions, what FindCoordinator key type 1 answers); it is
 * read from the topic's metadata rather than with DescribeTransactions, which knows the id only
 * once the worker's initTransactions got through (on a loaded machine, possibly after the first
 * fault is due). Retried (bounded, 30 s) while the topic is not there yet or has no leader.
 */
async function coordinatorNode(driver: ClusterDriver, transactions: boolean, admin: () => Samsa): Promise<ChaosNode> {
  const samsa = admin();
  try {
    const nodeId = transactions
      ? await waitUntil(
          `a leader for the transaction coordinator of ${TRANSFORM_GROUP}-0`,
          async () => {
            const [t] = await samsa
              .admin()
              .describeTopics([TRANSACTION_STATE_TOPIC])
              .catch(() => [undefined]);
            if (!t || t.partitions.length === 0) return undefined;
            const leader = t.partitions.find((p) => p.partition === partitionFor(`${TRANSFORM_GROUP}-0`, t.partitions.length))?.leader;
            return leader !== undefined && leader >= 0 ? leader : undefined;
          },
          30_000,
          500,
        )
      : (await samsa.admin().describeGroups([GROUP_ID]))[0]!.coordinator;
    const node = driver.brokers.find((b) => b.nodeId === nodeId);
    if (!node) throw new Error(`the coordinator is node ${nodeId}, not a broker of this cluster`);
    return node;
  } finally {
    await samsa.close();
  }
}
