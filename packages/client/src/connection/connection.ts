/**
 * The connection layer's contract: one BrokerConnection per broker address, with one typed method
 * per RPC of service samsa.v1.Samsa. Everything above (cluster, producer, consumer, admin) speaks
 * only to this interface, so tests substitute a fake broker. gRPC does the framing that a Kafka
 * client's connection and broker layers would; a transport failure surfaces as a retriable
 * SamsaConnectionError, never as a raw gRPC error.
 */
import type {
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  FetchRequest,
  FetchResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  DescribeAclsRequest,
  DescribeAclsResponse,
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
  ListTransactionsRequest,
  ListTransactionsResponse,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  EndTxnRequest,
  EndTxnResponse,
  DescribeProducersRequest,
  DescribeProducersResponse,
  WriteTxnMarkersRequest,
  WriteTxnMarkersResponse,
} from '../wire.js';

export interface RequestOptions {
  /** Transport deadline for this call; defaults to the connection's request timeout. */
  timeoutMs?: number;
  /** Cancels the call; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface BrokerConnection {
  /** host:port */
  readonly address: string;
  metadata(request: MetadataRequest, options?: RequestOptions): Promise<MetadataResponse>;
  createTopics(request: CreateTopicsRequest, options?: RequestOptions): Promise<CreateTopicsResponse>;
  deleteTopics(request: DeleteTopicsRequest, options?: RequestOptions): Promise<DeleteTopicsResponse>;
  /** Kafka's CreatePartitions. */
  createPartitions(request: CreatePartitionsRequest, options?: RequestOptions): Promise<CreatePartitionsResponse>;
  /** Kafka's AlterPartitionReassignments and ListPartitionReassignments (KIP-455). */
  alterPartitionReassignments(
    request: AlterPartitionReassignmentsRequest,
    options?: RequestOptions,
  ): Promise<AlterPartitionReassignmentsResponse>;
  listPartitionReassignments(
    request: ListPartitionReassignmentsRequest,
    options?: RequestOptions,
  ): Promise<ListPartitionReassignmentsResponse>;
  /** Kafka's DeleteRecords (to the partitions' leader). */
  deleteRecords(request: DeleteRecordsRequest, options?: RequestOptions): Promise<DeleteRecordsResponse>;
  produce(request: ProduceRequest, options?: RequestOptions): Promise<ProduceResponse>;
  fetch(request: FetchRequest, options?: RequestOptions): Promise<FetchResponse>;
  listOffsets(request: ListOffsetsRequest, options?: RequestOptions): Promise<ListOffsetsResponse>;
  /** KIP-320: where an epoch ends on the leader, to validate a consumer position. */
  offsetForLeaderEpoch(request: OffsetForLeaderEpochRequest, options?: RequestOptions): Promise<OffsetForLeaderEpochResponse>;
  incrementalAlterConfigs(request: IncrementalAlterConfigsRequest, options?: RequestOptions): Promise<IncrementalAlterConfigsResponse>;
  describeConfigs(request: DescribeConfigsRequest, options?: RequestOptions): Promise<DescribeConfigsResponse>;
  /** Kafka's ElectLeaders. */
  electLeaders(request: ElectLeadersRequest, options?: RequestOptions): Promise<ElectLeadersResponse>;
  /** Kafka's InitProducerId (idempotent producers; transactional ones at their transaction coordinator). */
  initProducerId(request: InitProducerIdRequest, options?: RequestOptions): Promise<InitProducerIdResponse>;
  /** Kafka's DescribeAcls, CreateAcls, DeleteAcls. */
  describeAcls(request: DescribeAclsRequest, options?: RequestOptions): Promise<DescribeAclsResponse>;
  createAcls(request: CreateAclsRequest, options?: RequestOptions): Promise<CreateAclsResponse>;
  deleteAcls(request: DeleteAclsRequest, options?: RequestOptions): Promise<DeleteAclsResponse>;
  /** Kafka's ListTransactions and DescribeTransactions (KIP-664). */
  listTransactions(request: ListTransactionsRequest, options?: RequestOptions): Promise<ListTransactionsResponse>;
  describeTransactions(request: DescribeTransactionsRequest, options?: RequestOptions): Promise<DescribeTransactionsResponse>;
  /** Kafka's AddPartitionsToTxn, AddOffsetsToTxn, EndTxn (to the transactional id's coordinator). */
  addPartitionsToTxn(request: AddPartitionsToTxnRequest, options?: RequestOptions): Promise<AddPartitionsToTxnResponse>;
  addOffsetsToTxn(request: AddOffsetsToTxnRequest, options?: RequestOptions): Promise<AddOffsetsToTxnResponse>;
  endTxn(request: EndTxnRequest, options?: RequestOptions): Promise<EndTxnResponse>;
  /** Kafka's DescribeProducers (to the partitions' leader). */
  describeProducers(request: DescribeProducersRequest, options?: RequestOptions): Promise<DescribeProducersResponse>;
  /**
   * Kafka's WriteTxnMarkers (service Replication, CLUSTER_ACTION): an admin aborting a hanging
   * transaction (kafka-transactions abort), to the partitions' leader.
   */
  writeTxnMarkers(request: WriteTxnMarkersRequest, options?: RequestOptions): Promise<WriteTxnMarkersResponse>;
  /** Releases the transport; later calls may reopen it lazily. */
  close(): void;
}

/** Makes the connection for one broker address. */
export type ConnectionFactory = (address: string) => BrokerConnection;

/** `host:port` for a broker, bracketing IPv6 literals. */
export function brokerAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
