/**
 * `samsa configs --entity-type brokers` against a real node: a cluster-wide dynamic default of
 * min.insync.replicas refuses the next acks=all produce without a restart, a per-broker config
 * beats it, deleting them falls back, the configs survive a restart (they live in the metadata
 * log), and bad keys, values and deletes fail with one line and a non-zero exit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, runCliAsync, startNode, stopAll, stopProcess, tempDir, type NodeProcess } from './helpers/processes.js';

describe('samsa configs --entity-type brokers', () => {
  let dataDir: string;
  let node: NodeProcess;
  let bootstrap: string[];

  beforeAll(async () => {
    dataDir = tempDir('broker-configs');
    node = await startNode({ dataDir });
    bootstrap = ['--bootstrap-server', node.address];
    const created = await runCliAsync([
      'topics',
      '--create',
      ...bootstrap,
      '--topic',
      'live',
      '--partitions',
      '1',
      '--replication-factor',
      '1',
    ]);
    expect(created.status).toBe(0);
  });

  afterAll(async () => {
    await stopAll();
    removeDir(dataDir);
  });

  const produce = (value: string) =>
    runCliAsync(['produce', ...bootstrap, '--topic', 'live', '--request-required-acks', 'all', '--message-send-max-retries', '0'], {
      input: `${value}\n`,
    });
  const configs = (...args: string[]) => runCliAsync(['configs', ...bootstrap, '--entity-type', 'brokers', ...args]);

  it('applies a cluster-wide default live, lets a per-broker config beat it, and falls back on delete', async () => {
    expect((await produce('before')).status).toBe(0);

    const setDefault = await configs('--entity-default', '--alter', '--add-config', 'min.insync.replicas=2,log.retention.ms=3600000');
    expect(setDefault.stderr).toBe('');
    expect(setDefault.stdout).toBe('Completed updating default config for brokers in the cluster.\n');

    // Live: one replica cannot satisfy the new default of 2.
    const refused = await produce('refused');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('NOT_ENOUGH_REPLICAS');

    const topic = await runCliAsync(['configs', ...bootstrap, '--entity-type', 'topics', '--entity-name', 'live', '--describe', '--all']);
    expect(topic.stdout).toContain(
      '  min.insync.replicas=2 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:min.insync.replicas=2, DEFAULT_CONFIG:min.insync.replicas=1}\n',
    );
    expect(topic.stdout).toContain(
      '  retention.ms=3600000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000, DEFAULT_CONFIG:retention.ms=604800000}\n',
    );

    const setOwn = await configs('--entity-name', '1', '--alter', '--add-config', 'min.insync.replicas=1');
    expect(setOwn.stdout).toBe('Completed updating config for broker 1.\n');
    expect((await produce('per-broker')).status).toBe(0);

    const described = await configs('--describe');
    expect(described.status).toBe(0);
    expect(described.stdout).toBe(
      [
        'Default configs for brokers in the cluster are:',
        '  log.retention.ms=3600000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000}',
        '  min.insync.replicas=2 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:min.insync.replicas=2}',
        'Dynamic configs for broker 1 are:',
        '  min.insync.replicas=1 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:min.insync.replicas=1, DYNAMIC_DEFAULT_BROKER_CONFIG:min.insync.replicas=2}',
        '',
      ].join('\n'),
    );

    // Back to the cluster-wide 2: refused again.
    expect((await configs('--entity-name', '1', '--alter', '--delete-config', 'min.insync.replicas')).status).toBe(0);
    expect((await produce('again')).stderr).toContain('NOT_ENOUGH_REPLICAS');
  });

  it('keeps dynamic broker configs across a restart (they are in the metadata log), and deleting them restores the default', async () => {
    await stopProcess(node.child);
    node = await startNode({ dataDir, port: node.port, controllerPort: node.controllerPort });
    expect((await produce('after restart')).stderr).toContain('NOT_ENOUGH_REPLICAS');
    const deleted = await configs('--entity-default', '--alter', '--delete-config', 'min.insync.replicas,log.retention.ms');
    expect(deleted.stdout).toBe('Completed updating default config for brokers in the cluster.\n');
    expect((await produce('accepted')).status).toBe(0);
    expect((await configs('--entity-default', '--describe')).stdout).toBe('Default configs for brokers in the cluster are:\n');
  });

  it('refuses unknown keys, bad values and deletes of unset configs with one line', async () => {
    const cases: Array<[string[], string]> = [
      [
        ['--entity-default', '--alter', '--add-config', 'retention.ms=1'],
        "INVALID_CONFIG: unknown or non-dynamic broker config 'retention.ms'",
      ],
      [['--entity-name', '1', '--alter', '--add-config', 'log.retention.ms=soon'], "log.retention.ms must be an integer, got 'soon'"],
      [
        ['--entity-default', '--alter', '--delete-config', 'log.segment.bytes'],
        'Invalid config(s): log.segment.bytes (not set on brokers in the cluster)',
      ],
      [['--entity-name', 'one', '--describe'], "--entity-name of a broker is its node id, got 'one'"],
      [
        ['--entity-default', '--alter', '--add-config', 'unclean.leader.election.enable=true'],
        'not a dynamic broker config here; set it on the topic',
      ],
    ];
    for (const [args, message] of cases) {
      const r = await configs(...args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
