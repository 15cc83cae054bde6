/**
 * `samsa cluster up`: a local cluster in the foreground. Until the controller quorum lands this is
 * one broker node whose metadata is kept locally; it prints the bootstrap-server line first, then
 * a status table, and stops gracefully on Ctrl-C or SIGTERM.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseInteger } from '../options.js';
import { runNode, stopOnSignals } from './node.js';

interface ClusterUpOptions {
  brokers: string;
  dataDir: string;
  basePort: string;
  host: string;
  logLevel: string;
}

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('run a local Samsa cluster');
  cluster
    .command('up')
    .description('start a local cluster in the foreground and print its bootstrap address')
    .option('--brokers <n>', 'number of brokers (1 until the controller quorum lands)', '1')
    .option('--data-dir <dir>', 'root of every node\'s data directory', './data')
    .option('--base-port <port>', 'first broker port', '9092')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--log-level <level>', 'node log level', 'warn')
    .action(async (opts: ClusterUpOptions) => {
      const brokers = parseInteger(opts.brokers, '--brokers', 1);
      if (brokers !== 1) throw new UsageError('multi-broker clusters need the controller quorum, which has not landed yet; use --brokers 1');
      const port = parseInteger(opts.basePort, '--base-port', 1);
      const dataDir = resolve(opts.dataDir, 'node-1');
      const node = await runNode({
        roles: 'broker', nodeId: '1', listen: `${opts.host}:${port}`, dataDir, logLevel: opts.logLevel,
      });
      process.stdout.write(`bootstrap-server: ${node.host}:${node.port}\n`);
      process.stdout.write(formatTable([
        ['NODE', 'ROLES', 'ADDRESS', 'PID', 'DATA DIR'],
        ['1', 'broker', `${node.host}:${node.port}`, String(process.pid), join(opts.dataDir, 'node-1')],
      ]));
      process.stdout.write('cluster is up; Ctrl-C stops it\n');
      stopOnSignals(() => node.close());
    });
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
