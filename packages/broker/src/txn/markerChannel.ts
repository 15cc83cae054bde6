/**
 * The transaction coordinator's channel to other brokers' partition leaders (Kafka's
 * TransactionMarkerChannelManager, minus its batching per broker): samsa.v1.Replication/
 * WriteTxnMarkers over gRPC, one client per broker address. Retries belong to the coordinator
 * shell (coordinator.ts); a transport failure answers NETWORK_EXCEPTION for every marker.
 */
import { CHANNEL_OPTIONS, ErrorCode, grpc, replicationProto, toWire, type ReplicationClient } from '@samsa/protocol';
import type { TxnMarkerEntry } from '../replicaManager.js';
import type { TxnMarkerChannel } from './transactionStateManager.js';
import type { ErrorResponse } from './transactionCoordinatorState.js';

export class GrpcTxnMarkerChannel implements TxnMarkerChannel {
  private readonly clients = new Map<number, { address: string; client: ReplicationClient }>();

  constructor(private readonly addressOf: (brokerId: number) => { host: string; port: number } | undefined) {}

  write(brokerId: number, markers: TxnMarkerEntry[], timeoutMs: number): Promise<ErrorResponse[]> {
    const client = this.clientFor(brokerId);
    const failAll = (code: number, message: string): ErrorResponse[] => markers.map(() => ({ errorCode: code, errorMessage: message }));
    if (!client) return Promise.resolve(failAll(ErrorCode.NOT_LEADER_OR_FOLLOWER, `the address of broker ${brokerId} is not known`));
    return new Promise((resolve) => {
      client.WriteTxnMarkers(
        {
          timeoutMs,
          markers: markers.map((m) => ({
            topic: m.topic,
            partition: m.partition,
            producerId: toWire(m.producerId),
            producerEpoch: m.producerEpoch,
            coordinatorEpoch: m.coordinatorEpoch,
            committed: m.committed,
          })),
        },
        { deadline: Date.now() + timeoutMs + 5_000 },
        (err, res) => {
          if (err || !res) {
            resolve(failAll(ErrorCode.NETWORK_EXCEPTION, `WriteTxnMarkers to broker ${brokerId} failed: ${err?.message ?? 'no answer'}`));
            return;
          }
          resolve(
            markers.map((m) => {
              const r = res.results.find((x) => x.topic === m.topic && x.partition === m.partition);
              return r
                ? { errorCode: r.errorCode, errorMessage: r.errorMessage }
                : { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: 'no result' };
            }),
          );
        },
      );
    });
  }

  private clientFor(brokerId: number): ReplicationClient | undefined {
    const at = this.addressOf(brokerId);
    if (!at) return undefined;
    const address = `${at.host}:${at.port}`;
    const cached = this.clients.get(brokerId);
    if (cached?.address === address) return cached.client;
    cached?.client.close();
    const Ctor = replicationProto().samsa.v1.Replication;
    const client = new Ctor(address, grpc.credentials.createInsecure(), {
      ...CHANNEL_OPTIONS,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1_000,
    });
    this.clients.set(brokerId, { address, client });
    return client;
  }

  close(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}
