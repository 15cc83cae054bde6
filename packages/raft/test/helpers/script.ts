// Interaction scripts: a test is a list of commands against a TestCluster, and its expectation is
// the transcript (each command echoed after "> ", then what it printed). Commands:
//
//   cluster <n> [preVote] [checkQuorum]   start n empty nodes (must come first)
//   campaign <id>                         node id's election timer fires
//   elect <id>                            campaign and stabilize silently (setup)
//   propose <id> <text>                   propose on node id (prints a refusal)
//   transfer <id> <to>                    ask node id to hand leadership to <to>
//   tick <id> [times]                     tick one node
//   process                               every node persists its Ready (printed) and queues its messages
//   deliver [to]                          deliver queued messages (only those to <to>), printing them
//   stabilize                             process and deliver until nothing moves
//   isolate <id> | heal                   cut every link of a node | restore all links
//   status [id ...]                       role, term, vote, leader, last index, commit, applied
//   log <id>                              the node's persisted terms and applied values
import type { Ready } from '../../src/index.js';
import { TestCluster } from './cluster.js';
import type { TestNode } from './cluster.js';
import { describeMessage, describeNode } from './format.js';

export function runScript(script: string): string {
  const out: string[] = [];
  let c: TestCluster | undefined;
  const cluster = (): TestCluster => {
    if (!c) throw new Error('the script must start with `cluster <n>`');
    return c;
  };
  const printReady = (n: TestNode, rd: Ready): void => {
    const parts: string[] = [];
    if (rd.softState) parts.push(`${rd.softState.role} lead=${rd.softState.leaderId}`);
    if (rd.hardState) parts.push(`hs t${rd.hardState.term} vote=${rd.hardState.vote} commit=${rd.hardState.commit}`);
    if (rd.snapshot) parts.push(`snapshot ${rd.snapshot.metadata.index}:${rd.snapshot.metadata.term}`);
    if (rd.entries.length) parts.push(`persist ${rd.entries.map((e) => `${e.index}:${e.term}`).join(' ')}`);
    if (rd.committedEntries.length) parts.push(`apply ${rd.committedEntries.map((e) => e.index).join(' ')}`);
    if (rd.messages.length) parts.push(`send ${rd.messages.length}`);
    out.push(`  ready ${n.id}: ${parts.join('; ')}`);
  };
  const deliver = (to?: number): number =>
    cluster().deliver(
      (m) => to === undefined || m.to === to,
      (m, delivered) => out.push(`  ${describeMessage(m)}${delivered ? '' : '  (dropped)'}`),
    );

  for (const raw of script.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    out.push(`> ${line}`);
    const [cmd, ...args] = line.split(/\s+/);
    const num = (i: number): number => Number(args[i]);
    switch (cmd) {
      case 'cluster':
        c = new TestCluster(num(0), { preVote: args.includes('preVote'), checkQuorum: args.includes('checkQuorum') });
        break;
      case 'campaign':
        cluster().raft(num(0)).campaign();
        break;
      case 'elect':
        cluster().elect(num(0));
        break;
      case 'propose': {
        const r = cluster()
          .raft(num(0))
          .propose(new TextEncoder().encode(args.slice(1).join(' ')));
        out.push(r.ok ? `  index ${r.index}` : `  refused: ${r.reason} (leader ${r.leaderId})`);
        break;
      }
      case 'transfer':
        cluster().raft(num(0)).transferLeadership(num(1));
        break;
      case 'tick':
        cluster().tick(num(0), args[1] ? num(1) : 1);
        break;
      case 'process':
        cluster().flush(printReady);
        break;
      case 'deliver':
        deliver(args[0] ? num(0) : undefined);
        break;
      case 'stabilize':
        for (let round = 0; ; round++) {
          if (round > 100) throw new Error('did not stabilize');
          cluster().flush(printReady);
          if (cluster().inFlight.length === 0) break;
          deliver();
        }
        break;
      case 'isolate':
        cluster().isolate(num(0));
        break;
      case 'heal':
        cluster().heal();
        break;
      case 'status':
        for (const id of args.length ? args.map(Number) : cluster().ids) out.push(`  ${describeNode(cluster().raft(id))}`);
        break;
      case 'log':
        out.push(`  terms ${cluster().persistedTerms(num(0)).join(' ')}; applied [${cluster().appliedData(num(0)).join(', ')}]`);
        break;
      default:
        throw new Error(`unknown command: ${line}`);
    }
  }
  return out.join('\n');
}

/** Strip the common indentation of a template literal, so transcripts can be indented in tests. */
export function dedent(text: string): string {
  const lines = text
    .replace(/^\n/, '')
    .replace(/\n\s*$/, '')
    .split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
