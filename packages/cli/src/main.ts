#!/usr/bin/env node
/** The `samsa` command. */
import type { Command } from 'commander';
import { fail } from './errors.js';
import { newProgram, runProgram, VERSION } from './program.js';

// `--version` after any command too, as each of Kafka's tools takes it.
if (process.argv.slice(2).includes('--version')) {
  process.stdout.write(`${VERSION}\n`);
  process.exit(0);
}
const program = newProgram();

// Each command's module is loaded only when that command runs (all of them for --help or an
// unknown name): six `samsa node`s start at once under `cluster up`, and every one of them paid
// for the client, histogram and chaos modules it never uses.
const COMMANDS: Record<string, () => Promise<(p: Command) => void>> = {
  node: async () => (await import('./commands/node.js')).registerNode,
  cluster: async () => (await import('./commands/cluster.js')).registerCluster,
  topics: async () => (await import('./commands/topics.js')).registerTopics,
  configs: async () => (await import('./commands/configs.js')).registerConfigs,
  acls: async () => (await import('./commands/acls.js')).registerAcls,
  produce: async () => (await import('./commands/produce.js')).registerProduce,
  consume: async () => (await import('./commands/consume.js')).registerConsume,
  groups: async () => (await import('./commands/groups.js')).registerGroups,
  transactions: async () => (await import('./commands/transactions.js')).registerTransactions,
  perf: async () => (await import('./commands/perf.js')).registerPerf,
  quorum: async () => (await import('./commands/quorum.js')).registerQuorum,
  'leader-election': async () => (await import('./commands/leaderElection.js')).registerLeaderElection,
  chaos: async () => (await import('./commands/chaos.js')).registerChaos,
  'get-offsets': async () => (await import('./commands/getOffsets.js')).registerGetOffsets,
  'dump-log': async () => (await import('./commands/dumpLog.js')).registerDumpLog,
  'delete-records': async () => (await import('./commands/deleteRecords.js')).registerDeleteRecords,
  'log-dirs': async () => (await import('./commands/logDirs.js')).registerLogDirs,
  'reassign-partitions': async () => (await import('./commands/reassignPartitions.js')).registerReassignPartitions,
  // One module registers both `schemas` and `schema-registry`.
  'schema-registry': async () => (await import('./commands/schemaRegistry.js')).registerSchemaRegistry,
  schemas: async () => (await import('./commands/schemaRegistry.js')).registerSchemaRegistry,
  console: async () => (await import('./commands/console.js')).registerConsole,
  connect: async () => (await import('./commands/connect.js')).registerConnect,
  connectors: async () => (await import('./commands/connectors.js')).registerConnectors,
};
const named = process.argv.slice(2).find((a) => !a.startsWith('-'));
const commands =
  named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]!()] : Object.values(COMMANDS).map((load) => load());
// A set: one module may register several commands (schemas, schema-registry).
for (const register of new Set(await Promise.all(commands))) register(program);

// Kafka's tools take client security from their properties file (--command-config, --producer.config,
// --consumer.config: security.protocol, sasl.*, ssl.*); so does every client this command opens.
try {
  const { securityFromArgs } = await import('./clientSecurityArgs.js');
  const security = securityFromArgs(process.argv.slice(2));
  if (security) (await import('./client.js')).setClientSecurity(security);
} catch (err) {
  fail(err, process.argv.includes('--verbose'));
}

await runProgram(program, process.argv);
