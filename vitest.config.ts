import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = [
  'protocol',
  'metadata',
  'server',
  'kafka',
  'raft',
  'controller',
  'broker',
  'client',
  'registry',
  'streams',
  'connect',
  'console',
  'cli',
];

// In the repo, tests import every @samsa/* package from its TypeScript source, so no build is
// needed to run unit tests. @samsa/testkit (waitFor, port leases, manual timers) is test-only.
// A subpath export comes first: an alias matches its name and anything below it.
const alias = Object.fromEntries([
  ['@samsa/protocol/varint', fileURLToPath(new URL('./packages/protocol/src/varint.ts', import.meta.url))],
  ['@samsa/broker/config', fileURLToPath(new URL('./packages/broker/src/config.ts', import.meta.url))],
  ...[...packages, 'testkit'].map((p) => [`@samsa/${p}`, fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url))]),
]);

const INTEGRATION = 'test/**/*.integration.test.ts';

// Integration files at once. Their ports never collide (leased from @samsa/testkit), so more can
// run together on a machine with cores to spare; the default is one, because each file starts up
// to six node processes, and two such clusters on a loaded 2-core machine slow each other past
// their session and lag timeouts.
const integrationWorkers = Number(process.env.SAMSA_INTEGRATION_WORKERS ?? 1);

// Two kinds of project (run one with `node scripts/run-tests.mjs --project <name>`), run one kind
// after the other (sequence.groupOrder) so the process-spawning tests do not share the CPU with
// the unit tests:
// - `unit:<package>`: in-process tests, files in parallel worker threads (two at a time);
// - `integration`: the multi-process tests (*.integration.test.ts), which spawn the built CLI
//   (packages/cli/dist/main.js) as nodes on 127.0.0.1. Each file runs in its own forked worker,
//   one file at a time unless SAMSA_INTEGRATION_WORKERS says more.
export default defineConfig({
  test: {
    projects: [
      ...packages.map((name) => ({
        resolve: { alias },
        test: {
          name: `unit:${name}`,
          root: `./packages/${name}`,
          include: ['test/**/*.test.ts'],
          exclude: [INTEGRATION],
          pool: 'threads' as const,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      })),
      {
        resolve: { alias },
        test: {
          name: 'integration',
          // Every package's multi-process tests (each unit project excludes its own).
          root: '.',
          include: packages.map((p) => `packages/${p}/${INTEGRATION}`),
          pool: 'forks' as const,
          maxWorkers: integrationWorkers,
          sequence: { groupOrder: 1 },
          // A test that runs the CLI a few times spends seconds per process start on a loaded
          // machine (configs tests: 10 s alone, past 30 s under load); every wait inside is
          // bounded on its own, this limit only catches a hang.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
