// Small helpers the benchmark scripts share.
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const cli = join(root, 'packages/cli/dist/main.js');
/** The V8 flags every `samsa node` is started with (packages/cli/src/nodeRuntime.ts). */
export const { NODE_V8_FLAGS } = await import(join(root, 'packages/cli/dist/nodeRuntime.js'));

/** A numeric `--name N` flag of this script, or the fallback. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
  });
}
