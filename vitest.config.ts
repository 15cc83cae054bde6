import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = ['protocol', 'raft', 'controller', 'broker', 'client', 'connect', 'cli'];

// In the repo, tests import every @samsa/* package from its TypeScript source, so no build is
// needed to run unit tests. Multi-process tests (*.integration.test.ts) spawn the built CLI.
const alias = Object.fromEntries(
  packages.map((p) => [`@samsa/${p}`, fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url))]),
);

export default defineConfig({
  test: {
    projects: packages.map((name) => ({
      resolve: { alias },
      test: {
        name,
        root: `./packages/${name}`,
        include: ['test/**/*.test.ts'],
        testTimeout: 30_000,
        hookTimeout: 60_000,
      },
    })),
  },
});
