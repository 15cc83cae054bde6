/**
 * `samsa chaos`: the built-in chaos harness (packages/cli/src/chaos/README.md). Starts its own
 * cluster (or drives the docker compose one), runs an acks=all workload under a seeded schedule
 * of faults, then checks for lost writes, duplicates, inconsistent offsets, per-key reordering
 * and divergent replicas. Exits 1 on any violation and prints the seed that replays the schedule.
 */
import { randomInt } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { NETNS_ENV, createNetns, rerunInside } from '../chaos/netns.js';
import { summaryTable } from '../chaos/report.js';
import { runChaos } from '../chaos/run.js';
import { DEFAULT_NEMESES, NEMESIS_TYPES, parseNemeses } from '../chaos/schedule.js';
import { UsageError } from '../errors.js';
import { parseBootstrap, parseDurationMs, parseInteger } from '../options.js';

interface ChaosCommandOptions {
  duration: string;
  seed?: string;
  nemesis: string;
  compose?: boolean;
  composeFile: string;
  composeProject?: string;
  composeDataDir: string;
  bootstrapServer: string;
  report?: string;
  idempotence?: boolean;
  producers: string;
  rate: string;
  sessionTimeoutMs: string;
  reader: string;
  groupMembers: string;
  keepData?: boolean;
  workload: string;
}

export function registerChaos(program: Command): void {
  program
    .command('chaos')
    .description('run a workload under seeded faults and check that no acknowledged write is lost')
    .option('--duration <time>', 'how long the nemeses run (e.g. 60s, 2m)', '60s')
    .option('--seed <n>', 'seed of the nemesis schedule (default: random, printed)')
    .option('--nemesis <list>', `faults to inject, comma-separated: ${NEMESIS_TYPES.join(',')}`, DEFAULT_NEMESES.join(','))
    .option('--compose', 'drive the docker compose cluster (docker kill, pause, restart) instead of local processes')
    .option('--compose-file <file>', 'the compose file for --compose', 'deploy/docker-compose.yml')
    .option('--compose-project <name>', 'docker compose project name for --compose')
    .option('--compose-data-dir <dir>', "brokers' data directory inside their containers, for the replica comparison", '/data')
    .option('--bootstrap-server <list>', "the compose brokers' published addresses", '127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292')
    .option('--report <dir>', 'where history.jsonl, report.json, report.svg and node logs go (default ./chaos-report/seed-N-<time>)')
    .option('--no-idempotence', 'producers without idempotence (duplicates are then reported, not judged)')
    .option('--producers <n>', 'producers, each with its own client', '3')
    .option('--rate <n>', 'records per second over all producers', '300')
    .option('--session-timeout-ms <ms>', 'broker session timeout of the controllers (pause and partition outlast it)', '3000')
    .option(
      '--reader <kind>',
      'the live reader: group (a consumer group, group chaos-readers) or assign (one consumer with assign())',
      'group',
    )
    .option('--group-members <n>', 'members of the reader group (transactions: transform workers), each with its own client', '2')
    .option(
      '--workload <kind>',
      'who writes and reads: sdk (the Samsa SDK over gRPC), kafka (KafkaJS idempotent producers and a KafkaJS consumer group over the Kafka listener) or transactions (consume-transform-produce workers with SDK transactional producers and read_committed consumers, checked for exactly-once)',
      'sdk',
    )
    .option('--keep-data', 'keep the node data directories after a passing run')
    .action(async (opts: ChaosCommandOptions) => {
      const durationMs = parseDurationMs(opts.duration, '--duration');
      let nemeses;
      try {
        nemeses = parseNemeses(opts.nemesis);
      } catch (err) {
        throw new UsageError(`--nemesis: ${(err as Error).message}`);
      }
      const seed = opts.seed === undefined ? randomInt(1, 2 ** 31 - 1) : parseInteger(opts.seed, '--seed', 0);
      const producers = parseInteger(opts.producers, '--producers', 1);
      const ratePerSec = parseInteger(opts.rate, '--rate', 1);
      const sessionTimeoutMs = parseInteger(opts.sessionTimeoutMs, '--session-timeout-ms', 500);
      if (opts.reader !== 'group' && opts.reader !== 'assign')
        throw new UsageError(`--reader: expected group or assign, got '${opts.reader}'`);
      const groupMembers = parseInteger(opts.groupMembers, '--group-members', 1);
      if (opts.workload !== 'sdk' && opts.workload !== 'kafka' && opts.workload !== 'transactions')
        throw new UsageError(`--workload: expected sdk, kafka or transactions, got '${opts.workload}'`);
      if (opts.workload === 'transactions' && opts.idempotence === false)
        throw new UsageError(
          '--workload transactions writes its input with idempotent producers; --no-idempotence applies to the sdk workload only',
        );
      if (opts.workload === 'transactions' && opts.reader === 'assign')
        throw new UsageError(
          '--workload transactions reads its input with a consumer group of transform workers; --reader assign does not apply',
        );
      if (opts.workload === 'kafka' && opts.idempotence === false)
        throw new UsageError('--workload kafka runs idempotent KafkaJS producers; --no-idempotence applies to the sdk workload only');
      const argv = process.argv.slice(1);
      if (opts.seed === undefined) argv.push('--seed', String(seed));

      // Partitions need the whole run inside a network namespace of our own: re-run there.
      let noPartitionReason: string | undefined;
      const inside = process.env[NETNS_ENV];
      if (nemeses.includes('partition') && !opts.compose && !inside) {
        const name = `samsa-chaos-${process.pid}`;
        const ns = createNetns(name);
        if (ns.ok) {
          process.stdout.write(`running inside network namespace ${name} (for the partition nemesis)\n`);
          process.exitCode = await rerunInside(name, argv);
          return;
        }
        noPartitionReason = ns.reason;
      }

      const reportDir = resolve(opts.report ?? join('chaos-report', `seed-${seed}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
      const command = `samsa ${argv.slice(1).join(' ')}`;
      const report = await runChaos(
        {
          seed,
          durationMs,
          nemeses,
          reportDir,
          idempotence: opts.idempotence ?? true,
          producers,
          ratePerSec,
          command,
          sessionTimeoutMs,
          reader: opts.reader,
          groupMembers,
          keepData: opts.keepData ?? false,
          workload: opts.workload as 'sdk' | 'kafka' | 'transactions',
          ...(opts.compose
            ? {
                compose: {
                  file: resolve(opts.composeFile),
                  ...(opts.composeProject ? { project: opts.composeProject } : {}),
                  bootstrap: parseBootstrap(opts.bootstrapServer),
                  dataDir: opts.composeDataDir,
                },
              }
            : {}),
          ...(inside ? { netns: inside } : {}),
          ...(noPartitionReason ? { noPartitionReason } : {}),
        },
        (line) => process.stdout.write(line + '\n'),
      );
      process.stdout.write(
        '\n' + summaryTable(report) + `report: ${reportDir} (summary.txt, report.json, report.svg, history.jsonl, nodes/)\n`,
      );
      process.exitCode = report.result.ok ? 0 : 1;
    });
}
