// Scripted interactions with golden transcripts: read them top to bottom like a sequence diagram.
import { describe, expect, it } from 'vitest';
import { dedent, runScript } from './helpers/script.js';

/** Runs the commands (the "> " lines of `transcript`) and expects exactly `transcript` back. */
function expectTranscript(transcript: string): void {
  const golden = dedent(transcript);
  const commands = golden
    .split('\n')
    .filter((l) => l.startsWith('> '))
    .map((l) => l.slice(2))
    .join('\n');
  expect(runScript(commands)).toBe(golden);
}

describe('interaction transcripts', () => {
  it('an election, a proposal and its commit in a 3-node cluster', () => {
    expectTranscript(`
      > cluster 3
      > campaign 1
      > process
        ready 1: candidate lead=0; hs t1 vote=1 commit=0; send 2
      > deliver
        vote 1→2 t1 last=0:0
        vote 1→3 t1 last=0:0
      > process
        ready 2: hs t1 vote=1 commit=0; send 1
        ready 3: hs t1 vote=1 commit=0; send 1
      > deliver
        voteResponse 2→1 t1
        voteResponse 3→1 t1
      > status 1
        1: leader t1 vote=1 lead=1 last=1 commit=0 applied=0
      > stabilize
        ready 1: leader lead=1; persist 1:1; send 2
        append 1→2 t1 prev=0:0 commit=0 [1:1]
        append 1→3 t1 prev=0:0 commit=0 [1:1]
        ready 2: follower lead=1; persist 1:1; send 1
        ready 3: follower lead=1; persist 1:1; send 1
        appendResponse 2→1 t1 index=1
        appendResponse 3→1 t1 index=1
        ready 1: hs t1 vote=1 commit=1; apply 1; send 2
        append 1→2 t1 prev=1:1 commit=1
        append 1→3 t1 prev=1:1 commit=1
        ready 2: hs t1 vote=1 commit=1; apply 1; send 1
        ready 3: hs t1 vote=1 commit=1; apply 1; send 1
        appendResponse 2→1 t1 index=1
        appendResponse 3→1 t1 index=1
      > propose 2 x
        refused: notLeader (leader 1)
      > propose 1 x
        index 2
      > stabilize
        ready 1: persist 2:1; send 2
        append 1→2 t1 prev=1:1 commit=1 [2:1=x]
        append 1→3 t1 prev=1:1 commit=1 [2:1=x]
        ready 2: persist 2:1; send 1
        ready 3: persist 2:1; send 1
        appendResponse 2→1 t1 index=2
        appendResponse 3→1 t1 index=2
        ready 1: hs t1 vote=1 commit=2; apply 2; send 2
        append 1→2 t1 prev=2:1 commit=2
        append 1→3 t1 prev=2:1 commit=2
        ready 2: hs t1 vote=1 commit=2; apply 2; send 1
        ready 3: hs t1 vote=1 commit=2; apply 2; send 1
        appendResponse 2→1 t1 index=2
        appendResponse 3→1 t1 index=2
      > log 3
        terms 1 1; applied [x]
    `);
  });

  it('pre-vote: an isolated node keeps its term and rejoins as a follower', () => {
    expectTranscript(`
      > cluster 3 preVote checkQuorum
      > elect 1
      > isolate 3
      > tick 3 30
      > stabilize
        ready 3: preCandidate lead=0; send 4
        preVote 3→1 t2 last=1:1  (dropped)
        preVote 3→2 t2 last=1:1  (dropped)
        preVote 3→1 t2 last=1:1  (dropped)
        preVote 3→2 t2 last=1:1  (dropped)
      > status 3
        3: preCandidate t1 vote=1 lead=0 last=1 commit=1 applied=1
      > heal
      > tick 1
      > stabilize
        ready 1: send 2
        heartbeat 1→2 t1 commit=1
        heartbeat 1→3 t1 commit=1
        ready 2: send 1
        ready 3: follower lead=1; send 1
        heartbeatResponse 2→1 t1
        heartbeatResponse 3→1 t1
      > status
        1: leader t1 vote=1 lead=1 last=1 commit=1 applied=1
        2: follower t1 vote=1 lead=1 last=1 commit=1 applied=1
        3: follower t1 vote=1 lead=1 last=1 commit=1 applied=1
    `);
  });

  it('leadership transfer: catch the target up, then timeoutNow', () => {
    expectTranscript(`
      > cluster 3
      > elect 1
      > isolate 3
      > propose 1 a
        index 2
      > stabilize
        ready 1: persist 2:1; send 2
        append 1→2 t1 prev=1:1 commit=1 [2:1=a]
        append 1→3 t1 prev=1:1 commit=1 [2:1=a]  (dropped)
        ready 2: persist 2:1; send 1
        appendResponse 2→1 t1 index=2
        ready 1: hs t1 vote=1 commit=2; apply 2; send 2
        append 1→2 t1 prev=2:1 commit=2
        append 1→3 t1 prev=2:1 commit=2  (dropped)
        ready 2: hs t1 vote=1 commit=2; apply 2; send 1
        appendResponse 2→1 t1 index=2
      > heal
      > transfer 1 3
      > propose 1 b
        refused: transferring (leader 1)
      > stabilize
        ready 1: send 1
        append 1→3 t1 prev=2:1 commit=2
        ready 3: send 1
        appendResponse 3→1 t1 index=2 reject hint=1:1
        ready 1: send 1
        append 1→3 t1 prev=1:1 commit=2 [2:1=a]
        ready 3: hs t1 vote=1 commit=2; persist 2:1; apply 2; send 1
        appendResponse 3→1 t1 index=2
        ready 1: send 2
        append 1→3 t1 prev=2:1 commit=2
        timeoutNow 1→3 t1
        ready 3: candidate lead=0; hs t2 vote=3 commit=2; send 3
        appendResponse 3→1 t1 index=2
        vote 3→1 t2 last=2:1 transfer
        vote 3→2 t2 last=2:1 transfer
        ready 1: follower lead=0; hs t2 vote=3 commit=2; send 1
        ready 2: follower lead=0; hs t2 vote=3 commit=2; send 1
        voteResponse 1→3 t2
        voteResponse 2→3 t2
        ready 3: leader lead=3; persist 3:2; send 2
        append 3→1 t2 prev=2:1 commit=2 [3:2]
        append 3→2 t2 prev=2:1 commit=2 [3:2]
        ready 1: follower lead=3; persist 3:2; send 1
        ready 2: follower lead=3; persist 3:2; send 1
        appendResponse 1→3 t2 index=3
        appendResponse 2→3 t2 index=3
        ready 3: hs t2 vote=3 commit=3; apply 3; send 2
        append 3→1 t2 prev=3:2 commit=3
        append 3→2 t2 prev=3:2 commit=3
        ready 1: hs t2 vote=3 commit=3; apply 3; send 1
        ready 2: hs t2 vote=3 commit=3; apply 3; send 1
        appendResponse 1→3 t2 index=3
        appendResponse 2→3 t2 index=3
      > status
        1: follower t2 vote=3 lead=3 last=3 commit=3 applied=3
        2: follower t2 vote=3 lead=3 last=3 commit=3 applied=3
        3: leader t2 vote=3 lead=3 last=3 commit=3 applied=3
    `);
  });
});
