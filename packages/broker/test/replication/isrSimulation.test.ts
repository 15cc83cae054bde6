/**
 * A seeded simulation of one partition's leader (LeaderState, with the same glue Partition uses),
 * two followers and the controller: followers fetch with random delays, stall (alive but silent),
 * crash, restart and get fenced; AlterPartition requests are delayed, lost, or answered after the controller committed
 * them with the answer lost; metadata reaches the leader late. After every event:
 *
 * - the HW never decreases and never passes the leader's LEO;
 * - every replica in the controller's committed ISR holds everything below the HW — the property
 *   that makes an acks=all write survive a clean election (whoever the controller elects has it).
 *
 * Then, with every broker up and appends continuing, the ISR must grow back to all replicas and
 * the HW reach the leader's LEO once appends stop. A failure prints its seed; the seed replays it.
 */
import { describe, expect, it } from 'vitest';
import type { AlterPartitionFailure } from '../../src/replication/alterPartition.js';
import { LeaderState, type IsrChangeProposal } from '../../src/replication/leaderState.js';
import { seededRandom } from '@samsa/protocol';

const LAG = 1_000;
const SESSION_TIMEOUT = 1_500;
const REQUEST_TIMEOUT = 300;
const REPLICAS = [1, 2, 3];

interface Follower {
  id: number;
  leo: bigint;
  alive: boolean;
  incarnation: number;
  brokerEpoch: bigint;
  /** A stalled follower (a long GC pause, a slow disk) still heartbeats but does not fetch. */
  stalledUntil: number;
}

interface Stats {
  shrinksCommitted: number;
  expansionsCommitted: number;
  unknownOutcomes: number;
  stale: number;
  refused: number;
  fenced: number;
}

class Simulation {
  now = 0;
  private seq = 0;
  private readonly queue: Array<{ at: number; seq: number; run: () => void }> = [];
  readonly rnd: () => number;
  readonly trace: string[] = [];
  leaderLeo = 0n;
  lastHw = 0n;
  readonly followers = new Map<number, Follower>();
  readonly controller = { isr: [...REPLICAS], partitionEpoch: 0, fenced: new Set<number>(), brokerEpochs: new Map<number, bigint>() };
  /** What the leader's metadata says: its partition epoch and the fenced brokers it knows of. */
  knownPartitionEpoch = 0;
  readonly knownFenced = new Set<number>();
  private lastMetadataAt = 0;
  private isrChangeSeq = 0;
  readonly leader: LeaderState;
  crashes = true;
  appends = true;
  readonly stats: Stats = { shrinksCommitted: 0, expansionsCommitted: 0, unknownOutcomes: 0, stale: 0, refused: 0, fenced: 0 };

  constructor(readonly seed: number) {
    this.rnd = seededRandom(seed);
    for (const id of [2, 3]) {
      this.followers.set(id, { id, leo: 0n, alive: true, incarnation: 0, brokerEpoch: 1n, stalledUntil: 0 });
      this.controller.brokerEpochs.set(id, 1n);
    }
    this.leader = new LeaderState(
      {
        localBrokerId: 1,
        replicaLagTimeMaxMs: LAG,
        alterPartitionRetryBackoffMs: 100,
        isReplicaIsrEligible: (id, epoch) => !this.knownFenced.has(id) && this.controller.brokerEpochs.get(id) === epoch,
      },
      { replicas: REPLICAS, isr: REPLICAS, highWatermark: 0n, leaderEpochStartOffset: 0n, nowMs: 0 },
    );
  }

  private between(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }

  at(delay: number, what: string, run: () => void): void {
    this.queue.push({
      at: this.now + delay,
      seq: this.seq++,
      run: () => {
        this.trace.push(`${this.now} ${what}`);
        run();
      },
    });
  }

  start(): void {
    for (const f of this.followers.values()) this.at(this.between(0, 20), `fetch ${f.id}`, () => this.fetch(f, f.incarnation));
    const appendLoop = () => {
      if (this.appends) {
        this.leaderLeo += BigInt(this.between(1, 5));
        this.leader.maybeIncrementHighWatermark(this.leaderLeo);
      }
      this.at(this.between(2, 40), 'append', appendLoop);
    };
    this.at(1, 'append', appendLoop);
    const shrinkLoop = () => {
      const proposal = this.leader.maybeShrinkIsr(this.leaderLeo, this.now);
      if (proposal) this.sendAlter(proposal);
      this.at(LAG / 2, 'isr check', shrinkLoop);
    };
    this.at(LAG / 2, 'isr check', shrinkLoop);
    const chaos = () => {
      if (this.crashes) {
        const f = this.followers.get(this.rnd() < 0.5 ? 2 : 3)!;
        if (!f.alive) this.restart(f);
        else if (this.rnd() < 0.5) f.stalledUntil = this.now + this.between(200, 2_500);
        else this.crash(f);
      }
      this.at(this.between(200, 3_000), 'chaos', chaos);
    };
    this.at(this.between(500, 2_000), 'chaos', chaos);
  }

  /** Runs events until `until`; checks the invariants after each. */
  runUntil(until: number): void {
    for (let steps = 0; steps < 1_000_000; steps++) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (!next || next.at > until) break;
      this.queue.shift();
      this.now = next.at;
      next.run();
      this.check();
    }
    this.now = until;
  }

  private check(): void {
    const hw = this.leader.highWatermark;
    const fail = (why: string) => {
      throw new Error(`seed ${this.seed} at ${this.now} ms: ${why}\n${this.trace.slice(-40).join('\n')}`);
    };
    if (hw < this.lastHw) fail(`HW went down from ${this.lastHw} to ${hw}`);
    if (hw > this.leaderLeo) fail(`HW ${hw} is past the leader's LEO ${this.leaderLeo}`);
    for (const id of this.controller.isr) {
      const f = this.followers.get(id);
      if (f && f.leo < hw) fail(`broker ${id} is in the controller's ISR [${this.controller.isr}] with LEO ${f.leo} below the HW ${hw}`);
    }
    this.lastHw = hw;
  }

  // ---- followers ----

  private fetch(f: Follower, incarnation: number): void {
    if (!f.alive || f.incarnation !== incarnation) return;
    if (f.stalledUntil > this.now) {
      this.at(f.stalledUntil - this.now, `fetch ${f.id} after a stall`, () => this.fetch(f, incarnation));
      return;
    }
    const fetchOffset = f.leo;
    const brokerEpoch = f.brokerEpoch;
    this.at(this.between(1, 30), `leader serves fetch ${f.id}@${fetchOffset}`, () => {
      const { proposal } = this.leader.onFollowerFetch(f.id, { fetchOffset, logStartOffset: 0n, brokerEpoch }, this.leaderLeo, this.now);
      if (proposal) this.sendAlter(proposal);
      const upTo = fetchOffset + BigInt(this.between(1, 30)) < this.leaderLeo ? fetchOffset + BigInt(this.between(1, 30)) : this.leaderLeo;
      const idle = upTo === fetchOffset;
      this.at(this.between(1, 30), `fetch answer ${f.id} -> ${upTo}`, () => {
        if (!f.alive || f.incarnation !== incarnation) return;
        if (upTo > f.leo) f.leo = upTo;
        // An empty answer is a long poll that ran out (or was answered when the HW moved).
        this.at(idle ? this.between(20, 200) : this.between(0, 5), `fetch ${f.id}`, () => this.fetch(f, incarnation));
      });
    });
  }

  private crash(f: Follower): void {
    f.alive = false;
    f.incarnation++;
    const incarnation = f.incarnation;
    this.at(SESSION_TIMEOUT + this.between(0, 300), `controller fences ${f.id}`, () => {
      if (f.alive || f.incarnation !== incarnation) return;
      this.stats.fenced++;
      this.controller.fenced.add(f.id);
      const isr = this.controller.isr.filter((id) => id !== f.id);
      if (isr.length !== this.controller.isr.length) this.commit(isr);
      this.publish(`fence ${f.id}`, () => this.knownFenced.add(f.id));
    });
  }

  private restart(f: Follower): void {
    f.alive = true;
    f.incarnation++;
    // A new registration: a new broker epoch, fenced until it has caught up on metadata.
    f.brokerEpoch += 1n;
    this.controller.brokerEpochs.set(f.id, f.brokerEpoch);
    this.controller.fenced.add(f.id);
    this.publish(`fence ${f.id} (registered)`, () => this.knownFenced.add(f.id));
    const incarnation = f.incarnation;
    this.at(this.between(50, 400), `controller unfences ${f.id}`, () => {
      if (!f.alive || f.incarnation !== incarnation) return;
      this.controller.fenced.delete(f.id);
      this.publish(`unfence ${f.id}`, () => this.knownFenced.delete(f.id));
    });
    this.at(this.between(10, 100), `fetch ${f.id}`, () => this.fetch(f, incarnation));
  }

  // ---- controller and metadata ----

  /** The controller commits a new ISR (partition epoch + 1) and publishes it to the leader's metadata. */
  private commit(isr: number[]): number {
    this.controller.isr = isr;
    const epoch = ++this.controller.partitionEpoch;
    this.publish(`partition epoch ${epoch} isr [${isr}]`, () => {
      if (epoch <= this.knownPartitionEpoch) return;
      this.knownPartitionEpoch = epoch;
      this.leader.updateAssignment(REPLICAS, isr);
      this.leader.maybeIncrementHighWatermark(this.leaderLeo);
    });
    return epoch;
  }

  /** Metadata reaches the leader late, in commit order. */
  private publish(what: string, apply: () => void): void {
    // Usually quick; now and then a broker's metadata fetch lags by seconds.
    const at = Math.max(this.lastMetadataAt, this.now + (this.rnd() < 0.2 ? this.between(300, 3_000) : this.between(5, 150)));
    this.lastMetadataAt = at;
    this.at(at - this.now, `metadata: ${what}`, apply);
  }

  /** What Partition.sendIsrChange does, with a controller that may lose requests and answers. */
  private sendAlter(proposal: IsrChangeProposal): void {
    const seq = ++this.isrChangeSeq;
    const basedOn = this.knownPartitionEpoch;
    const answer = (delay: number, what: string, outcome: { isr: number[]; epoch: number } | AlterPartitionFailure) => {
      this.at(delay, `alter answer ${what}`, () => {
        if (seq !== this.isrChangeSeq) return;
        if (typeof outcome === 'object' && outcome.epoch > this.knownPartitionEpoch) {
          this.knownPartitionEpoch = outcome.epoch;
          this.leader.onIsrCommitted(outcome.isr, this.leaderLeo);
        } else {
          const failure = typeof outcome === 'object' ? 'notChecked' : outcome;
          if (failure === 'unknown') this.stats.unknownOutcomes++;
          this.leader.onIsrChangeFailed(this.now, failure);
        }
      });
    };
    if (this.rnd() < 0.1) {
      answer(REQUEST_TIMEOUT, `[${proposal.newIsr}] lost on the way`, 'unknown');
      return;
    }
    this.at(this.between(1, 50), `controller gets alter [${proposal.newIsr}] @${basedOn}`, () => {
      if (basedOn !== this.controller.partitionEpoch) {
        this.stats.stale++;
        answer(this.between(1, 50), 'stale', 'stale');
        return;
      }
      if (proposal.newIsr.some((id) => this.controller.fenced.has(id))) {
        this.stats.refused++;
        answer(this.between(1, 50), 'ineligible', 'refused');
        return;
      }
      const epoch = this.commit([...proposal.newIsr]);
      if (proposal.kind === 'shrink') this.stats.shrinksCommitted++;
      else this.stats.expansionsCommitted++;
      if (this.rnd() < 0.15) answer(REQUEST_TIMEOUT, `[${proposal.newIsr}] committed, answer lost`, 'unknown');
      else answer(this.between(1, 50), `[${proposal.newIsr}] committed`, { isr: [...proposal.newIsr], epoch });
    });
  }

  /** Every broker up, no more chaos. */
  heal(): void {
    this.crashes = false;
    for (const f of this.followers.values()) {
      f.stalledUntil = 0;
      if (!f.alive) this.restart(f);
    }
  }
}

describe('ISR and high watermark under a seeded simulation', () => {
  const total: Stats = { shrinksCommitted: 0, expansionsCommitted: 0, unknownOutcomes: 0, stale: 0, refused: 0, fenced: 0 };

  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}: acknowledged offsets are on every controller-ISR member; the ISR heals`, () => {
      const sim = new Simulation(seed);
      sim.start();
      sim.runUntil(60_000);
      sim.heal();
      sim.runUntil(75_000);
      sim.appends = false;
      sim.runUntil(80_000);
      const where = `seed ${seed}: controller ISR [${sim.controller.isr}], leader ISR ${JSON.stringify(sim.leader.state)}`;
      expect([...sim.controller.isr].sort(), where).toEqual(REPLICAS);
      expect(sim.leader.state, where).toEqual({ kind: 'committed', isr: sim.controller.isr });
      expect(sim.leader.highWatermark, where).toBe(sim.leaderLeo);
      for (const [k, v] of Object.entries(sim.stats)) total[k as keyof Stats] += v;
    });
  }

  it('the runs went through shrinks, expansions, fencing, lost answers, stale and refused changes', () => {
    for (const [k, v] of Object.entries(total)) expect(v, k).toBeGreaterThan(0);
  });
});
