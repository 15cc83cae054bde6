/**
 * Hands out producer ids for InitProducerId (Kafka's RPCProducerIdManager on brokers). Ids come in
 * blocks from the active controller (AllocateProducerIds), which writes a ProducerIdsBlock record
 * to the metadata log before answering, so a block is never handed out twice — not to another
 * broker, not after a controller failover, not after this broker restarts (unused ids of a block
 * are simply lost, as in Kafka).
 *
 * States: no block → fetching → serving [next, end); once 90% of the current block is used the
 * next block is fetched in the background, so a burst of InitProducerIds rarely waits. One fetch
 * runs at a time; callers that find the current block empty wait for it.
 */
import { ErrorCode } from '@samsa/protocol';
import type { ProducerIdBlockResult } from '../metadata/image.js';

export interface ProducerIdResult {
  errorCode: number;
  errorMessage: string;
  producerId: bigint;
}

export class ProducerIdManager {
  private next = 0n;
  private end = 0n;
  private blockSize = 0;
  private prefetched: { start: bigint; length: number } | undefined;
  private fetching: Promise<ProducerIdBlockResult> | undefined;

  constructor(private readonly allocate: () => Promise<ProducerIdBlockResult>) {}

  /** A fresh producer id, or a retriable error code when no block could be obtained. */
  async generateProducerId(): Promise<ProducerIdResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.next >= this.end && this.prefetched) {
        this.next = this.prefetched.start;
        this.end = this.prefetched.start + BigInt(this.prefetched.length);
        this.blockSize = this.prefetched.length;
        this.prefetched = undefined;
      }
      if (this.next < this.end) {
        const id = this.next++;
        // Kafka prefetches at 90% of the block.
        if (!this.prefetched && this.end - this.next <= BigInt(Math.floor(this.blockSize / 10))) void this.fetch();
        return { errorCode: ErrorCode.NONE, errorMessage: '', producerId: id };
      }
      const result = await this.fetch();
      if (result.errorCode !== ErrorCode.NONE) return { errorCode: result.errorCode, errorMessage: result.errorMessage, producerId: -1n };
    }
    return {
      errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
      errorMessage: 'producer id blocks were used up while waiting; retry',
      producerId: -1n,
    };
  }

  private fetch(): Promise<ProducerIdBlockResult> {
    this.fetching ??= this.allocate!().then(
      (result) => {
        this.fetching = undefined;
        if (result.errorCode === ErrorCode.NONE) {
          if (result.length <= 0 || result.start < 0n) {
            return {
              errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
              errorMessage: `the controller answered an empty producer id block (${result.start}, ${result.length})`,
              start: -1n,
              length: 0,
            };
          }
          this.prefetched = { start: result.start, length: result.length };
        }
        return result;
      },
      (err: unknown) => {
        this.fetching = undefined;
        return {
          errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
          errorMessage: `producer id allocation failed: ${(err as Error).message}`,
          start: -1n,
          length: 0,
        };
      },
    );
    return this.fetching;
  }
}
