/**
 * A controller's Prometheus metrics (Kafka's KafkaController and Raft metrics under Prometheus
 * names), registered in the registry the node is given. Gauges read the node when scraped;
 * cluster-wide counts come from the active controller only (others report 0, as in Kafka, so a
 * sum over the quorum counts each partition once).
 *
 *   samsa_controller_active                      1 on the active controller, 0 elsewhere
 *   samsa_controller_offline_partitions          partitions without a leader
 *   samsa_controller_fenced_brokers              registered brokers that are fenced
 *   samsa_controller_global_partitions           partitions in the cluster
 *   samsa_raft_commit_latency_seconds            proposal to commit of this leader's proposals
 *   samsa_rpc_*                                  the gRPC API (@samsa/server's RPC_METRICS)
 */
import { type MetadataImage } from '@samsa/metadata';
import { rpcObserver, type RpcObserver } from '@samsa/server';
import { Gauge, Histogram, type Registry } from 'prom-client';

export interface ControllerMetricsView {
  isActive(): boolean;
  image(): MetadataImage;
}

export class ControllerMetrics {
  readonly rpc: RpcObserver;
  readonly commitLatency: Histogram;

  constructor(registry: Registry, view: ControllerMetricsView) {
    const registers = [registry];
    this.rpc = rpcObserver(registry);
    this.commitLatency = new Histogram({
      name: 'samsa_raft_commit_latency_seconds',
      help: 'Time from a metadata proposal on the Raft leader to its commit (quorum persisted)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    new Gauge({
      name: 'samsa_controller_active',
      help: '1 when this controller is the active controller (Raft leader serving writes), else 0',
      registers,
      collect() {
        this.set(view.isActive() ? 1 : 0);
      },
    });
    const activeCount = (name: string, help: string, count: (image: MetadataImage) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(view.isActive() ? count(view.image()) : 0);
        },
      });
    activeCount(
      'samsa_controller_offline_partitions',
      'Partitions without a leader (reported by the active controller; 0 elsewhere)',
      (image) => {
        let n = 0;
        for (const t of image.topics()) for (const p of t.partitions) if (p.leader < 0) n++;
        return n;
      },
    );
    activeCount(
      'samsa_controller_fenced_brokers',
      'Registered brokers that are fenced (reported by the active controller; 0 elsewhere)',
      (image) => image.brokers().filter((b) => b.fenced).length,
    );
    activeCount(
      'samsa_controller_global_partitions',
      'Partitions in the cluster (reported by the active controller; 0 elsewhere)',
      (image) => image.topics().reduce((n, t) => n + t.partitions.length, 0),
    );
  }
}
