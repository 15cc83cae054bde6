/**
 * `samsa configs` (kafka-configs) against a real one-broker node: a topic created with
 * min.insync.replicas=2 refuses acks=all writes; altering it to 1 takes effect live; --describe
 * shows it; --delete-config returns it to the default; bad keys, values and flags fail with one
 * clear line on stderr and a non-zero exit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, runCliAsync, startNode, stopAll, tempDir, type NodeProcess } from './helpers/processes.js';

describe('samsa configs', () => {
  let dataDir: string;
  let node: NodeProcess;
  let bootstrap: string[];
  let topic: string[];

  beforeAll(async () => {
    dataDir = tempDir('configs');
    node = await startNode({ dataDir });
    bootstrap = ['--bootstrap-server', node.address];
    topic = ['--entity-type', 'topics', '--entity-name', 'guarded'];
  });

  afterAll(async () => {
    await stopAll();
    removeDir(dataDir);
  });

  const oneErrorLine = (stderr: string) => expect(stderr.trim().split('\n')).toHaveLength(1);

  it('alters min.insync.replicas live, describes it, and deletes it back to the default', async () => {
    const created = await runCliAsync([
      'topics',
      '--create',
      ...bootstrap,
      '--topic',
      'guarded',
      '--partitions',
      '1',
      '--replication-factor',
      '1',
      '--config',
      'min.insync.replicas=2',
    ]);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);

    // One replica cannot satisfy min.insync.replicas=2: acks=all is refused.
    const refused = await runCliAsync(['produce', ...bootstrap, '--topic', 'guarded', '--request-required-acks', 'all'], {
      input: 'a\n',
      timeoutMs: 30_000,
    });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('NOT_ENOUGH_REPLICAS');

    const before = await runCliAsync(['configs', ...bootstrap, ...topic, '--describe']);
    expect(before.status).toBe(0);
    expect(before.stdout).toContain('Dynamic configs for topic guarded are:\n');
    expect(before.stdout).toContain(
      '  min.insync.replicas=2 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:min.insync.replicas=2, DEFAULT_CONFIG:min.insync.replicas=1}\n',
    );

    const altered = await runCliAsync([
      'configs',
      ...bootstrap,
      ...topic,
      '--alter',
      '--add-config',
      'min.insync.replicas=1,retention.ms=3600000',
    ]);
    expect(altered.stderr).toBe('');
    expect(altered.status).toBe(0);
    expect(altered.stdout).toBe('Completed updating config for topic guarded.\n');

    const after = await runCliAsync(['configs', ...bootstrap, ...topic, '--describe']);
    expect(after.stdout).toContain('  min.insync.replicas=1 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:min.insync.replicas=1,');
    expect(after.stdout).toContain('  retention.ms=3600000 sensitive=false');

    // Live: the very next acks=all produce goes through.
    const accepted = await runCliAsync(['produce', ...bootstrap, '--topic', 'guarded', '--request-required-acks', 'all'], { input: 'b\n' });
    expect(accepted.stderr).toBe('');
    expect(accepted.status).toBe(0);

    const deleted = await runCliAsync(['configs', ...bootstrap, ...topic, '--alter', '--delete-config', 'min.insync.replicas']);
    expect(deleted.status).toBe(0);
    const dynamic = await runCliAsync(['configs', ...bootstrap, ...topic, '--describe']);
    expect(dynamic.stdout).not.toContain('min.insync.replicas');
    expect(dynamic.stdout).toContain('retention.ms=3600000');
    const all = await runCliAsync(['configs', ...bootstrap, '--topic', 'guarded', '--describe', '--all']);
    expect(all.stdout).toContain('All configs for topic guarded are:\n');
    expect(all.stdout).toContain('  min.insync.replicas=1 sensitive=false synonyms={DEFAULT_CONFIG:min.insync.replicas=1}\n');
    expect(all.stdout).toContain('  cleanup.policy=delete sensitive=false');

    // Kafka's topics --describe shows the change too.
    const topics = await runCliAsync(['topics', '--describe', ...bootstrap, '--topic', 'guarded']);
    expect(topics.stdout).toContain('Configs: retention.ms=3600000\n');
  });

  it('refuses bad keys, values and flags with one line on stderr', async () => {
    await runCliAsync(['topics', '--create', ...bootstrap, '--topic', 'guarded', '--if-not-exists']);

    const badKey = await runCliAsync(['configs', ...bootstrap, ...topic, '--alter', '--add-config', 'no.such.config=1']);
    expect(badKey.status).toBe(1);
    oneErrorLine(badKey.stderr);
    expect(badKey.stderr).toMatch(/^samsa: INVALID_CONFIG: unknown topic config 'no.such.config'/);

    const badValue = await runCliAsync(['configs', ...bootstrap, ...topic, '--alter', '--add-config', 'min.insync.replicas=zero']);
    expect(badValue.status).toBe(1);
    oneErrorLine(badValue.stderr);
    expect(badValue.stderr).toContain('INVALID_CONFIG: min.insync.replicas must be an integer');

    const notSet = await runCliAsync(['configs', ...bootstrap, ...topic, '--alter', '--delete-config', 'segment.ms']);
    expect(notSet.status).toBe(1);
    oneErrorLine(notSet.stderr);
    expect(notSet.stderr).toContain('INVALID_CONFIG: Invalid config(s): segment.ms');

    const missing = await runCliAsync(['configs', ...bootstrap, '--entity-type', 'topics', '--entity-name', 'missing', '--describe']);
    expect(missing.status).toBe(1);
    oneErrorLine(missing.stderr);
    expect(missing.stderr).toContain('UNKNOWN_TOPIC_OR_PARTITION');

    const missingAlter = await runCliAsync([
      'configs',
      ...bootstrap,
      '--entity-type',
      'topics',
      '--entity-name',
      'missing',
      '--alter',
      '--add-config',
      'retention.ms=1',
    ]);
    expect(missingAlter.status).toBe(1);
    expect(missingAlter.stderr).toContain('UNKNOWN_TOPIC_OR_PARTITION');

    for (const args of [
      // Kafka's quota entity: Samsa has no quotas, so it is a usage error (users are SCRAM credentials now).
      ['--entity-type', 'clients', '--entity-name', '1', '--describe'],
      [...topic, '--alter'],
      [...topic, '--alter', '--add-config', 'novalue'],
      [...topic, '--alter', '--add-config', 'a=[1,2'],
      [...topic, '--describe', '--alter'],
    ]) {
      const usage = await runCliAsync(['configs', ...bootstrap, ...args]);
      expect(usage.status, args.join(' ')).toBe(2);
      oneErrorLine(usage.stderr);
      expect(usage.stderr).toMatch(/^samsa: /);
    }

    const unknownFlag = await runCliAsync(['configs', ...bootstrap, ...topic, '--alter', '--add-configs', 'retention.ms=1']);
    expect(unknownFlag.status).not.toBe(0);
    expect(unknownFlag.stderr).toContain("unknown option '--add-configs'");

    // Nothing above changed the topic.
    const described = await runCliAsync(['configs', ...bootstrap, ...topic, '--describe']);
    expect(described.stdout).not.toContain('no.such.config');
    expect(described.stdout).not.toContain('min.insync.replicas');
  });
});
