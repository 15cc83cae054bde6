/**
 * Consumer groups with real processes: 3 controllers + 3 brokers, members are `samsa consume
 * --group` child processes (killed by PID), checked through their output (records on stdout,
 * "Assigned/Revoked partitions" on stderr) and through the admin API / `samsa groups`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Samsa, serdes } from '@samsa/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@samsa/testkit';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { CLI, runCliAsync, stopProcess } from './helpers/processes.js';

const SESSION_TIMEOUT_MS = 3_000;
// Short group timings so the test runs in seconds (Kafka's defaults: 3000 ms delay, 6000 ms minimum session).
const BROKER_ARGS = ['--group-initial-rebalance-delay-ms', '300', '--group-min-session-timeout-ms', '1000'];
const MEMBER_PROPS = [
  `session.timeout.ms=${SESSION_TIMEOUT_MS}`,
  'heartbeat.interval.ms=500',
  'auto.commit.interval.ms=200',
  'fetch.max.wait.ms=200',
];

interface Member {
  child: ChildProcess;
  stdout: string;
  stderr: string;
}

const members = new Set<Member>();

function startMember(bootstrap: string, group: string, topic: string, props: string[] = []): Member {
  const args = [
    CLI,
    'consume',
    '--bootstrap-server',
    bootstrap,
    '--group',
    group,
    '--topic',
    topic,
    '--from-beginning',
    '--property',
    'print.partition=true',
    '--property',
    'print.offset=true',
  ];
  for (const p of [...MEMBER_PROPS, ...props]) args.push('--consumer-property', p);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const m: Member = { child, stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => {
    m.stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    m.stderr += d.toString();
  });
  members.add(m);
  return m;
}

async function stopMember(m: Member, signal: NodeJS.Signals): Promise<void> {
  await stopProcess(m.child, signal, 15_000);
  members.delete(m);
}

/** `partition@offset` of every record a member printed (from `offset` chars of its stdout on). */
function seen(m: Member, from = 0): Array<{ partition: number; offset: number; value: string }> {
  const out = [];
  for (const line of m.stdout.slice(from).split('\n')) {
    const match = /^Partition:(\d+)\tOffset:(\d+)\t(.*)$/.exec(line);
    if (match) out.push({ partition: Number(match[1]), offset: Number(match[2]), value: match[3]! });
  }
  return out;
}

/** The partitions a member says it owns after its last assignment. */
function owns(m: Member): string[] | undefined {
  const lines = m.stderr.split('\n').filter((l) => l.startsWith('Assigned partitions:') || l.startsWith('Lost partitions:'));
  const last = lines[lines.length - 1];
  if (!last || last.startsWith('Lost')) return undefined;
  const list = /owns \[(.*)\]/.exec(last)![1]!;
  return list ? list.split(', ') : [];
}

/** waitFor, failing with the members' stderr (their rebalance history) to show why. */
async function waitForMembers<T>(
  what: string,
  group: Member[],
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  try {
    return await waitFor(what, fn, timeoutMs, 100);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\n${group.map((m, i) => `--- member ${i} (exit ${m.child.exitCode}):\n${m.stderr.slice(-3000)}`).join('\n')}`,
    );
  }
}

function generationOf(m: Member): number | undefined {
  const gens = [...m.stderr.matchAll(/generation (\d+)/g)].map((x) => Number(x[1]));
  return gens[gens.length - 1];
}

describe('consumer groups against real processes', () => {
  let cluster: TestCluster;
  let samsa: Samsa;
  let bootstrap: string;

  beforeAll(async () => {
    cluster = await startCluster({
      controllers: 3,
      brokers: 3,
      heartbeatIntervalMs: 250,
      sessionTimeoutMs: 2_000,
      brokerArgs: BROKER_ARGS,
    });
    bootstrap = cluster.bootstrap.join(',');
    samsa = new Samsa({ brokers: cluster.bootstrap, requestTimeoutMs: 10_000, retry: { retries: 10, maxRetryTimeMs: 1_000 } });
  }, 90_000);

  afterEach(async () => {
    await Promise.all([...members].map((m) => stopMember(m, 'SIGKILL')));
  });

  afterAll(async () => {
    await samsa?.close();
    await cluster?.stop();
  });

  async function createAndFill(topic: string, partitions: number, perPartition: number, from = 0): Promise<void> {
    if (from === 0) {
      await samsa.admin().createTopics([{ topic, numPartitions: partitions, replicationFactor: 3 }]);
      await waitFor(
        `${topic} has leaders`,
        async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions.every((p) => p.leader >= 0),
        20_000,
        100,
      );
    }
    await produce(topic, partitions, perPartition, from);
  }

  async function produce(topic: string, partitions: number, perPartition: number, from: number): Promise<void> {
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    try {
      for (let p = 0; p < partitions; p++) {
        await producer.send({
          topic,
          messages: Array.from({ length: perPartition }, (_, i) => ({ partition: p, value: `p${p}-${from + i}` })),
        });
      }
    } finally {
      await producer.close();
    }
  }

  it("three members share six partitions; a SIGKILLed member's partitions move and resume from its last commit; the coordinator's broker dies and the group goes on", async () => {
    const topic = 'six';
    const group = 'g-six';
    await createAndFill(topic, 6, 50);
    const trio = [startMember(bootstrap, group, topic), startMember(bootstrap, group, topic), startMember(bootstrap, group, topic)];

    // Every partition owned by exactly one member, every record consumed.
    await waitForMembers('three members owning two partitions each', trio, () => {
      const sets = trio.map(owns);
      if (sets.some((s) => s === undefined || s.length !== 2)) return undefined;
      return new Set(sets.flat()).size === 6;
    });
    const all = () => new Set(trio.flatMap((m) => seen(m).map((r) => `${r.partition}@${r.offset}`)));
    await waitFor('all 300 records consumed', () => all().size === 300, 20_000, 100);
    const [described] = await samsa.admin().describeGroups([group]);
    expect(described!.state).toBe('Stable');
    expect(described!.members).toHaveLength(3);
    const assigned = described!.members.flatMap((m) => m.assignment.map((tp) => `${tp.topic}-${tp.partition}`)).sort();
    expect(assigned).toEqual([0, 1, 2, 3, 4, 5].map((p) => `${topic}-${p}`));
    await waitFor(
      'offsets committed up to the end',
      async () => (await samsa.admin().fetchOffsets(group)).filter((o) => o.offset === 50n).length === 6,
      10_000,
      100,
    );

    // SIGKILL one member: no LeaveGroup; the coordinator notices after the session timeout.
    const [victim, ...survivors] = trio as [Member, Member, Member];
    const victimPartitions = owns(victim)!.map((s) => Number(s.slice(topic.length + 1)));
    await stopMember(victim, 'SIGKILL');
    const committedAtKill = new Map((await samsa.admin().fetchOffsets(group)).map((o) => [o.partition, Number(o.offset)]));
    const marks = survivors.map((m) => m.stdout.length);
    await produce(topic, 6, 20, 50);
    await waitFor(
      'the survivors own all six partitions',
      () => {
        const sets = survivors.map(owns);
        return sets.every((s) => s !== undefined) && new Set(sets.flat()).size === 6;
      },
      30_000,
      100,
    );
    await waitFor(
      'all 420 records consumed',
      () => new Set([...all(), ...survivors.flatMap((m) => seen(m).map((r) => `${r.partition}@${r.offset}`))]).size === 420,
      20_000,
      100,
    );
    for (const p of victimPartitions) {
      // The new owner starts exactly at the victim's last committed offset: nothing skipped.
      const after = survivors.flatMap((m, i) =>
        seen(m, marks[i])
          .filter((r) => r.partition === p)
          .map((r) => r.offset),
      );
      expect(Math.min(...after), `partition ${p}`).toBe(committedAtKill.get(p));
    }
    for (let p = 0; p < 6; p++) {
      for (let o = 0; o < 70; o++)
        expect(all().has(`${p}@${o}`) || survivors.some((m) => seen(m).some((r) => r.partition === p && r.offset === o)), `${p}@${o}`).toBe(
          true,
        );
    }

    // Kill the coordinator's broker: the group finds the new coordinator and keeps committing.
    const coordinator = (await samsa.admin().describeGroups([group]))[0]!.coordinator;
    const broker = cluster.brokers.find((b) => b.nodeId === coordinator)!;
    await cluster.kill(broker, 'SIGKILL');
    await produce(topic, 6, 10, 70);
    await waitFor(
      'every record consumed after the coordinator died',
      () => {
        const got = new Set(survivors.flatMap((m) => seen(m).map((r) => `${r.partition}@${r.offset}`)));
        for (let p = 0; p < 6; p++) for (let o = 70; o < 80; o++) if (!got.has(`${p}@${o}`)) return false;
        return true;
      },
      30_000,
      200,
    );
    await waitFor(
      'commits reach the new coordinator',
      async () => {
        const offsets = await samsa.admin().fetchOffsets(group);
        return offsets.length === 6 && offsets.every((o) => o.offset === 80n);
      },
      30_000,
      200,
    );
    expect((await samsa.admin().describeGroups([group]))[0]!.coordinator).not.toBe(coordinator);
    await cluster.start(broker);
  }, 120_000);

  it('extra members idle and take over when an owner leaves; reset-offsets is refused while active, then the stopped group re-reads everything', async () => {
    const topic = 'two';
    const group = 'g-two';
    await createAndFill(topic, 2, 10);
    const team = [startMember(bootstrap, group, topic), startMember(bootstrap, group, topic), startMember(bootstrap, group, topic)];
    await waitForMembers('two owners and one idle member', team, () => {
      const sets = team.map(owns);
      if (sets.some((s) => s === undefined)) return false;
      return (
        sets.filter((s) => s!.length === 1).length === 2 &&
        sets.filter((s) => s!.length === 0).length === 1 &&
        new Set(sets.flat()).size === 2
      );
    });
    await waitFor(
      '20 records consumed and committed',
      async () => (await samsa.admin().fetchOffsets(group)).filter((o) => o.offset === 10n).length === 2,
      20_000,
      100,
    );

    const describe = await runCliAsync(['groups', '--bootstrap-server', bootstrap, '--describe', '--group', group]);
    expect(describe.status, describe.stderr).toBe(0);
    const lines = describe.stdout.trim().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual([
      'GROUP',
      'TOPIC',
      'PARTITION',
      'CURRENT-OFFSET',
      'LOG-END-OFFSET',
      'LAG',
      'CONSUMER-ID',
      'HOST',
      'CLIENT-ID',
    ]);
    for (const p of [0, 1])
      expect(
        lines.some((l) => new RegExp(`^${group}\\s+${topic}\\s+${p}\\s+10\\s+10\\s+0\\s+\\S+\\s+\\S+\\s+samsa-cli`).test(l)),
        describe.stdout,
      ).toBe(true);
    expect(lines.filter((l) => new RegExp(`^${group}\\s+-\\s+-`).test(l))).toHaveLength(1); // the idle member

    const refused = await runCliAsync([
      'groups',
      '--bootstrap-server',
      bootstrap,
      '--reset-offsets',
      '--group',
      group,
      '--topic',
      topic,
      '--to-earliest',
      '--execute',
    ]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`Assignments can only be reset if the group '${group}' is inactive, but the current state is Stable.`);

    // An owner leaves (SIGTERM: commit, LeaveGroup): the idle member takes over a partition.
    // Which one is not fixed: range is eager, not sticky; it deals partitions to the members in
    // member-id order, and member ids are random. So the idle member takes *a* partition, the
    // other remaining member the other one, both in the generation after the leave.
    const idle = team.find((m) => owns(m)!.length === 0)!;
    const leaving = team.find((m) => owns(m)!.length === 1)!;
    const staying = team.find((m) => m !== idle && m !== leaving)!;
    const taken = owns(leaving)![0]!;
    const generationBefore = generationOf(idle)!;
    await stopMember(leaving, 'SIGTERM');
    expect(leaving.stderr).toContain(`Revoked partitions: [${taken}]`);
    await waitForMembers(
      'the idle member takes over a partition',
      team,
      () => {
        const [mine, theirs] = [owns(idle), owns(staying)];
        if (mine?.length !== 1 || theirs?.length !== 1) return false;
        const generation = generationOf(idle)!;
        return generation > generationBefore && generationOf(staying) === generation && new Set([...mine, ...theirs]).size === 2;
      },
      20_000,
    );
    expect([...owns(idle)!, ...owns(staying)!]).toContain(taken);
    await produce(topic, 2, 5, 10);
    await waitFor(
      'new records consumed by the remaining two',
      () =>
        team
          .filter((m) => m !== leaving)
          .flatMap((m) => seen(m))
          .filter((r) => r.offset >= 10).length === 10,
      20_000,
      100,
    );
    await waitFor(
      'committed',
      async () => (await samsa.admin().fetchOffsets(group)).filter((o) => o.offset === 15n).length === 2,
      20_000,
      100,
    );

    // Stop the group, reset it to the earliest offsets and read everything again.
    await Promise.all(team.filter((m) => m !== leaving).map((m) => stopMember(m, 'SIGTERM')));
    const list = await runCliAsync(['groups', '--bootstrap-server', bootstrap, '--list']);
    expect(list.stdout.split('\n')).toContain(group);
    const dry = await runCliAsync([
      'groups',
      '--bootstrap-server',
      bootstrap,
      '--reset-offsets',
      '--group',
      group,
      '--topic',
      `${topic}:0,1`,
      '--to-offset',
      '3',
      '--dry-run',
    ]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`${group}\\s+${topic}\\s+0\\s+3`));
    expect((await samsa.admin().fetchOffsets(group)).map((o) => o.offset)).toEqual([15n, 15n]); // a dry run changes nothing
    const reset = await runCliAsync([
      'groups',
      '--bootstrap-server',
      bootstrap,
      '--reset-offsets',
      '--group',
      group,
      '--all-topics',
      '--to-earliest',
      '--execute',
    ]);
    expect(reset.status, reset.stderr).toBe(0);
    expect((await samsa.admin().fetchOffsets(group)).map((o) => o.offset)).toEqual([0n, 0n]);
    const shift = await runCliAsync([
      'groups',
      '--bootstrap-server',
      bootstrap,
      '--reset-offsets',
      '--group',
      group,
      '--topic',
      `${topic}:1`,
      '--shift-by',
      '-5',
      '--execute',
    ]);
    expect(shift.status, shift.stderr).toBe(0);
    expect((await samsa.admin().fetchOffsets(group)).map((o) => o.offset)).toEqual([0n, 0n]); // clamped at the log start
    const reread = await runCliAsync(
      [
        'consume',
        '--bootstrap-server',
        bootstrap,
        '--group',
        group,
        '--topic',
        topic,
        '--max-messages',
        '30',
        '--timeout-ms',
        '15000',
        '--property',
        'print.partition=true',
        '--property',
        'print.offset=true',
        ...MEMBER_PROPS.flatMap((p) => ['--consumer-property', p]),
      ],
      { timeoutMs: 40_000 },
    );
    expect(reread.status, reread.stderr).toBe(0);
    const again = new Set(reread.stdout.trim().split('\n'));
    expect(again.size).toBe(30);
    for (const p of [0, 1])
      for (let o = 0; o < 15; o++)
        expect(
          [...again].some((l) => l.startsWith(`Partition:${p}\tOffset:${o}\t`)),
          `${p}@${o}`,
        ).toBe(true);

    const del = await runCliAsync(['groups', '--bootstrap-server', bootstrap, '--delete', '--group', group]);
    expect(del.status, del.stderr + del.stdout).toBe(0);
    expect(del.stdout).toContain(`Deletion of requested consumer groups ('${group}') was successful.`);
    expect((await runCliAsync(['groups', '--bootstrap-server', bootstrap, '--list'])).stdout.split('\n')).not.toContain(group);
  }, 240_000); // a dozen CLI processes, each taking seconds to start on a loaded machine

  it('cooperative-sticky: a joining member takes partitions without the first one ever stopping the others', async () => {
    const topic = 'coop';
    const group = 'g-coop';
    await createAndFill(topic, 6, 5);
    const props = ['partition.assignment.strategy=cooperative-sticky'];
    const first = startMember(bootstrap, group, topic, props);
    await waitFor('the first member owns all six', () => owns(first)?.length === 6, 20_000, 100);
    const before = owns(first)!;
    const generation = generationOf(first)!;
    const second = startMember(bootstrap, group, topic, props);
    await waitFor('three partitions each', () => owns(first)?.length === 3 && owns(second)?.length === 3, 30_000, 100);
    const kept = owns(first)!;
    const moved = owns(second)!;
    expect(new Set([...kept, ...moved]).size).toBe(6);
    // Only the partitions that moved were revoked, in one go; the kept ones never were.
    const revoked = first.stderr.split('\n').filter((l) => l.startsWith('Revoked partitions:'));
    expect(revoked).toEqual([`Revoked partitions: [${moved.join(', ')}]`]);
    expect(before.filter((p) => !kept.includes(p)).sort()).toEqual([...moved].sort());
    // Two rebalances: the first withholds the moving partitions, the second hands them over.
    expect(generationOf(second)).toBeGreaterThanOrEqual(generation + 2);
    await produce(topic, 6, 5, 5);
    await waitFor(
      'every new record consumed',
      () => [first, second].flatMap((m) => seen(m)).filter((r) => r.offset >= 5).length >= 30,
      20_000,
      100,
    );
  }, 60_000);

  it('a static member restarting within its session timeout gets its partitions back without a rebalance', async () => {
    const topic = 'static';
    const group = 'g-static';
    await createAndFill(topic, 3, 5);
    // The restart (a process exiting and a new one starting and joining) must fit in the session
    // timeout, which a loaded machine stretched past 10 s; nothing here waits for it to expire.
    const props = ['group.instance.id=instance-a', 'session.timeout.ms=120000'];
    const first = startMember(bootstrap, group, topic, props);
    await waitFor('assigned', () => owns(first)?.length === 3, 20_000, 100);
    await waitFor(
      'committed',
      async () => (await samsa.admin().fetchOffsets(group)).filter((o) => o.offset === 5n).length === 3,
      20_000,
      100,
    );
    const generation = (await samsa.admin().describeGroups([group]))[0]!.generationId;
    await stopMember(first, 'SIGTERM');
    // A static member does not send LeaveGroup: it is still in the group.
    const during = (await samsa.admin().describeGroups([group]))[0]!;
    expect(during.members.map((m) => m.groupInstanceId)).toEqual(['instance-a']);
    const second = startMember(bootstrap, group, topic, props);
    await waitFor('assigned again', () => owns(second)?.length === 3, 20_000, 100);
    expect(generationOf(second)).toBe(generation);
    const after = (await samsa.admin().describeGroups([group]))[0]!;
    expect(after.generationId).toBe(generation);
    expect(after.state).toBe('Stable');
    // It resumes where the first process committed: nothing is read twice.
    await produce(topic, 3, 2, 5);
    await waitFor('new records', () => seen(second).length === 6, 20_000, 100);
    expect(seen(second).every((r) => r.offset >= 5)).toBe(true);
  }, 60_000);
});
