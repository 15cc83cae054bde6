/**
 * The Kafka tools' flags a Kafka user types, against one real node: get-offsets, topics
 * --exclude-internal and the min-ISR filters, groups --describe --members/--state/--offsets,
 * --all-groups, --to-current, --by-duration, --from-file and --export, consume
 * --consumer-property and --consumer.config, and the reworded errors (replication factor 0, a
 * controller's port as bootstrap).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { CLI, removeDir, runCliAsync, startNode, stopAll, stopProcess, tempDir, type NodeProcess } from './helpers/processes.js';

describe('Kafka tool parity', () => {
  let dataDir: string;
  let node: NodeProcess;
  let b: string[];
  const ok = async (args: string[], input?: string) => {
    const r = await runCliAsync(args, { timeoutMs: 60_000, ...(input === undefined ? {} : { input }) });
    // The console consumer's own progress lines on stderr are not errors.
    const errors = r.stderr
      .split('\n')
      .filter((l) => l !== '' && !/^(Processed a total of \d+ messages|(Assigned|Revoked|Lost) partitions: )/.test(l));
    expect(errors, args.join(' ')).toEqual([]);
    expect(r.status, args.join(' ')).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    dataDir = tempDir('kafka-tools');
    node = await startNode({ dataDir, extraArgs: ['--group-initial-rebalance-delay-ms', '0'] });
    b = ['--bootstrap-server', node.address];
    await ok(['topics', '--create', ...b, '--topic', 'events', '--partitions', '2']);
    await ok(['produce', ...b, '--topic', 'events', '--partition', '0', '--timeout', '0'], 'a\nb\nc\n');
    await ok(['produce', ...b, '--topic', 'events', '--partition', '1', '--timeout', '0'], 'd\n');
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    removeDir(dataDir);
  });

  it('get-offsets prints topic:partition:offset for latest, earliest and a timestamp', async () => {
    expect(await ok(['get-offsets', ...b, '--topic', 'events'])).toBe('events:0:3\nevents:1:1\n');
    expect(await ok(['get-offsets', '--broker-list', node.address, '--topic', 'ev.*', '--time', '-2', '--partitions', '0'])).toBe(
      'events:0:0\n',
    );
    expect(await ok(['get-offsets', ...b, '--topic', 'events', '--time', '0'])).toBe('events:0:0\nevents:1:0\n');
    // Later than every record: no line, as Kafka.
    expect(await ok(['get-offsets', ...b, '--topic', 'events', '--time', String(Date.now() + 3_600_000)])).toBe('');
    const bad = await runCliAsync(['get-offsets', ...b, '--time', 'soon']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("samsa: --time must be an integer, got 'soon'\n");
  });

  it("consume takes --consumer-property and --consumer.config without a group, and prints Kafka's fields", async () => {
    const config = join(dataDir, 'consumer.properties');
    writeFileSync(config, `bootstrap.servers=${node.address}\nmax.poll.records=1\nclient.id=from-file\n`);
    const out = await ok([
      'consume',
      '--consumer.config',
      config,
      '--topic',
      'events',
      '--partition',
      '0',
      '--offset',
      '1',
      '--max-messages',
      '2',
      '--consumer-property',
      'fetch.max.wait.ms=100',
      '--property',
      'print.partition=true',
      '--property',
      'print.offset=true',
      '--property',
      'print.timestamp=true',
    ]);
    expect(out).toMatch(/^CreateTime:\d+\tPartition:0\tOffset:1\tb\nCreateTime:\d+\tPartition:0\tOffset:2\tc\n$/);
    const groupOnly = await runCliAsync(['consume', ...b, '--topic', 'events', '--consumer-property', 'session.timeout.ms=10000']);
    expect(groupOnly.status).toBe(2);
    expect(groupOnly.stderr).toMatch(/^samsa: --consumer-property session.timeout.ms needs --group/);
  });

  it('groups: --describe --members/--state/--offsets, --all-groups, --to-current, --by-duration, --export and --from-file', async () => {
    // Two groups with committed offsets (a consume --group commits on close).
    await ok(['consume', ...b, '--topic', 'events', '--group', 'g1', '--from-beginning', '--max-messages', '4', '--timeout-ms', '30000']);
    await ok(['consume', ...b, '--topic', 'events', '--group', 'g2', '--from-beginning', '--max-messages', '4', '--timeout-ms', '30000']);

    // An active member of g1, for --members and --state.
    const member = spawn(process.execPath, [CLI, 'consume', ...b, '--topic', 'events', '--group', 'g1', '--timeout-ms', '120000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let memberErr = '';
    member.stderr.on('data', (d: Buffer) => {
      memberErr += d.toString();
    });
    try {
      await waitFor('the member to be assigned', () => memberErr.includes('Assigned partitions'), 30_000);
      const members = await ok(['groups', ...b, '--describe', '--group', 'g1', '--members', '--verbose']);
      expect(members).toMatch(/^GROUP\s+CONSUMER-ID\s+HOST\s+CLIENT-ID\s+#PARTITIONS\s+ASSIGNMENT\n/);
      expect(members).toMatch(/^g1\s+\S+\s+\S+\s+\S+\s+2\s+events\(0,1\)$/m);
      const state = await ok(['groups', ...b, '--describe', '--group', 'g1', '--state']);
      expect(state).toMatch(new RegExp(`^g1\\s+${node.address.replace(/\./g, '\\.')} \\(1\\)\\s+\\S+\\s+Stable\\s+1$`, 'm'));
      // Offsets of every group: the default view.
      const all = await ok(['groups', ...b, '--describe', '--all-groups', '--offsets']);
      expect(all).toMatch(/^g1\s+events\s+0\s+3\s+3\s+0\s/m);
      expect(all).toMatch(/^g2\s+events\s+1\s+1\s+1\s+0\s/m);
    } finally {
      await stopProcess(member, 'SIGTERM');
    }
    await waitFor(
      'g1 to have no members',
      async () =>
        (await runCliAsync(['groups', ...b, '--describe', '--group', 'g1', '--members'])).stdout.includes('has no active members'),
      30_000,
    );

    // --to-current --export: the committed offsets as CSV, which --from-file reads back.
    const exported = await ok([
      'groups',
      ...b,
      '--reset-offsets',
      '--group',
      'g2',
      '--all-topics',
      '--to-current',
      '--export',
      '--dry-run',
    ]);
    expect(exported).toBe('events,0,3\nevents,1,1\n');
    const file = join(dataDir, 'offsets.csv');
    writeFileSync(file, 'events,0,1\nevents,1,0\n');
    const fromFile = await ok(['groups', ...b, '--reset-offsets', '--group', 'g2', '--from-file', file, '--execute']);
    expect(fromFile).toMatch(/^g2\s+events\s+0\s+1$/m);
    expect(await ok(['groups', ...b, '--reset-offsets', '--group', 'g2', '--all-topics', '--to-current', '--export', '--dry-run'])).toBe(
      'events,0,1\nevents,1,0\n',
    );
    // --by-duration: a day back reaches before every record, so the log start.
    expect(
      await ok(['groups', ...b, '--reset-offsets', '--group', 'g2', '--topic', 'events', '--by-duration', 'P1D', '--export', '--dry-run']),
    ).toBe('events,0,0\nevents,1,0\n');
    const badDuration = await runCliAsync(['groups', ...b, '--reset-offsets', '--group', 'g2', '--topic', 'events', '--by-duration', '1h']);
    expect(badDuration.status).toBe(2);
    expect(badDuration.stderr).toMatch(/^samsa: --by-duration must be an ISO 8601 duration/);
    // --all-groups with --delete deletes every (now empty) group.
    const deleted = await ok(['groups', ...b, '--delete', '--all-groups']);
    expect(deleted).toContain("Deletion of requested consumer groups ('g1', 'g2') was successful.");
  }, 180_000);

  it('topics --exclude-internal and the min-ISR filters', async () => {
    // __consumer_offsets exists once a group has been used (previous test).
    const listed = await ok(['topics', '--list', ...b]);
    expect(listed.split('\n')).toContain('__consumer_offsets');
    expect((await ok(['topics', '--list', ...b, '--exclude-internal'])).split('\n')).not.toContain('__consumer_offsets');
    expect(await ok(['topics', '--describe', ...b, '--exclude-internal'])).not.toContain('__consumer_offsets');
    await ok(['topics', '--create', ...b, '--topic', 'guarded', '--partitions', '1', '--config', 'min.insync.replicas=2']);
    const under = await ok(['topics', '--describe', ...b, '--under-min-isr-partitions']);
    expect(under).toMatch(/^\tTopic: guarded\tPartition: 0\tLeader: 1\t/m);
    expect(under).not.toContain('events');
    const at = await ok(['topics', '--describe', ...b, '--at-min-isr-partitions', '--exclude-internal']);
    expect(at).toMatch(/^\tTopic: events\tPartition: 0\t/m);
    expect(at).not.toContain('guarded');
  });

  it('dump-log prints the batches and records of a segment; log-dirs describes the partitions on disk', async () => {
    const segment = join(node.dataDir, 'events-0', '00000000000000000000.log');
    const dumped = await ok(['dump-log', '--files', segment, '--print-data-log']);
    const lines = dumped.split('\n');
    expect(lines[0]).toBe(`Dumping ${segment}`);
    expect(lines[1]).toBe('Log starting offset: 0');
    expect(lines.filter((l) => l.startsWith('baseOffset: ')).every((l) => l.endsWith('isvalid: true'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('| offset: ')).map((l) => /payload: (.*)$/.exec(l)![1])).toEqual(['a', 'b', 'c']);
    const notLog = await runCliAsync(['dump-log', '--files', join(node.dataDir, 'events-0', '00000000000000000000.index')]);
    expect(notLog.status).toBe(2);
    expect(notLog.stderr).toMatch(/^samsa: .*only \.log segment files can be dumped/);

    const described = await ok(['log-dirs', '--describe', '--data-dir', node.dataDir, '--topic-list', 'events']);
    const json = JSON.parse(described.split('\n')[2]!) as {
      brokers: Array<{ logDirs: Array<{ logDir: string; partitions: Array<{ partition: string; size: number }> }> }>;
    };
    const dir = json.brokers[0]!.logDirs[0]!;
    expect(dir.logDir).toBe(node.dataDir);
    expect(dir.partitions.map((p) => p.partition)).toEqual(['events-0', 'events-1']);
    expect(dir.partitions.every((p) => p.size > 0)).toBe(true);
  });

  it("says what is wrong with a replication factor of 0 and with a controller's port as bootstrap", async () => {
    const zero = await runCliAsync(['topics', '--create', ...b, '--topic', 'zero-rf', '--replication-factor', '0']);
    expect(zero.status).toBe(1);
    expect(zero.stderr).toBe(
      'samsa: INVALID_REPLICATION_FACTOR: replication factor must be larger than 0, or -1 to use the default value; got 0\n',
    );
    const controller = await runCliAsync(['topics', '--list', '--bootstrap-server', `127.0.0.1:${node.controllerPort}`]);
    expect(controller.status).toBe(1);
    expect(controller.stderr.trim().split('\n')).toHaveLength(1);
    expect(controller.stderr).toContain(
      `127.0.0.1:${node.controllerPort} does not serve Metadata of Samsa's client API (is it a controller's port`,
    );
  });
});
