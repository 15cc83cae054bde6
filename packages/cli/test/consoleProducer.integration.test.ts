/**
 * `samsa produce` as a Kafka user drives it: lines typed one at a time reach a consumer while the
 * producer is still reading stdin; bad lines are reported with their numbers and skipped while the
 * others are delivered; producer configs come from --producer-property and --producer.config.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { CLI, removeDir, runCliAsync, startNode, stopAll, stopProcess, tempDir, type NodeProcess } from './helpers/processes.js';

describe('samsa produce (console producer)', () => {
  let dataDir: string;
  let node: NodeProcess;
  let bootstrap: string[];

  beforeAll(async () => {
    dataDir = tempDir('console-producer');
    node = await startNode({ dataDir });
    bootstrap = ['--bootstrap-server', node.address];
  });

  afterAll(async () => {
    await stopAll();
    removeDir(dataDir);
  });

  it('delivers each line written one at a time through a pipe (the next only once the last arrived) while the pipe is still open', async () => {
    await runCliAsync(['topics', '--create', ...bootstrap, '--topic', 'typed', '--partitions', '1']);
    const consumer = spawn(
      process.execPath,
      [CLI, 'consume', ...bootstrap, '--topic', 'typed', '--from-beginning', '--timeout-ms', '120000'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let consumed = '';
    consumer.stdout.on('data', (d: Buffer) => {
      consumed += d.toString();
    });
    const producer = spawn(process.execPath, [CLI, 'produce', ...bootstrap, '--topic', 'typed'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let producerErr = '';
    producer.stderr.on('data', (d: Buffer) => {
      producerErr += d.toString();
    });
    try {
      for (let i = 1; i <= 4; i++) {
        producer.stdin.write(`typed line ${i}\n`);
        // Seen by the consumer before the producer's stdin ends, and before the next line is written.
        await waitFor(`line ${i} at the consumer`, () => consumed.split('\n').includes(`typed line ${i}`), 30_000);
        expect(producer.exitCode).toBeNull();
      }
      expect(consumed.trim().split('\n')).toEqual(['typed line 1', 'typed line 2', 'typed line 3', 'typed line 4']);
      const exited = new Promise<number | null>((resolve) => producer.once('exit', (code) => resolve(code)));
      producer.stdin.end();
      expect(await exited).toBe(0);
      expect(producerErr).toBe('');
    } finally {
      await stopProcess(producer, 'SIGKILL');
      await stopProcess(consumer, 'SIGTERM');
    }
  }, 120_000);

  it('skips a bad line in the middle with its line number on stderr, sends the others and exits 1', async () => {
    await runCliAsync(['topics', '--create', ...bootstrap, '--topic', 'mixed', '--partitions', '2']);
    const lines = ['k1:one', 'k2:two', 'no separator here', 'k3:three', `k4:${'x'.repeat(1_200_000)}`, 'k5:five'];
    const produced = await runCliAsync(
      ['produce', '--broker-list', node.address, '--topic', 'mixed', '--property', 'parse.key=true', '--property', 'key.separator=:'],
      { input: lines.join('\n') + '\n', timeoutMs: 60_000 },
    );
    expect(produced.status).toBe(1);
    const errors = produced.stderr.trim().split('\n');
    expect(errors).toEqual([
      'samsa: line 3: no key separator ":" in "no separator here" (skipped)',
      expect.stringMatching(
        /^samsa: line 5: MESSAGE_TOO_LARGE: a record of up to \d+ bytes \(with its batch header\) exceeds maxRequestSize 1048576 \(skipped\)$/,
      ),
      'samsa: 2 of 6 line(s) not sent',
    ]);
    const consumed = await runCliAsync([
      'consume',
      ...bootstrap,
      '--topic',
      'mixed',
      '--from-beginning',
      '--max-messages',
      '4',
      '--timeout-ms',
      '20000',
      '--property',
      'print.key=true',
      '--property',
      'key.separator=:',
    ]);
    expect(consumed.stdout.trim().split('\n').sort()).toEqual(['k1:one', 'k2:two', 'k3:three', 'k5:five']);
  }, 90_000);

  it('takes producer configs from --producer-property and --producer.config, and refuses unknown ones', async () => {
    await runCliAsync(['topics', '--create', ...bootstrap, '--topic', 'big', '--partitions', '1', '--config', 'max.message.bytes=4000000']);
    const big = `${'y'.repeat(2_000_000)}\n`;
    const refused = await runCliAsync(['produce', ...bootstrap, '--topic', 'big'], { input: big, timeoutMs: 60_000 });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('exceeds maxRequestSize 1048576');
    const raised = await runCliAsync(['produce', ...bootstrap, '--topic', 'big', '--producer-property', 'max.request.size=4194304'], {
      input: big,
      timeoutMs: 60_000,
    });
    expect(raised.stderr).toBe('');
    expect(raised.status).toBe(0);

    const config = join(dataDir, 'producer.properties');
    writeFileSync(
      config,
      `# a Kafka-style client config\nbootstrap.servers=${node.address}\nacks=all\nlinger.ms: 5\nclient.id=from-file\n`,
    );
    const fromFile = await runCliAsync(['produce', '--topic', 'big', '--producer.config', config], { input: 'small\n' });
    expect(fromFile.stderr).toBe('');
    expect(fromFile.status).toBe(0);
    const got = await runCliAsync([
      'consume',
      ...bootstrap,
      '--topic',
      'big',
      '--from-beginning',
      '--max-messages',
      '2',
      '--timeout-ms',
      '20000',
    ]);
    expect(got.stdout.split('\n').map((l) => l.length)).toEqual([2_000_000, 5, 0]);

    const unknown = await runCliAsync(['produce', ...bootstrap, '--topic', 'big', '--producer-property', 'linger.msec=5'], {
      input: 'x\n',
    });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/^samsa: unknown producer config 'linger.msec'/);
    const badProperty = await runCliAsync(['produce', ...bootstrap, '--topic', 'big', '--property', 'parse.kye=true'], { input: 'x\n' });
    expect(badProperty.status).toBe(2);
    expect(badProperty.stderr).toMatch(/^samsa: unknown --property parse.kye \(known: parse.key, /);
  }, 90_000);

  it('parses headers with parse.headers and keeps them for the consumer', async () => {
    await runCliAsync(['topics', '--create', ...bootstrap, '--topic', 'headed', '--partitions', '1']);
    const produced = await runCliAsync(
      ['produce', ...bootstrap, '--topic', 'headed', '--property', 'parse.headers=true', '--property', 'parse.key=true'],
      { input: 'source:web,trace:42\tk1\tv1\n\tk2\tv2\n' },
    );
    expect(produced.stderr).toBe('');
    expect(produced.status).toBe(0);
    const consumed = await runCliAsync([
      'consume',
      ...bootstrap,
      '--topic',
      'headed',
      '--from-beginning',
      '--max-messages',
      '2',
      '--timeout-ms',
      '20000',
      '--property',
      'print.headers=true',
      '--property',
      'print.key=true',
    ]);
    expect(consumed.stdout.trim().split('\n')).toEqual(['source:web,trace:42\tk1\tv1', 'NO_HEADERS\tk2\tv2']);
  }, 60_000);
});
