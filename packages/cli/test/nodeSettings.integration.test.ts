/**
 * `samsa node` settings as a real process: a bad key or value stops it before it starts, with one
 * sentence naming the key and where it came from; settings from a file and the environment take
 * effect with env over file; named listeners answer Metadata with the address of the listener the
 * request came in on.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetadataResponse__Output } from '@samsa/protocol';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { clientConnection } from './helpers/cluster.js';
import { CLI, freePort, removeDir, runCliAsync, startNode, stopAll, tempDir } from './helpers/processes.js';
import { RawKafkaConnection } from './helpers/kafkaWire.js';

const dirs: string[] = [];
afterEach(async () => {
  await stopAll();
});
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

function dir(): string {
  const d = tempDir('settings');
  dirs.push(d);
  return d;
}

/** Runs `samsa node` expecting it to refuse to start (bounded: it must exit, not serve). */
function refused(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, 'node', ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    killSignal: 'SIGKILL',
    env: { ...process.env, ...env },
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('samsa node settings', () => {
  it('stops at once on an unknown key in the config file, a bad env value, or an unknown SAMSA_ variable', async () => {
    const d = dir();
    const port = await freePort();
    const config = join(d, 'node.properties');
    writeFileSync(
      config,
      `node.id=1\ncontroller.quorum.voters=1@127.0.0.1:${port}\nprocess.roles=broker,controller\nlog.retention.hours=1\n`,
    );
    const unknownKey = refused(['--config', config, '--data-dir', d]);
    expect(unknownKey.status).toBe(2);
    expect(unknownKey.stderr).toBe(`samsa: unknown setting 'log.retention.hours' (${config} line 4)\n`);
    expect(unknownKey.stdout).toBe('');

    writeFileSync(config, `node.id=1\ncontroller.quorum.voters=1@127.0.0.1:${port}\n`);
    const badEnv = refused(['--config', config, '--data-dir', d], { SAMSA_LOG_RETENTION_MS: 'a week' });
    expect(badEnv.status).toBe(2);
    expect(badEnv.stderr).toBe(
      "samsa: log.retention.ms: must be an integer, got 'a week' (from environment variable SAMSA_LOG_RETENTION_MS)\n",
    );

    const unknownEnv = refused(['--config', config, '--data-dir', d], { SAMSA_RETENTION_MS: '1000' });
    expect(unknownEnv.status).toBe(2);
    expect(unknownEnv.stderr).toContain('unknown environment variable SAMSA_RETENTION_MS');
  });

  it('starts with settings from a file and the environment, env winning, and applies the broker topic defaults', async () => {
    const d = dir();
    const config = join(d, 'node.properties');
    writeFileSync(config, '# broker defaults\nlog.retention.ms=60000\nmin.insync.replicas=3\nlog.segment.bytes=1048576\n');
    const prev = process.env['SAMSA_MIN_INSYNC_REPLICAS'];
    process.env['SAMSA_MIN_INSYNC_REPLICAS'] = '1';
    let node;
    try {
      node = await startNode({ dataDir: join(d, 'n'), extraArgs: ['--config', config, '--log-segment-bytes', '2097152'] });
    } finally {
      if (prev === undefined) delete process.env['SAMSA_MIN_INSYNC_REPLICAS'];
      else process.env['SAMSA_MIN_INSYNC_REPLICAS'] = prev;
    }
    const bootstrap = ['--bootstrap-server', node.address];
    expect(
      (await runCliAsync(['topics', '--create', ...bootstrap, '--topic', 't', '--partitions', '1', '--replication-factor', '1'])).status,
    ).toBe(0);
    const described = await runCliAsync(['configs', ...bootstrap, '--entity-type', 'topics', '--entity-name', 't', '--describe', '--all']);
    expect(described.status).toBe(0);
    expect(described.stdout).toContain(
      '  retention.ms=60000 sensitive=false synonyms={STATIC_BROKER_CONFIG:retention.ms=60000, DEFAULT_CONFIG:retention.ms=604800000}',
    );
    // env (1) over file (3): acks=all with one replica goes through.
    expect(described.stdout).toContain('  min.insync.replicas=1 sensitive=false synonyms={DEFAULT_CONFIG:min.insync.replicas=1}');
    // flag over file.
    expect(described.stdout).toContain('  segment.bytes=2097152 sensitive=false synonyms={STATIC_BROKER_CONFIG:segment.bytes=2097152,');
    const produced = await runCliAsync(['produce', ...bootstrap, '--topic', 't', '--request-required-acks', 'all'], { input: 'x\n' });
    expect(produced.stderr).toBe('');
    expect(produced.status).toBe(0);
  });

  it('answers Metadata with the advertised address of the listener the request arrived on', async () => {
    const d = dir();
    const [internal, external] = [await freePort(), await freePort()];
    // startNode passes --listen 127.0.0.1:PORT; a later --listen (commander keeps the last) names both listeners.
    const node = await startNode({
      dataDir: join(d, 'n'),
      port: internal,
      extraArgs: [
        '--listen',
        `INTERNAL://127.0.0.1:${internal},EXTERNAL://127.0.0.1:${external}`,
        '--advertised-listener',
        `INTERNAL://broker-1.internal:${internal},EXTERNAL://127.0.0.1:${external}`,
      ],
    });
    const ask = (port: number) =>
      new Promise<MetadataResponse__Output>((resolve, reject) => {
        const client = clientConnection(`127.0.0.1:${port}`);
        client.Metadata({ topics: [], allTopics: false }, { deadline: Date.now() + 10_000 }, (err, res) => {
          client.close();
          if (err) reject(err);
          else resolve(res!);
        });
      });
    const viaInternal = await ask(internal);
    const viaExternal = await ask(external);
    expect(viaInternal.brokers.map((b) => `${b.host}:${b.port}`)).toEqual([`broker-1.internal:${internal}`]);
    expect(viaExternal.brokers.map((b) => `${b.host}:${b.port}`)).toEqual([`127.0.0.1:${external}`]);
    expect(node.output()).toContain(`"listeners":"INTERNAL://broker-1.internal:${internal},EXTERNAL://127.0.0.1:${external}"`);
    // The Kafka protocol on the same listeners answers the same way.
    const askKafka = async (port: number) => {
      const c = await RawKafkaConnection.connect(port);
      try {
        return await c.request<{ brokers: Array<{ host: string; port: number }> }>(3, 9, 1, {
          topics: [],
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        });
      } finally {
        c.close();
      }
    };
    expect((await askKafka(internal)).brokers.map((b) => `${b.host}:${b.port}`)).toEqual([`broker-1.internal:${internal}`]);
    expect((await askKafka(external)).brokers.map((b) => `${b.host}:${b.port}`)).toEqual([`127.0.0.1:${external}`]);
  });
});
