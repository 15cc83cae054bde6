/**
 * Consumer groups with real processes: 3 controllers + 3 brokers, members are `samsa consume
 * --group` child processes (killed by PID), checked through their output (records on stdout,
 * "Assigned/Revoked partitions" on stderr) and through the admin API / `samsa groups`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Samsa, serdes } from '@samsa/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type TestCluster } from './helpers/cluster.js';
import { CLI, runCliAsync, stopProcess } from './helpers/processes.js';

const SESSION_TIMEOUT_MS = 6_000; // the coordinator's group.min.session.timeout.ms
const MEMBER_PROPS = [
  `session.timeout.ms=${SESSION_TIMEOUT_MS}`, 'heartbeat.interval.ms=500', 'auto.commit.interval.ms=200', 'fetch.max.wait.ms=200',
];

interface Member {
  child: ChildProcess;
  stdout: string;
  stderr: string;
}

const members = new Set<Member>();

function startMember(bootstrap: string, group: string, topic: string, props: string[] = []): Member {
  const args = [CLI, 'consume', '--bootstrap-server', bootstrap, '--group', group, '--topic', topic, '--from-beginning',
    '--property', 'print.partition=true', '--property', 'print.offset=true'];
  for (const p of [...MEMBER_PROPS, ...props]) args.push('--consumer-property', p);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const m: Member = { child, stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => { m.stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { m.stderr += d.toString(); });
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

function generationOf(m: Member): number | undefined {
  const gens = [...m.stderr.matchAll(/generation (\d+)/g)].map((x) => Number(x[1]));
  return gens[gens.length - 1];
}

describe('consumer groups against real processes', () => {
  let cluster: TestCluster;
  let samsa: Samsa;
  let bootstrap: string;

  beforeAll(async () => {
    cluster = await startCluster({ controllers: 3, brokers: 3, heartbeatIntervalMs: 250, sessionTimeoutMs: 2_000 });
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
      await waitFor(`${topic} has leaders`, async () => (await samsa.admin().describeTopics([topic]))[0]!.partitions.every((p) => p.leader >= 0), 20_000, 100);
    }
    await produce(topic, partitions, perPartition, from);
  }

  async function produce(topic: string, partitions: number, perPartition: number, from: number): Promise<void> {
    const producer = samsa.producer({ value: serdes.string, acks: -1 });
    try {
      for (let p = 0; p < partitions; p++) {
        await producer.send({ topic, messages: Array.from({ length: perPartition }, (_, i) => ({ partition: p, value: `p${p}-${from + i}` })) });
      }
    } finally {
      await producer.close();
    }
  }

  it('three members share six partitions; a SIGKILLed member\'s partitions move and resume from its last commit; the coordinator\'s broker dies and the group goes on', async () => {
    const topic = 'six';
    const group = 'g-six';
    await createAndFill(topic, 6, 50);
    const trio = [startMember(bootstrap, group, topic), startMember(bootstrap, group, topic), startMember(bootstrap, group, topic)];

    // Every partition owned by exactly one member, every record consumed.
    await waitFor('three members owning two partitions each', () => {
      const sets = trio.map(owns);
      if (sets.some((s) => s === undefined || s.length !== 2)) return undefined;
      return new Set(sets.flat()).size === 6;
    }, 30_000, 100);
    const all = () => new Set(trio.flatMap((m) => seen(m).map((r) => `${r.partition}@${r.offset}`)));
    await waitFor('all 300 records consumed', () => all().size === 300, 20_000, 100);
    const [described] = await samsa.admin().describeGroups([group]);
    expect(described!.state).toBe('Stable');
    expect(described!.members).toHaveLength(3);
    const assigned = described!.members.flatMap((m) => m.assignment.map((tp) => `${tp.topic}-${tp.partition}`)).sort();
    expect(assigned).toEqual([0, 1, 2, 3, 4, 5].map((p) => `${topic}-${p}`));
    await waitFor('offsets committed up to the end', async () => (await samsa.admin().fetchOffsets(group)).filter((o) => o.offset === 50n).length === 6, 10_000, 100);

    // SIGKILL one member: no LeaveGroup; the coordinator notices after the session timeout.
    const [victim, ...survivors] = trio as [Member, Member, Member];
    const victimPartitions = owns(victim)!.map((s) => Number(s.slice(topic.length + 1)));
    await stopMember(victim, 'SIGKILL');
    const committedAtKill = new Map((await samsa.admin().fetchOffsets(group)).map((o) => [o.partition, Number(o.offset)]));
    const marks = survivors.map((m) => m.stdout.length);
    await produce(topic, 6, 20, 50);
    await waitFor('the survivors own all six partitions', () => {
      const sets = survivors.map(owns);
      return sets.every((s) => s !== undefined) && new Set(sets.flat()).size === 6;
    }, 30_000, 100);
    await waitFor('all 420 records consumed', () => new Set([...all(), ...survivors.flatMap((m) => seen(m).map((r) => `${r.partition}@${r.offset}`))]).size === 420, 20_000, 100);
    for (const p of victimPartitions) {
      // The new owner starts exactly at the victim's last committed offset: nothing skipped.
      const after = survivors.flatMap((m, i) => seen(m, marks[i]).filter((r) => r.partition === p).map((r) => r.offset));
      expect(Math.min(...after), `partition ${p}`).toBe(committedAtKill.get(p));
    }
    for (let p = 0; p < 6; p++) {
      for (let o = 0; o < 70; o++) expect(all().has(`${p}@${o}`) || survivors.some((m) => seen(m).some((r) => r.partition === p && r.offset === o)), `${p}@${o}`).toBe(true);
    }

    // Kill the coordinator's broker: the group finds the new coordinator and keeps committing.
    const coordinator = (await samsa.admin().describeGroups([group]))[0]!.coordinator;
    const broker = cluster.brokers.find((b) => b.nodeId === coordinator)!;
    await cluster.kill(broker, 'SIGKILL');
    await produce(topic, 6, 10, 70);
    await waitFor('every record consumed after the coordinator died', () => {
      const got = new Set(survivors.flatMap((m) => seen(m).map((r) => `${r.partition}@${r.offset}`)));
      for (let p = 0; p < 6; p++) for (let o = 70; o < 80; o++) if (!got.has(`${p}@${o}`)) return false;
      return true;
    }, 30_000, 200);
    await waitFor('commits reach the new coordinator', async () => {
      const offsets = await samsa.admin().fetchOffsets(group);
      return offsets.length === 6 && offsets.every((o) => o.offset === 80n);
    }, 30_000, 200);
    expect((await samsa.admin().describeGroups([group]))[0]!.coordinator).not.toBe(coordinator);
    await cluster.start(broker);
  }, 120_000);
});
