/**
 * The gRPC message types of samsa.v1 under the names the client uses: requests are the generated
 * input types, responses the `__Output` types (defaults filled, int64 as decimal strings; convert
 * at the edge with toBigInt / toWire).
 */
export type {
  AclBinding__Output as AclBindingWire,
  CreateAclsRequest,
  CreateAclsResponse__Output as CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse__Output as DeleteAclsResponse,
  DescribeAclsRequest,
  DescribeAclsResponse__Output as DescribeAclsResponse,
  DescribeTransactionsRequest,
  DescribeTransactionsResponse__Output as DescribeTransactionsResponse,
  ListTransactionsRequest,
  ListTransactionsResponse__Output as ListTransactionsResponse,
  BrokerMetadata__Output as BrokerMetadataWire,
  CreatePartitionsRequest,
  CreatePartitionsResponse__Output as CreatePartitionsResponse,
  CreateTopicsRequest,
  DeleteRecordsRequest,
  DeleteRecordsResponse__Output as DeleteRecordsResponse,
  CreateTopicsResponse__Output as CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse__Output as DeleteTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse__Output as DescribeConfigsResponse,
  ElectLeadersRequest,
  ElectLeadersResponse__Output as ElectLeadersResponse,
  FetchPartitionData__Output as FetchPartitionDataWire,
  FetchRequest,
  FetchResponse__Output as FetchResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse__Output as IncrementalAlterConfigsResponse,
  InitProducerIdRequest,
  InitProducerIdResponse__Output as InitProducerIdResponse,
  LeaderIdAndEpoch__Output as LeaderIdAndEpochWire,
  ListOffsetsPartitionResponse__Output as ListOffsetsPartitionResponseWire,
  ListOffsetsRequest,
  ListOffsetsResponse__Output as ListOffsetsResponse,
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse__Output as OffsetForLeaderEpochResponse,
  MetadataRequest,
  MetadataResponse__Output as MetadataResponse,
  PartitionMetadata__Output as PartitionMetadataWire,
  PartitionProduceResponse__Output as PartitionProduceResponseWire,
  ProduceRequest,
  ProduceResponse__Output as ProduceResponse,
  TopicMetadata__Output as TopicMetadataWire,
} from '@samsa/protocol';

/** ListOffsets sentinel timestamps (proto/samsa/v1/client.proto). */
export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;
export const MAX_TIMESTAMP = -3n;
