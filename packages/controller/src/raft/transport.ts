// The Raft transport: one gRPC channel per peer, fire-and-forget, its Sends pipelined over one
// long-lived stream (SendStream, proto/samsa/v1/pipeline.proto). Per peer at most one Send is in
// flight; whatever the driver hands over meanwhile is queued and goes out as the next batch, so
// messages keep their order, a slow or dead peer never blocks the driver, and its queue is bounded
// (past the bound the queue is dropped: Raft resends what matters). A failed Send is reported to
// the Raft node (unreachable, and a failed snapshot); a delivered snapshot is reported as sent.
import { CHANNEL_OPTIONS, PipelinedClient, grpc, raftProto } from '@samsa/protocol';
import type { RaftClient, RaftEnvelope, RaftMessage, RaftSendResponse__Output } from '@samsa/protocol';
import type { Message, NodeId } from '@samsa/raft';
import type { ControllerLogger } from '../node/logger.js';
import { isWireMessage, toWireMessage } from './wire.js';

export interface PeerAddress {
  readonly id: NodeId;
  readonly host: string;
  readonly port: number;
}

/** What the transport tells the Raft node about delivery. */
export interface DeliveryReports {
  unreachable(peer: NodeId): void;
  snapshotSent(peer: NodeId, ok: boolean): void;
}

export interface RaftTransportOptions {
  readonly selfId: NodeId;
  readonly peers: readonly PeerAddress[];
  readonly reports: DeliveryReports;
  readonly logger: ControllerLogger;
  /** Deadline of one Send (default 5 s; a snapshot rides in one Send too). */
  readonly sendTimeoutMs?: number;
  /** Messages queued for one peer beyond which the queue is dropped (default 10 000). */
  readonly maxQueuedMessages?: number;
}

/** Reconnect quickly: a controller that restarts must be reachable again within an election timeout. */
const PEER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...CHANNEL_OPTIONS,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.min_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

class Peer {
  queue: RaftMessage[] = [];
  queuedSnapshot = false;
  inFlight = false;
  failures = 0;
  readonly sends: PipelinedClient<RaftEnvelope, RaftSendResponse__Output>;

  constructor(
    readonly address: PeerAddress,
    readonly client: RaftClient,
  ) {
    this.sends = new PipelinedClient(() => client.SendStream());
  }
}

export class RaftTransport {
  private readonly peers = new Map<NodeId, Peer>();
  private readonly sendTimeoutMs: number;
  private readonly maxQueued: number;
  private closed = false;

  constructor(private readonly options: RaftTransportOptions) {
    this.sendTimeoutMs = options.sendTimeoutMs ?? 5_000;
    this.maxQueued = options.maxQueuedMessages ?? 10_000;
    const Client = raftProto().samsa.v1.Raft;
    for (const address of options.peers) {
      if (address.id === options.selfId) continue;
      const client = new Client(`${address.host}:${address.port}`, grpc.credentials.createInsecure(), PEER_CHANNEL_OPTIONS);
      this.peers.set(address.id, new Peer(address, client));
    }
  }

  /** Queues the messages for their peers and starts a Send to every idle peer. Never blocks. */
  send(messages: readonly Message[]): void {
    if (this.closed) return;
    const touched = new Set<Peer>();
    for (const m of messages) {
      const peer = this.peers.get(m.to);
      if (peer === undefined || !isWireMessage(m)) continue;
      if (peer.queue.length >= this.maxQueued) {
        this.options.logger.warn({ peer: m.to, dropped: peer.queue.length }, 'raft send queue full; dropping it');
        this.dropQueue(peer);
      }
      peer.queue.push(toWireMessage(m));
      if (m.type === 'snapshot') peer.queuedSnapshot = true;
      touched.add(peer);
    }
    for (const peer of touched) this.flush(peer);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) {
      peer.queue = [];
      peer.sends.close();
      peer.client.close();
    }
  }

  private dropQueue(peer: Peer): void {
    const hadSnapshot = peer.queuedSnapshot;
    peer.queue = [];
    peer.queuedSnapshot = false;
    this.options.reports.unreachable(peer.address.id);
    if (hadSnapshot) this.options.reports.snapshotSent(peer.address.id, false);
  }

  private flush(peer: Peer): void {
    if (this.closed || peer.inFlight || peer.queue.length === 0) return;
    const messages = peer.queue;
    const hasSnapshot = peer.queuedSnapshot;
    peer.queue = [];
    peer.queuedSnapshot = false;
    peer.inFlight = true;
    const id = peer.address.id;
    const envelope = { from: this.options.selfId, to: id, messages };
    const answered = (err: Error | null, response?: RaftSendResponse__Output): void => {
      peer.inFlight = false;
      if (this.closed) return;
      const failure = err ?? (response && response.errorCode !== 0 ? new Error(response.errorMessage) : null);
      if (failure) {
        // Log the first failure of a streak at info, the rest at debug: a down peer is normal.
        if (peer.failures++ === 0) this.options.logger.info({ peer: id, err: failure.message }, 'raft peer unreachable');
        else this.options.logger.debug({ peer: id, err: failure.message }, 'raft send failed');
        this.options.reports.unreachable(id);
        if (hasSnapshot) this.options.reports.snapshotSent(id, false);
      } else {
        if (peer.failures > 0) this.options.logger.info({ peer: id }, 'raft peer reachable again');
        peer.failures = 0;
        if (hasSnapshot) this.options.reports.snapshotSent(id, true);
      }
      this.flush(peer);
    };
    peer.sends.call(envelope, { timeoutMs: this.sendTimeoutMs }).then(
      (response) => answered(null, response),
      (err: Error) => answered(err),
    );
  }
}
