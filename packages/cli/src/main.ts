#!/usr/bin/env node
/** The `samsa` command. */
import { Command, CommanderError } from 'commander';
import { registerChaos } from './commands/chaos.js';
import { registerCluster } from './commands/cluster.js';
import { registerConfigs } from './commands/configs.js';
import { registerConnect } from './commands/connect.js';
import { registerConnectors } from './commands/connectors.js';
import { registerConsume } from './commands/consume.js';
import { registerGroups } from './commands/groups.js';
import { registerLeaderElection } from './commands/leaderElection.js';
import { registerNode } from './commands/node.js';
import { registerPerf } from './commands/perf.js';
import { registerProduce } from './commands/produce.js';
import { registerQuorum } from './commands/quorum.js';
import { registerTopics } from './commands/topics.js';
import { fail } from './errors.js';

const verbose = process.argv.includes('--verbose');
const program = new Command()
  .name('samsa')
  .description('Samsa: a replicated commit log in the tradition of Apache Kafka')
  .option('--verbose', 'print stack traces on errors')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerNode(program);
registerCluster(program);
registerTopics(program);
registerConfigs(program);
registerProduce(program);
registerConsume(program);
registerGroups(program);
registerPerf(program);
registerQuorum(program);
registerLeaderElection(program);
registerChaos(program);
registerConnect(program);
registerConnectors(program);

process.on('unhandledRejection', (err) => fail(err, verbose));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has already printed its one-line message (unknown flag, missing argument, --help).
    process.exit(err.exitCode);
  }
  fail(err, verbose);
}
