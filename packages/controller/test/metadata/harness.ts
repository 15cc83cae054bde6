// A controller whose proposals commit at once: each result's records replay at the next offset,
// as the Raft wiring will do one entry at a time.
import { expect } from 'vitest';
import { QuorumController, type ControllerResult, type QuorumControllerOptions } from '../../src/index.js';
import { MetadataImage, type MetadataDelta } from '@samsa/metadata';

export class Harness {
  readonly controller: QuorumController;
  offset = 0;
  readonly epochs = new Map<number, string>();
  readonly deltas: MetadataDelta[] = [];

  constructor(options: QuorumControllerOptions = {}) {
    this.controller = new QuorumController(options);
  }

  get image(): MetadataImage {
    return this.controller.image;
  }

  /** Replays the result's records as one committed entry and returns the response. */
  commit<T>(result: ControllerResult<T>): T {
    if (result.records.length > 0) {
      this.offset += 1;
      for (const record of result.records) this.deltas.push(this.controller.replay(record, this.offset, 1));
    }
    return result.response;
  }

  register(brokerId: number, now = 0, incarnationId = `inc-${brokerId}`): string {
    const response = this.commit(this.controller.registerBroker({ brokerId, incarnationId, host: `broker-${brokerId}`, port: 9092 }, now));
    if (response.errorCode !== 0) throw new Error(response.errorMessage);
    this.epochs.set(brokerId, response.brokerEpoch);
    return response.brokerEpoch;
  }

  heartbeat(
    brokerId: number,
    now: number,
    flags: { wantFence?: boolean; wantShutDown?: boolean; offset?: number; offlineLogDirs?: string[] } = {},
  ) {
    return this.commit(
      this.controller.brokerHeartbeat(
        {
          brokerId,
          brokerEpoch: this.epochs.get(brokerId)!,
          currentMetadataOffset: flags.offset ?? this.offset,
          wantFence: flags.wantFence ?? false,
          wantShutDown: flags.wantShutDown ?? false,
          ...(flags.offlineLogDirs === undefined ? {} : { offlineLogDirs: flags.offlineLogDirs }),
        },
        now,
      ),
    );
  }

  /** Registers the brokers and heartbeats each once, caught up, so they are unfenced. */
  startBrokers(ids: readonly number[], now = 0): void {
    for (const id of ids) this.register(id, now);
    for (const id of ids) {
      const response = this.heartbeat(id, now);
      expect(response).toMatchObject({ errorCode: 0, isFenced: false });
    }
  }

  createTopic(name: string, numPartitions: number, replicationFactor: number, configs: Record<string, string> = {}): string {
    const [result] = this.commit(this.controller.createTopics([{ name, numPartitions, replicationFactor, configs }]));
    if (result!.errorCode !== 0) throw new Error(result!.errorMessage);
    return result!.topicId!;
  }

  partition(topic: string, partition: number) {
    return this.image.topic(topic)!.partitions[partition]!;
  }
}
