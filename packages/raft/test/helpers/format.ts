// One-line renderings of messages and node state for traces and scripted tests.
import type { Message, RaftNode } from '../../src/index.js';

const dec = new TextDecoder();

export function describeMessage(m: Message): string {
  const head = `${m.type} ${m.from}→${m.to} t${m.term}`;
  switch (m.type) {
    case 'append': {
      const ents = m.entries.map((e) => `${e.index}:${e.term}${e.type === 'noop' ? '' : `=${dec.decode(e.data)}`}`).join(' ');
      return `${head} prev=${m.prevLogIndex}:${m.prevLogTerm} commit=${m.commit}${ents ? ` [${ents}]` : ''}`;
    }
    case 'appendResponse':
      return `${head} index=${m.index}${m.reject ? ` reject hint=${m.hintIndex}:${m.hintTerm}` : ''}`;
    case 'vote':
    case 'preVote':
      return `${head} last=${m.lastLogIndex}:${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head}${m.reject ? ' reject' : ''}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}`;
    case 'snapshot':
      return `${head} at ${m.snapshot.metadata.index}:${m.snapshot.metadata.term}`;
    case 'transferLeader':
      return `${head} transferee=${m.transferee}`;
    default:
      return head;
  }
}

export function describeNode(raft: RaftNode): string {
  const s = raft.status();
  return `${s.id}: ${s.role} t${s.term} vote=${s.vote} lead=${s.leaderId} last=${s.lastIndex} commit=${s.commit} applied=${s.applied}`;
}
