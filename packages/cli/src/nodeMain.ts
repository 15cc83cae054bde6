/**
 * `samsa node` on its own: the entry of the bundle's node.cjs (scripts/bundle.mjs), the file each
 * node of a cluster started from the bundle runs, loaded through V8's code cache by the bundle's
 * main.js (scripts/bundle-main.mjs). Under tsc's output nodes run main.ts, which reaches the same
 * registerNode.
 */
import { registerNode } from './commands/node.js';
import { newProgram, runProgram } from './program.js';

/** Runs `samsa node` with these arguments (process.argv's shape: node, script, 'node', flags...). */
export function main(argv: readonly string[]): Promise<void> {
  const program = newProgram();
  registerNode(program);
  return runProgram(program, argv);
}

/**
 * Loads both roles' packages without starting anything: what the build runs once to record V8's
 * code cache of every module a controller or a broker initialises at start-up.
 */
export async function loadRoles(): Promise<void> {
  await import('@samsa/controller');
  await import('@samsa/broker');
}
