/**
 * Compiled (not run) by typecheck.test.ts: the body types derived from the schemas accept what the
 * schemas describe and reject what they do not. Each `@ts-expect-error` must meet an error, so a
 * type that drifted from its schema fails the test.
 */
import {
  ApiKey,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type FetchResponse,
  type JoinGroupRequest,
  type MetadataResponseInput,
  type OffsetFetchRequest,
  type ProduceRequest,
  type ProduceRequestInput,
} from '../../src/index.js';

declare const frame: Buffer;

export const produce: ProduceRequestInput = {
  acks: -1,
  timeoutMs: 30_000,
  transactionalId: null,
  topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.alloc(0) }] }],
};

export const metadata: MetadataResponseInput = {
  brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
  clusterId: null,
  topics: [
    { name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }] },
  ],
};

// @ts-expect-error a misspelled field is not part of ProduceRequest
export const misspelled: ProduceRequestInput = { topicData: [{ nam: 't' }] };

// @ts-expect-error int64 fields are bigint, not number
export const wrongInt64: MetadataResponseInput = { topics: [{ partitions: [{ leaderEpoch: 1n }] }] };

// @ts-expect-error acks is an int16 (number)
export const wrongAcks: ProduceRequestInput = { acks: '1' };

export function decoded(): void {
  const body: ProduceRequest = decodeRequest(ApiKey.Produce, 9, frame, 0);
  const records: Buffer | null = body.topicData[0]!.partitionData[0]!.records;
  const acks: number = body.acks;
  // @ts-expect-error Produce has topicData, not topics
  void body.topics;
  const join: JoinGroupRequest = decodeRequest(ApiKey.JoinGroup, 9, frame, 0);
  const instance: string | null = join.groupInstanceId;
  const metadataBytes: Buffer = join.protocols[0]!.metadata;
  const fetched: FetchResponse = decodeResponse(ApiKey.Fetch, 12, frame).body;
  const leader: number = fetched.responses[0]!.partitions[0]!.currentLeader.leaderEpoch;
  const offset: bigint = fetched.responses[0]!.partitions[0]!.highWatermark;
  const offsets: OffsetFetchRequest = decodeRequest(ApiKey.OffsetFetch, 8, frame, 0);
  const topics: { name: string; partitionIndexes: number[] }[] | null = offsets.groups[0]!.topics;
  void [records, acks, instance, metadataBytes, leader, offset, topics];
  encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 1, clientId: null }, produce);
  encodeResponse(ApiKey.Metadata, 12, 1, metadata);
  // With an explicit API key type argument only the typed overload applies.
  // @ts-expect-error the response body of Metadata has no topicData
  encodeResponse<typeof ApiKey.Metadata>(ApiKey.Metadata, 12, 1, { topicData: [] });
}
