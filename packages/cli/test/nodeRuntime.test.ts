/**
 * Every launcher starts `samsa node` with the same V8 flags (nodeRuntime.ts): `samsa cluster up`
 * puts them in each node's command line, and the Dockerfile's entrypoint carries them too.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeRecords } from '../src/commands/cluster.js';
import { NODE_V8_FLAGS } from '../src/nodeRuntime.js';

describe('the V8 flags of a samsa node', () => {
  it('are flags this Node.js accepts', () => {
    expect(NODE_V8_FLAGS.length).toBeGreaterThan(0);
    const run = spawnSync(process.execPath, [...NODE_V8_FLAGS, '-e', '0'], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const bad = spawnSync(process.execPath, ['--initial-old-space-sise=128', '-e', '0'], { encoding: 'utf8', timeout: 20_000 });
    expect(bad.status).not.toBe(0); // a misspelt flag is refused, so the check above means something
  });

  it('come before the script in every node cluster up starts', () => {
    const records = nodeRecords(
      [{ name: 'broker-1', nodeId: 4, roles: 'broker', dataDir: '/tmp/x', brokerPort: 9092 }],
      '127.0.0.1',
      'info',
      '/cli.js',
      '/node',
    );
    expect(records[0]!.argv.slice(0, NODE_V8_FLAGS.length + 2)).toEqual(['/node', ...NODE_V8_FLAGS, '/cli.js']);
  });

  it('are in the Dockerfile entrypoint', () => {
    const dockerfile = readFileSync(new URL('../../../deploy/Dockerfile', import.meta.url), 'utf8');
    const entrypoint = dockerfile.split('\n').find((l) => l.startsWith('ENTRYPOINT'))!;
    for (const flag of NODE_V8_FLAGS) expect(entrypoint).toContain(`"${flag}"`);
  });
});
