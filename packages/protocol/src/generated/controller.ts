import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AbortedTransaction as _samsa_v1_AbortedTransaction, AbortedTransaction__Output as _samsa_v1_AbortedTransaction__Output } from './samsa/v1/AbortedTransaction.js';
import type { AclBinding as _samsa_v1_AclBinding, AclBinding__Output as _samsa_v1_AclBinding__Output } from './samsa/v1/AclBinding.js';
import type { AclBindingFilter as _samsa_v1_AclBindingFilter, AclBindingFilter__Output as _samsa_v1_AclBindingFilter__Output } from './samsa/v1/AclBindingFilter.js';
import type { AclCreationResult as _samsa_v1_AclCreationResult, AclCreationResult__Output as _samsa_v1_AclCreationResult__Output } from './samsa/v1/AclCreationResult.js';
import type { AddOffsetsToTxnRequest as _samsa_v1_AddOffsetsToTxnRequest, AddOffsetsToTxnRequest__Output as _samsa_v1_AddOffsetsToTxnRequest__Output } from './samsa/v1/AddOffsetsToTxnRequest.js';
import type { AddOffsetsToTxnResponse as _samsa_v1_AddOffsetsToTxnResponse, AddOffsetsToTxnResponse__Output as _samsa_v1_AddOffsetsToTxnResponse__Output } from './samsa/v1/AddOffsetsToTxnResponse.js';
import type { AddPartitionsToTxnPartitionResult as _samsa_v1_AddPartitionsToTxnPartitionResult, AddPartitionsToTxnPartitionResult__Output as _samsa_v1_AddPartitionsToTxnPartitionResult__Output } from './samsa/v1/AddPartitionsToTxnPartitionResult.js';
import type { AddPartitionsToTxnRequest as _samsa_v1_AddPartitionsToTxnRequest, AddPartitionsToTxnRequest__Output as _samsa_v1_AddPartitionsToTxnRequest__Output } from './samsa/v1/AddPartitionsToTxnRequest.js';
import type { AddPartitionsToTxnResponse as _samsa_v1_AddPartitionsToTxnResponse, AddPartitionsToTxnResponse__Output as _samsa_v1_AddPartitionsToTxnResponse__Output } from './samsa/v1/AddPartitionsToTxnResponse.js';
import type { AddPartitionsToTxnTopic as _samsa_v1_AddPartitionsToTxnTopic, AddPartitionsToTxnTopic__Output as _samsa_v1_AddPartitionsToTxnTopic__Output } from './samsa/v1/AddPartitionsToTxnTopic.js';
import type { AddPartitionsToTxnTopicResult as _samsa_v1_AddPartitionsToTxnTopicResult, AddPartitionsToTxnTopicResult__Output as _samsa_v1_AddPartitionsToTxnTopicResult__Output } from './samsa/v1/AddPartitionsToTxnTopicResult.js';
import type { AllocateProducerIdsRequest as _samsa_v1_AllocateProducerIdsRequest, AllocateProducerIdsRequest__Output as _samsa_v1_AllocateProducerIdsRequest__Output } from './samsa/v1/AllocateProducerIdsRequest.js';
import type { AllocateProducerIdsResponse as _samsa_v1_AllocateProducerIdsResponse, AllocateProducerIdsResponse__Output as _samsa_v1_AllocateProducerIdsResponse__Output } from './samsa/v1/AllocateProducerIdsResponse.js';
import type { AlterConfigsResource as _samsa_v1_AlterConfigsResource, AlterConfigsResource__Output as _samsa_v1_AlterConfigsResource__Output } from './samsa/v1/AlterConfigsResource.js';
import type { AlterConfigsResourceResponse as _samsa_v1_AlterConfigsResourceResponse, AlterConfigsResourceResponse__Output as _samsa_v1_AlterConfigsResourceResponse__Output } from './samsa/v1/AlterConfigsResourceResponse.js';
import type { AlterPartitionPartition as _samsa_v1_AlterPartitionPartition, AlterPartitionPartition__Output as _samsa_v1_AlterPartitionPartition__Output } from './samsa/v1/AlterPartitionPartition.js';
import type { AlterPartitionPartitionResult as _samsa_v1_AlterPartitionPartitionResult, AlterPartitionPartitionResult__Output as _samsa_v1_AlterPartitionPartitionResult__Output } from './samsa/v1/AlterPartitionPartitionResult.js';
import type { AlterPartitionReassignmentsRequest as _samsa_v1_AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsRequest__Output as _samsa_v1_AlterPartitionReassignmentsRequest__Output } from './samsa/v1/AlterPartitionReassignmentsRequest.js';
import type { AlterPartitionReassignmentsResponse as _samsa_v1_AlterPartitionReassignmentsResponse, AlterPartitionReassignmentsResponse__Output as _samsa_v1_AlterPartitionReassignmentsResponse__Output } from './samsa/v1/AlterPartitionReassignmentsResponse.js';
import type { AlterPartitionRequest as _samsa_v1_AlterPartitionRequest, AlterPartitionRequest__Output as _samsa_v1_AlterPartitionRequest__Output } from './samsa/v1/AlterPartitionRequest.js';
import type { AlterPartitionResponse as _samsa_v1_AlterPartitionResponse, AlterPartitionResponse__Output as _samsa_v1_AlterPartitionResponse__Output } from './samsa/v1/AlterPartitionResponse.js';
import type { AlterPartitionTopic as _samsa_v1_AlterPartitionTopic, AlterPartitionTopic__Output as _samsa_v1_AlterPartitionTopic__Output } from './samsa/v1/AlterPartitionTopic.js';
import type { AlterPartitionTopicResult as _samsa_v1_AlterPartitionTopicResult, AlterPartitionTopicResult__Output as _samsa_v1_AlterPartitionTopicResult__Output } from './samsa/v1/AlterPartitionTopicResult.js';
import type { AlterUserScramCredentialsRequest as _samsa_v1_AlterUserScramCredentialsRequest, AlterUserScramCredentialsRequest__Output as _samsa_v1_AlterUserScramCredentialsRequest__Output } from './samsa/v1/AlterUserScramCredentialsRequest.js';
import type { AlterUserScramCredentialsResponse as _samsa_v1_AlterUserScramCredentialsResponse, AlterUserScramCredentialsResponse__Output as _samsa_v1_AlterUserScramCredentialsResponse__Output } from './samsa/v1/AlterUserScramCredentialsResponse.js';
import type { AlterUserScramCredentialsResult as _samsa_v1_AlterUserScramCredentialsResult, AlterUserScramCredentialsResult__Output as _samsa_v1_AlterUserScramCredentialsResult__Output } from './samsa/v1/AlterUserScramCredentialsResult.js';
import type { AlterableConfig as _samsa_v1_AlterableConfig, AlterableConfig__Output as _samsa_v1_AlterableConfig__Output } from './samsa/v1/AlterableConfig.js';
import type { BrokerHeartbeatRequest as _samsa_v1_BrokerHeartbeatRequest, BrokerHeartbeatRequest__Output as _samsa_v1_BrokerHeartbeatRequest__Output } from './samsa/v1/BrokerHeartbeatRequest.js';
import type { BrokerHeartbeatResponse as _samsa_v1_BrokerHeartbeatResponse, BrokerHeartbeatResponse__Output as _samsa_v1_BrokerHeartbeatResponse__Output } from './samsa/v1/BrokerHeartbeatResponse.js';
import type { BrokerMetadata as _samsa_v1_BrokerMetadata, BrokerMetadata__Output as _samsa_v1_BrokerMetadata__Output } from './samsa/v1/BrokerMetadata.js';
import type { ControllerClient as _samsa_v1_ControllerClient, ControllerDefinition as _samsa_v1_ControllerDefinition } from './samsa/v1/Controller.js';
import type { CreatableTopic as _samsa_v1_CreatableTopic, CreatableTopic__Output as _samsa_v1_CreatableTopic__Output } from './samsa/v1/CreatableTopic.js';
import type { CreatableTopicResult as _samsa_v1_CreatableTopicResult, CreatableTopicResult__Output as _samsa_v1_CreatableTopicResult__Output } from './samsa/v1/CreatableTopicResult.js';
import type { CreateAclsRequest as _samsa_v1_CreateAclsRequest, CreateAclsRequest__Output as _samsa_v1_CreateAclsRequest__Output } from './samsa/v1/CreateAclsRequest.js';
import type { CreateAclsResponse as _samsa_v1_CreateAclsResponse, CreateAclsResponse__Output as _samsa_v1_CreateAclsResponse__Output } from './samsa/v1/CreateAclsResponse.js';
import type { CreatePartitionsRequest as _samsa_v1_CreatePartitionsRequest, CreatePartitionsRequest__Output as _samsa_v1_CreatePartitionsRequest__Output } from './samsa/v1/CreatePartitionsRequest.js';
import type { CreatePartitionsResponse as _samsa_v1_CreatePartitionsResponse, CreatePartitionsResponse__Output as _samsa_v1_CreatePartitionsResponse__Output } from './samsa/v1/CreatePartitionsResponse.js';
import type { CreatePartitionsTopic as _samsa_v1_CreatePartitionsTopic, CreatePartitionsTopic__Output as _samsa_v1_CreatePartitionsTopic__Output } from './samsa/v1/CreatePartitionsTopic.js';
import type { CreatePartitionsTopicResult as _samsa_v1_CreatePartitionsTopicResult, CreatePartitionsTopicResult__Output as _samsa_v1_CreatePartitionsTopicResult__Output } from './samsa/v1/CreatePartitionsTopicResult.js';
import type { CreateTopicsRequest as _samsa_v1_CreateTopicsRequest, CreateTopicsRequest__Output as _samsa_v1_CreateTopicsRequest__Output } from './samsa/v1/CreateTopicsRequest.js';
import type { CreateTopicsResponse as _samsa_v1_CreateTopicsResponse, CreateTopicsResponse__Output as _samsa_v1_CreateTopicsResponse__Output } from './samsa/v1/CreateTopicsResponse.js';
import type { DeletableTopicResult as _samsa_v1_DeletableTopicResult, DeletableTopicResult__Output as _samsa_v1_DeletableTopicResult__Output } from './samsa/v1/DeletableTopicResult.js';
import type { DeleteAclsFilterResult as _samsa_v1_DeleteAclsFilterResult, DeleteAclsFilterResult__Output as _samsa_v1_DeleteAclsFilterResult__Output } from './samsa/v1/DeleteAclsFilterResult.js';
import type { DeleteAclsRequest as _samsa_v1_DeleteAclsRequest, DeleteAclsRequest__Output as _samsa_v1_DeleteAclsRequest__Output } from './samsa/v1/DeleteAclsRequest.js';
import type { DeleteAclsResponse as _samsa_v1_DeleteAclsResponse, DeleteAclsResponse__Output as _samsa_v1_DeleteAclsResponse__Output } from './samsa/v1/DeleteAclsResponse.js';
import type { DeleteRecordsPartition as _samsa_v1_DeleteRecordsPartition, DeleteRecordsPartition__Output as _samsa_v1_DeleteRecordsPartition__Output } from './samsa/v1/DeleteRecordsPartition.js';
import type { DeleteRecordsPartitionResult as _samsa_v1_DeleteRecordsPartitionResult, DeleteRecordsPartitionResult__Output as _samsa_v1_DeleteRecordsPartitionResult__Output } from './samsa/v1/DeleteRecordsPartitionResult.js';
import type { DeleteRecordsRequest as _samsa_v1_DeleteRecordsRequest, DeleteRecordsRequest__Output as _samsa_v1_DeleteRecordsRequest__Output } from './samsa/v1/DeleteRecordsRequest.js';
import type { DeleteRecordsResponse as _samsa_v1_DeleteRecordsResponse, DeleteRecordsResponse__Output as _samsa_v1_DeleteRecordsResponse__Output } from './samsa/v1/DeleteRecordsResponse.js';
import type { DeleteRecordsTopic as _samsa_v1_DeleteRecordsTopic, DeleteRecordsTopic__Output as _samsa_v1_DeleteRecordsTopic__Output } from './samsa/v1/DeleteRecordsTopic.js';
import type { DeleteRecordsTopicResult as _samsa_v1_DeleteRecordsTopicResult, DeleteRecordsTopicResult__Output as _samsa_v1_DeleteRecordsTopicResult__Output } from './samsa/v1/DeleteRecordsTopicResult.js';
import type { DeleteTopicsRequest as _samsa_v1_DeleteTopicsRequest, DeleteTopicsRequest__Output as _samsa_v1_DeleteTopicsRequest__Output } from './samsa/v1/DeleteTopicsRequest.js';
import type { DeleteTopicsResponse as _samsa_v1_DeleteTopicsResponse, DeleteTopicsResponse__Output as _samsa_v1_DeleteTopicsResponse__Output } from './samsa/v1/DeleteTopicsResponse.js';
import type { DescribeAclsRequest as _samsa_v1_DescribeAclsRequest, DescribeAclsRequest__Output as _samsa_v1_DescribeAclsRequest__Output } from './samsa/v1/DescribeAclsRequest.js';
import type { DescribeAclsResponse as _samsa_v1_DescribeAclsResponse, DescribeAclsResponse__Output as _samsa_v1_DescribeAclsResponse__Output } from './samsa/v1/DescribeAclsResponse.js';
import type { DescribeConfigsRequest as _samsa_v1_DescribeConfigsRequest, DescribeConfigsRequest__Output as _samsa_v1_DescribeConfigsRequest__Output } from './samsa/v1/DescribeConfigsRequest.js';
import type { DescribeConfigsResource as _samsa_v1_DescribeConfigsResource, DescribeConfigsResource__Output as _samsa_v1_DescribeConfigsResource__Output } from './samsa/v1/DescribeConfigsResource.js';
import type { DescribeConfigsResourceResult as _samsa_v1_DescribeConfigsResourceResult, DescribeConfigsResourceResult__Output as _samsa_v1_DescribeConfigsResourceResult__Output } from './samsa/v1/DescribeConfigsResourceResult.js';
import type { DescribeConfigsResponse as _samsa_v1_DescribeConfigsResponse, DescribeConfigsResponse__Output as _samsa_v1_DescribeConfigsResponse__Output } from './samsa/v1/DescribeConfigsResponse.js';
import type { DescribeConfigsResult as _samsa_v1_DescribeConfigsResult, DescribeConfigsResult__Output as _samsa_v1_DescribeConfigsResult__Output } from './samsa/v1/DescribeConfigsResult.js';
import type { DescribeConfigsSynonym as _samsa_v1_DescribeConfigsSynonym, DescribeConfigsSynonym__Output as _samsa_v1_DescribeConfigsSynonym__Output } from './samsa/v1/DescribeConfigsSynonym.js';
import type { DescribeProducersPartition as _samsa_v1_DescribeProducersPartition, DescribeProducersPartition__Output as _samsa_v1_DescribeProducersPartition__Output } from './samsa/v1/DescribeProducersPartition.js';
import type { DescribeProducersRequest as _samsa_v1_DescribeProducersRequest, DescribeProducersRequest__Output as _samsa_v1_DescribeProducersRequest__Output } from './samsa/v1/DescribeProducersRequest.js';
import type { DescribeProducersResponse as _samsa_v1_DescribeProducersResponse, DescribeProducersResponse__Output as _samsa_v1_DescribeProducersResponse__Output } from './samsa/v1/DescribeProducersResponse.js';
import type { DescribeProducersTopic as _samsa_v1_DescribeProducersTopic, DescribeProducersTopic__Output as _samsa_v1_DescribeProducersTopic__Output } from './samsa/v1/DescribeProducersTopic.js';
import type { DescribeQuorumRequest as _samsa_v1_DescribeQuorumRequest, DescribeQuorumRequest__Output as _samsa_v1_DescribeQuorumRequest__Output } from './samsa/v1/DescribeQuorumRequest.js';
import type { DescribeQuorumResponse as _samsa_v1_DescribeQuorumResponse, DescribeQuorumResponse__Output as _samsa_v1_DescribeQuorumResponse__Output } from './samsa/v1/DescribeQuorumResponse.js';
import type { DescribeTransactionsRequest as _samsa_v1_DescribeTransactionsRequest, DescribeTransactionsRequest__Output as _samsa_v1_DescribeTransactionsRequest__Output } from './samsa/v1/DescribeTransactionsRequest.js';
import type { DescribeTransactionsResponse as _samsa_v1_DescribeTransactionsResponse, DescribeTransactionsResponse__Output as _samsa_v1_DescribeTransactionsResponse__Output } from './samsa/v1/DescribeTransactionsResponse.js';
import type { DescribeUserScramCredentialsRequest as _samsa_v1_DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsRequest__Output as _samsa_v1_DescribeUserScramCredentialsRequest__Output } from './samsa/v1/DescribeUserScramCredentialsRequest.js';
import type { DescribeUserScramCredentialsResponse as _samsa_v1_DescribeUserScramCredentialsResponse, DescribeUserScramCredentialsResponse__Output as _samsa_v1_DescribeUserScramCredentialsResponse__Output } from './samsa/v1/DescribeUserScramCredentialsResponse.js';
import type { DescribeUserScramCredentialsResult as _samsa_v1_DescribeUserScramCredentialsResult, DescribeUserScramCredentialsResult__Output as _samsa_v1_DescribeUserScramCredentialsResult__Output } from './samsa/v1/DescribeUserScramCredentialsResult.js';
import type { ElectLeadersPartitionResult as _samsa_v1_ElectLeadersPartitionResult, ElectLeadersPartitionResult__Output as _samsa_v1_ElectLeadersPartitionResult__Output } from './samsa/v1/ElectLeadersPartitionResult.js';
import type { ElectLeadersRequest as _samsa_v1_ElectLeadersRequest, ElectLeadersRequest__Output as _samsa_v1_ElectLeadersRequest__Output } from './samsa/v1/ElectLeadersRequest.js';
import type { ElectLeadersResponse as _samsa_v1_ElectLeadersResponse, ElectLeadersResponse__Output as _samsa_v1_ElectLeadersResponse__Output } from './samsa/v1/ElectLeadersResponse.js';
import type { ElectLeadersTopicPartitions as _samsa_v1_ElectLeadersTopicPartitions, ElectLeadersTopicPartitions__Output as _samsa_v1_ElectLeadersTopicPartitions__Output } from './samsa/v1/ElectLeadersTopicPartitions.js';
import type { ElectLeadersTopicResult as _samsa_v1_ElectLeadersTopicResult, ElectLeadersTopicResult__Output as _samsa_v1_ElectLeadersTopicResult__Output } from './samsa/v1/ElectLeadersTopicResult.js';
import type { EndTxnRequest as _samsa_v1_EndTxnRequest, EndTxnRequest__Output as _samsa_v1_EndTxnRequest__Output } from './samsa/v1/EndTxnRequest.js';
import type { EndTxnResponse as _samsa_v1_EndTxnResponse, EndTxnResponse__Output as _samsa_v1_EndTxnResponse__Output } from './samsa/v1/EndTxnResponse.js';
import type { FetchCall as _samsa_v1_FetchCall, FetchCall__Output as _samsa_v1_FetchCall__Output } from './samsa/v1/FetchCall.js';
import type { FetchMetadataRequest as _samsa_v1_FetchMetadataRequest, FetchMetadataRequest__Output as _samsa_v1_FetchMetadataRequest__Output } from './samsa/v1/FetchMetadataRequest.js';
import type { FetchMetadataResponse as _samsa_v1_FetchMetadataResponse, FetchMetadataResponse__Output as _samsa_v1_FetchMetadataResponse__Output } from './samsa/v1/FetchMetadataResponse.js';
import type { FetchPartition as _samsa_v1_FetchPartition, FetchPartition__Output as _samsa_v1_FetchPartition__Output } from './samsa/v1/FetchPartition.js';
import type { FetchPartitionData as _samsa_v1_FetchPartitionData, FetchPartitionData__Output as _samsa_v1_FetchPartitionData__Output } from './samsa/v1/FetchPartitionData.js';
import type { FetchReply as _samsa_v1_FetchReply, FetchReply__Output as _samsa_v1_FetchReply__Output } from './samsa/v1/FetchReply.js';
import type { FetchRequest as _samsa_v1_FetchRequest, FetchRequest__Output as _samsa_v1_FetchRequest__Output } from './samsa/v1/FetchRequest.js';
import type { FetchResponse as _samsa_v1_FetchResponse, FetchResponse__Output as _samsa_v1_FetchResponse__Output } from './samsa/v1/FetchResponse.js';
import type { FetchTopic as _samsa_v1_FetchTopic, FetchTopic__Output as _samsa_v1_FetchTopic__Output } from './samsa/v1/FetchTopic.js';
import type { FetchTopicResponse as _samsa_v1_FetchTopicResponse, FetchTopicResponse__Output as _samsa_v1_FetchTopicResponse__Output } from './samsa/v1/FetchTopicResponse.js';
import type { IncrementalAlterConfigsRequest as _samsa_v1_IncrementalAlterConfigsRequest, IncrementalAlterConfigsRequest__Output as _samsa_v1_IncrementalAlterConfigsRequest__Output } from './samsa/v1/IncrementalAlterConfigsRequest.js';
import type { IncrementalAlterConfigsResponse as _samsa_v1_IncrementalAlterConfigsResponse, IncrementalAlterConfigsResponse__Output as _samsa_v1_IncrementalAlterConfigsResponse__Output } from './samsa/v1/IncrementalAlterConfigsResponse.js';
import type { InitProducerIdRequest as _samsa_v1_InitProducerIdRequest, InitProducerIdRequest__Output as _samsa_v1_InitProducerIdRequest__Output } from './samsa/v1/InitProducerIdRequest.js';
import type { InitProducerIdResponse as _samsa_v1_InitProducerIdResponse, InitProducerIdResponse__Output as _samsa_v1_InitProducerIdResponse__Output } from './samsa/v1/InitProducerIdResponse.js';
import type { LeaderIdAndEpoch as _samsa_v1_LeaderIdAndEpoch, LeaderIdAndEpoch__Output as _samsa_v1_LeaderIdAndEpoch__Output } from './samsa/v1/LeaderIdAndEpoch.js';
import type { ListOffsetsPartition as _samsa_v1_ListOffsetsPartition, ListOffsetsPartition__Output as _samsa_v1_ListOffsetsPartition__Output } from './samsa/v1/ListOffsetsPartition.js';
import type { ListOffsetsPartitionResponse as _samsa_v1_ListOffsetsPartitionResponse, ListOffsetsPartitionResponse__Output as _samsa_v1_ListOffsetsPartitionResponse__Output } from './samsa/v1/ListOffsetsPartitionResponse.js';
import type { ListOffsetsRequest as _samsa_v1_ListOffsetsRequest, ListOffsetsRequest__Output as _samsa_v1_ListOffsetsRequest__Output } from './samsa/v1/ListOffsetsRequest.js';
import type { ListOffsetsResponse as _samsa_v1_ListOffsetsResponse, ListOffsetsResponse__Output as _samsa_v1_ListOffsetsResponse__Output } from './samsa/v1/ListOffsetsResponse.js';
import type { ListOffsetsTopic as _samsa_v1_ListOffsetsTopic, ListOffsetsTopic__Output as _samsa_v1_ListOffsetsTopic__Output } from './samsa/v1/ListOffsetsTopic.js';
import type { ListOffsetsTopicResponse as _samsa_v1_ListOffsetsTopicResponse, ListOffsetsTopicResponse__Output as _samsa_v1_ListOffsetsTopicResponse__Output } from './samsa/v1/ListOffsetsTopicResponse.js';
import type { ListPartitionReassignmentsRequest as _samsa_v1_ListPartitionReassignmentsRequest, ListPartitionReassignmentsRequest__Output as _samsa_v1_ListPartitionReassignmentsRequest__Output } from './samsa/v1/ListPartitionReassignmentsRequest.js';
import type { ListPartitionReassignmentsResponse as _samsa_v1_ListPartitionReassignmentsResponse, ListPartitionReassignmentsResponse__Output as _samsa_v1_ListPartitionReassignmentsResponse__Output } from './samsa/v1/ListPartitionReassignmentsResponse.js';
import type { ListPartitionReassignmentsTopic as _samsa_v1_ListPartitionReassignmentsTopic, ListPartitionReassignmentsTopic__Output as _samsa_v1_ListPartitionReassignmentsTopic__Output } from './samsa/v1/ListPartitionReassignmentsTopic.js';
import type { ListTransactionsRequest as _samsa_v1_ListTransactionsRequest, ListTransactionsRequest__Output as _samsa_v1_ListTransactionsRequest__Output } from './samsa/v1/ListTransactionsRequest.js';
import type { ListTransactionsResponse as _samsa_v1_ListTransactionsResponse, ListTransactionsResponse__Output as _samsa_v1_ListTransactionsResponse__Output } from './samsa/v1/ListTransactionsResponse.js';
import type { ListedTransaction as _samsa_v1_ListedTransaction, ListedTransaction__Output as _samsa_v1_ListedTransaction__Output } from './samsa/v1/ListedTransaction.js';
import type { MetadataEntry as _samsa_v1_MetadataEntry, MetadataEntry__Output as _samsa_v1_MetadataEntry__Output } from './samsa/v1/MetadataEntry.js';
import type { MetadataRequest as _samsa_v1_MetadataRequest, MetadataRequest__Output as _samsa_v1_MetadataRequest__Output } from './samsa/v1/MetadataRequest.js';
import type { MetadataResponse as _samsa_v1_MetadataResponse, MetadataResponse__Output as _samsa_v1_MetadataResponse__Output } from './samsa/v1/MetadataResponse.js';
import type { OffsetForLeaderEpochPartition as _samsa_v1_OffsetForLeaderEpochPartition, OffsetForLeaderEpochPartition__Output as _samsa_v1_OffsetForLeaderEpochPartition__Output } from './samsa/v1/OffsetForLeaderEpochPartition.js';
import type { OffsetForLeaderEpochPartitionResponse as _samsa_v1_OffsetForLeaderEpochPartitionResponse, OffsetForLeaderEpochPartitionResponse__Output as _samsa_v1_OffsetForLeaderEpochPartitionResponse__Output } from './samsa/v1/OffsetForLeaderEpochPartitionResponse.js';
import type { OffsetForLeaderEpochRequest as _samsa_v1_OffsetForLeaderEpochRequest, OffsetForLeaderEpochRequest__Output as _samsa_v1_OffsetForLeaderEpochRequest__Output } from './samsa/v1/OffsetForLeaderEpochRequest.js';
import type { OffsetForLeaderEpochResponse as _samsa_v1_OffsetForLeaderEpochResponse, OffsetForLeaderEpochResponse__Output as _samsa_v1_OffsetForLeaderEpochResponse__Output } from './samsa/v1/OffsetForLeaderEpochResponse.js';
import type { OffsetForLeaderEpochTopic as _samsa_v1_OffsetForLeaderEpochTopic, OffsetForLeaderEpochTopic__Output as _samsa_v1_OffsetForLeaderEpochTopic__Output } from './samsa/v1/OffsetForLeaderEpochTopic.js';
import type { OffsetForLeaderEpochTopicResponse as _samsa_v1_OffsetForLeaderEpochTopicResponse, OffsetForLeaderEpochTopicResponse__Output as _samsa_v1_OffsetForLeaderEpochTopicResponse__Output } from './samsa/v1/OffsetForLeaderEpochTopicResponse.js';
import type { OngoingPartitionReassignment as _samsa_v1_OngoingPartitionReassignment, OngoingPartitionReassignment__Output as _samsa_v1_OngoingPartitionReassignment__Output } from './samsa/v1/OngoingPartitionReassignment.js';
import type { OngoingTopicReassignment as _samsa_v1_OngoingTopicReassignment, OngoingTopicReassignment__Output as _samsa_v1_OngoingTopicReassignment__Output } from './samsa/v1/OngoingTopicReassignment.js';
import type { PartitionMetadata as _samsa_v1_PartitionMetadata, PartitionMetadata__Output as _samsa_v1_PartitionMetadata__Output } from './samsa/v1/PartitionMetadata.js';
import type { PartitionProduceData as _samsa_v1_PartitionProduceData, PartitionProduceData__Output as _samsa_v1_PartitionProduceData__Output } from './samsa/v1/PartitionProduceData.js';
import type { PartitionProduceResponse as _samsa_v1_PartitionProduceResponse, PartitionProduceResponse__Output as _samsa_v1_PartitionProduceResponse__Output } from './samsa/v1/PartitionProduceResponse.js';
import type { PipelineError as _samsa_v1_PipelineError, PipelineError__Output as _samsa_v1_PipelineError__Output } from './samsa/v1/PipelineError.js';
import type { ProduceCall as _samsa_v1_ProduceCall, ProduceCall__Output as _samsa_v1_ProduceCall__Output } from './samsa/v1/ProduceCall.js';
import type { ProduceReply as _samsa_v1_ProduceReply, ProduceReply__Output as _samsa_v1_ProduceReply__Output } from './samsa/v1/ProduceReply.js';
import type { ProduceRequest as _samsa_v1_ProduceRequest, ProduceRequest__Output as _samsa_v1_ProduceRequest__Output } from './samsa/v1/ProduceRequest.js';
import type { ProduceResponse as _samsa_v1_ProduceResponse, ProduceResponse__Output as _samsa_v1_ProduceResponse__Output } from './samsa/v1/ProduceResponse.js';
import type { ProducerState as _samsa_v1_ProducerState, ProducerState__Output as _samsa_v1_ProducerState__Output } from './samsa/v1/ProducerState.js';
import type { QuorumVoter as _samsa_v1_QuorumVoter, QuorumVoter__Output as _samsa_v1_QuorumVoter__Output } from './samsa/v1/QuorumVoter.js';
import type { ReassignablePartition as _samsa_v1_ReassignablePartition, ReassignablePartition__Output as _samsa_v1_ReassignablePartition__Output } from './samsa/v1/ReassignablePartition.js';
import type { ReassignablePartitionResult as _samsa_v1_ReassignablePartitionResult, ReassignablePartitionResult__Output as _samsa_v1_ReassignablePartitionResult__Output } from './samsa/v1/ReassignablePartitionResult.js';
import type { ReassignableTopic as _samsa_v1_ReassignableTopic, ReassignableTopic__Output as _samsa_v1_ReassignableTopic__Output } from './samsa/v1/ReassignableTopic.js';
import type { ReassignableTopicResult as _samsa_v1_ReassignableTopicResult, ReassignableTopicResult__Output as _samsa_v1_ReassignableTopicResult__Output } from './samsa/v1/ReassignableTopicResult.js';
import type { RegisterBrokerRequest as _samsa_v1_RegisterBrokerRequest, RegisterBrokerRequest__Output as _samsa_v1_RegisterBrokerRequest__Output } from './samsa/v1/RegisterBrokerRequest.js';
import type { RegisterBrokerResponse as _samsa_v1_RegisterBrokerResponse, RegisterBrokerResponse__Output as _samsa_v1_RegisterBrokerResponse__Output } from './samsa/v1/RegisterBrokerResponse.js';
import type { SamsaClient as _samsa_v1_SamsaClient, SamsaDefinition as _samsa_v1_SamsaDefinition } from './samsa/v1/Samsa.js';
import type { SaslAuthenticateRequest as _samsa_v1_SaslAuthenticateRequest, SaslAuthenticateRequest__Output as _samsa_v1_SaslAuthenticateRequest__Output } from './samsa/v1/SaslAuthenticateRequest.js';
import type { SaslAuthenticateResponse as _samsa_v1_SaslAuthenticateResponse, SaslAuthenticateResponse__Output as _samsa_v1_SaslAuthenticateResponse__Output } from './samsa/v1/SaslAuthenticateResponse.js';
import type { SaslHandshakeRequest as _samsa_v1_SaslHandshakeRequest, SaslHandshakeRequest__Output as _samsa_v1_SaslHandshakeRequest__Output } from './samsa/v1/SaslHandshakeRequest.js';
import type { SaslHandshakeResponse as _samsa_v1_SaslHandshakeResponse, SaslHandshakeResponse__Output as _samsa_v1_SaslHandshakeResponse__Output } from './samsa/v1/SaslHandshakeResponse.js';
import type { ScramCredentialDeletion as _samsa_v1_ScramCredentialDeletion, ScramCredentialDeletion__Output as _samsa_v1_ScramCredentialDeletion__Output } from './samsa/v1/ScramCredentialDeletion.js';
import type { ScramCredentialInfo as _samsa_v1_ScramCredentialInfo, ScramCredentialInfo__Output as _samsa_v1_ScramCredentialInfo__Output } from './samsa/v1/ScramCredentialInfo.js';
import type { ScramCredentialUpsertion as _samsa_v1_ScramCredentialUpsertion, ScramCredentialUpsertion__Output as _samsa_v1_ScramCredentialUpsertion__Output } from './samsa/v1/ScramCredentialUpsertion.js';
import type { TopicMetadata as _samsa_v1_TopicMetadata, TopicMetadata__Output as _samsa_v1_TopicMetadata__Output } from './samsa/v1/TopicMetadata.js';
import type { TopicProduceData as _samsa_v1_TopicProduceData, TopicProduceData__Output as _samsa_v1_TopicProduceData__Output } from './samsa/v1/TopicProduceData.js';
import type { TopicProduceResponse as _samsa_v1_TopicProduceResponse, TopicProduceResponse__Output as _samsa_v1_TopicProduceResponse__Output } from './samsa/v1/TopicProduceResponse.js';
import type { TransactionDescription as _samsa_v1_TransactionDescription, TransactionDescription__Output as _samsa_v1_TransactionDescription__Output } from './samsa/v1/TransactionDescription.js';
import type { TransactionTopicPartition as _samsa_v1_TransactionTopicPartition, TransactionTopicPartition__Output as _samsa_v1_TransactionTopicPartition__Output } from './samsa/v1/TransactionTopicPartition.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  samsa: {
    v1: {
      AbortedTransaction: MessageTypeDefinition<_samsa_v1_AbortedTransaction, _samsa_v1_AbortedTransaction__Output>
      AclBinding: MessageTypeDefinition<_samsa_v1_AclBinding, _samsa_v1_AclBinding__Output>
      AclBindingFilter: MessageTypeDefinition<_samsa_v1_AclBindingFilter, _samsa_v1_AclBindingFilter__Output>
      AclCreationResult: MessageTypeDefinition<_samsa_v1_AclCreationResult, _samsa_v1_AclCreationResult__Output>
      AddOffsetsToTxnRequest: MessageTypeDefinition<_samsa_v1_AddOffsetsToTxnRequest, _samsa_v1_AddOffsetsToTxnRequest__Output>
      AddOffsetsToTxnResponse: MessageTypeDefinition<_samsa_v1_AddOffsetsToTxnResponse, _samsa_v1_AddOffsetsToTxnResponse__Output>
      AddPartitionsToTxnPartitionResult: MessageTypeDefinition<_samsa_v1_AddPartitionsToTxnPartitionResult, _samsa_v1_AddPartitionsToTxnPartitionResult__Output>
      AddPartitionsToTxnRequest: MessageTypeDefinition<_samsa_v1_AddPartitionsToTxnRequest, _samsa_v1_AddPartitionsToTxnRequest__Output>
      AddPartitionsToTxnResponse: MessageTypeDefinition<_samsa_v1_AddPartitionsToTxnResponse, _samsa_v1_AddPartitionsToTxnResponse__Output>
      AddPartitionsToTxnTopic: MessageTypeDefinition<_samsa_v1_AddPartitionsToTxnTopic, _samsa_v1_AddPartitionsToTxnTopic__Output>
      AddPartitionsToTxnTopicResult: MessageTypeDefinition<_samsa_v1_AddPartitionsToTxnTopicResult, _samsa_v1_AddPartitionsToTxnTopicResult__Output>
      AllocateProducerIdsRequest: MessageTypeDefinition<_samsa_v1_AllocateProducerIdsRequest, _samsa_v1_AllocateProducerIdsRequest__Output>
      AllocateProducerIdsResponse: MessageTypeDefinition<_samsa_v1_AllocateProducerIdsResponse, _samsa_v1_AllocateProducerIdsResponse__Output>
      AlterConfigsResource: MessageTypeDefinition<_samsa_v1_AlterConfigsResource, _samsa_v1_AlterConfigsResource__Output>
      AlterConfigsResourceResponse: MessageTypeDefinition<_samsa_v1_AlterConfigsResourceResponse, _samsa_v1_AlterConfigsResourceResponse__Output>
      AlterPartitionPartition: MessageTypeDefinition<_samsa_v1_AlterPartitionPartition, _samsa_v1_AlterPartitionPartition__Output>
      AlterPartitionPartitionResult: MessageTypeDefinition<_samsa_v1_AlterPartitionPartitionResult, _samsa_v1_AlterPartitionPartitionResult__Output>
      AlterPartitionReassignmentsRequest: MessageTypeDefinition<_samsa_v1_AlterPartitionReassignmentsRequest, _samsa_v1_AlterPartitionReassignmentsRequest__Output>
      AlterPartitionReassignmentsResponse: MessageTypeDefinition<_samsa_v1_AlterPartitionReassignmentsResponse, _samsa_v1_AlterPartitionReassignmentsResponse__Output>
      AlterPartitionRequest: MessageTypeDefinition<_samsa_v1_AlterPartitionRequest, _samsa_v1_AlterPartitionRequest__Output>
      AlterPartitionResponse: MessageTypeDefinition<_samsa_v1_AlterPartitionResponse, _samsa_v1_AlterPartitionResponse__Output>
      AlterPartitionTopic: MessageTypeDefinition<_samsa_v1_AlterPartitionTopic, _samsa_v1_AlterPartitionTopic__Output>
      AlterPartitionTopicResult: MessageTypeDefinition<_samsa_v1_AlterPartitionTopicResult, _samsa_v1_AlterPartitionTopicResult__Output>
      AlterUserScramCredentialsRequest: MessageTypeDefinition<_samsa_v1_AlterUserScramCredentialsRequest, _samsa_v1_AlterUserScramCredentialsRequest__Output>
      AlterUserScramCredentialsResponse: MessageTypeDefinition<_samsa_v1_AlterUserScramCredentialsResponse, _samsa_v1_AlterUserScramCredentialsResponse__Output>
      AlterUserScramCredentialsResult: MessageTypeDefinition<_samsa_v1_AlterUserScramCredentialsResult, _samsa_v1_AlterUserScramCredentialsResult__Output>
      AlterableConfig: MessageTypeDefinition<_samsa_v1_AlterableConfig, _samsa_v1_AlterableConfig__Output>
      BrokerHeartbeatRequest: MessageTypeDefinition<_samsa_v1_BrokerHeartbeatRequest, _samsa_v1_BrokerHeartbeatRequest__Output>
      BrokerHeartbeatResponse: MessageTypeDefinition<_samsa_v1_BrokerHeartbeatResponse, _samsa_v1_BrokerHeartbeatResponse__Output>
      BrokerMetadata: MessageTypeDefinition<_samsa_v1_BrokerMetadata, _samsa_v1_BrokerMetadata__Output>
      Controller: SubtypeConstructor<typeof grpc.Client, _samsa_v1_ControllerClient> & { service: _samsa_v1_ControllerDefinition }
      CreatableTopic: MessageTypeDefinition<_samsa_v1_CreatableTopic, _samsa_v1_CreatableTopic__Output>
      CreatableTopicResult: MessageTypeDefinition<_samsa_v1_CreatableTopicResult, _samsa_v1_CreatableTopicResult__Output>
      CreateAclsRequest: MessageTypeDefinition<_samsa_v1_CreateAclsRequest, _samsa_v1_CreateAclsRequest__Output>
      CreateAclsResponse: MessageTypeDefinition<_samsa_v1_CreateAclsResponse, _samsa_v1_CreateAclsResponse__Output>
      CreatePartitionsRequest: MessageTypeDefinition<_samsa_v1_CreatePartitionsRequest, _samsa_v1_CreatePartitionsRequest__Output>
      CreatePartitionsResponse: MessageTypeDefinition<_samsa_v1_CreatePartitionsResponse, _samsa_v1_CreatePartitionsResponse__Output>
      CreatePartitionsTopic: MessageTypeDefinition<_samsa_v1_CreatePartitionsTopic, _samsa_v1_CreatePartitionsTopic__Output>
      CreatePartitionsTopicResult: MessageTypeDefinition<_samsa_v1_CreatePartitionsTopicResult, _samsa_v1_CreatePartitionsTopicResult__Output>
      CreateTopicsRequest: MessageTypeDefinition<_samsa_v1_CreateTopicsRequest, _samsa_v1_CreateTopicsRequest__Output>
      CreateTopicsResponse: MessageTypeDefinition<_samsa_v1_CreateTopicsResponse, _samsa_v1_CreateTopicsResponse__Output>
      DeletableTopicResult: MessageTypeDefinition<_samsa_v1_DeletableTopicResult, _samsa_v1_DeletableTopicResult__Output>
      DeleteAclsFilterResult: MessageTypeDefinition<_samsa_v1_DeleteAclsFilterResult, _samsa_v1_DeleteAclsFilterResult__Output>
      DeleteAclsRequest: MessageTypeDefinition<_samsa_v1_DeleteAclsRequest, _samsa_v1_DeleteAclsRequest__Output>
      DeleteAclsResponse: MessageTypeDefinition<_samsa_v1_DeleteAclsResponse, _samsa_v1_DeleteAclsResponse__Output>
      DeleteRecordsPartition: MessageTypeDefinition<_samsa_v1_DeleteRecordsPartition, _samsa_v1_DeleteRecordsPartition__Output>
      DeleteRecordsPartitionResult: MessageTypeDefinition<_samsa_v1_DeleteRecordsPartitionResult, _samsa_v1_DeleteRecordsPartitionResult__Output>
      DeleteRecordsRequest: MessageTypeDefinition<_samsa_v1_DeleteRecordsRequest, _samsa_v1_DeleteRecordsRequest__Output>
      DeleteRecordsResponse: MessageTypeDefinition<_samsa_v1_DeleteRecordsResponse, _samsa_v1_DeleteRecordsResponse__Output>
      DeleteRecordsTopic: MessageTypeDefinition<_samsa_v1_DeleteRecordsTopic, _samsa_v1_DeleteRecordsTopic__Output>
      DeleteRecordsTopicResult: MessageTypeDefinition<_samsa_v1_DeleteRecordsTopicResult, _samsa_v1_DeleteRecordsTopicResult__Output>
      DeleteTopicsRequest: MessageTypeDefinition<_samsa_v1_DeleteTopicsRequest, _samsa_v1_DeleteTopicsRequest__Output>
      DeleteTopicsResponse: MessageTypeDefinition<_samsa_v1_DeleteTopicsResponse, _samsa_v1_DeleteTopicsResponse__Output>
      DescribeAclsRequest: MessageTypeDefinition<_samsa_v1_DescribeAclsRequest, _samsa_v1_DescribeAclsRequest__Output>
      DescribeAclsResponse: MessageTypeDefinition<_samsa_v1_DescribeAclsResponse, _samsa_v1_DescribeAclsResponse__Output>
      DescribeConfigsRequest: MessageTypeDefinition<_samsa_v1_DescribeConfigsRequest, _samsa_v1_DescribeConfigsRequest__Output>
      DescribeConfigsResource: MessageTypeDefinition<_samsa_v1_DescribeConfigsResource, _samsa_v1_DescribeConfigsResource__Output>
      DescribeConfigsResourceResult: MessageTypeDefinition<_samsa_v1_DescribeConfigsResourceResult, _samsa_v1_DescribeConfigsResourceResult__Output>
      DescribeConfigsResponse: MessageTypeDefinition<_samsa_v1_DescribeConfigsResponse, _samsa_v1_DescribeConfigsResponse__Output>
      DescribeConfigsResult: MessageTypeDefinition<_samsa_v1_DescribeConfigsResult, _samsa_v1_DescribeConfigsResult__Output>
      DescribeConfigsSynonym: MessageTypeDefinition<_samsa_v1_DescribeConfigsSynonym, _samsa_v1_DescribeConfigsSynonym__Output>
      DescribeProducersPartition: MessageTypeDefinition<_samsa_v1_DescribeProducersPartition, _samsa_v1_DescribeProducersPartition__Output>
      DescribeProducersRequest: MessageTypeDefinition<_samsa_v1_DescribeProducersRequest, _samsa_v1_DescribeProducersRequest__Output>
      DescribeProducersResponse: MessageTypeDefinition<_samsa_v1_DescribeProducersResponse, _samsa_v1_DescribeProducersResponse__Output>
      DescribeProducersTopic: MessageTypeDefinition<_samsa_v1_DescribeProducersTopic, _samsa_v1_DescribeProducersTopic__Output>
      DescribeQuorumRequest: MessageTypeDefinition<_samsa_v1_DescribeQuorumRequest, _samsa_v1_DescribeQuorumRequest__Output>
      DescribeQuorumResponse: MessageTypeDefinition<_samsa_v1_DescribeQuorumResponse, _samsa_v1_DescribeQuorumResponse__Output>
      DescribeTransactionsRequest: MessageTypeDefinition<_samsa_v1_DescribeTransactionsRequest, _samsa_v1_DescribeTransactionsRequest__Output>
      DescribeTransactionsResponse: MessageTypeDefinition<_samsa_v1_DescribeTransactionsResponse, _samsa_v1_DescribeTransactionsResponse__Output>
      DescribeUserScramCredentialsRequest: MessageTypeDefinition<_samsa_v1_DescribeUserScramCredentialsRequest, _samsa_v1_DescribeUserScramCredentialsRequest__Output>
      DescribeUserScramCredentialsResponse: MessageTypeDefinition<_samsa_v1_DescribeUserScramCredentialsResponse, _samsa_v1_DescribeUserScramCredentialsResponse__Output>
      DescribeUserScramCredentialsResult: MessageTypeDefinition<_samsa_v1_DescribeUserScramCredentialsResult, _samsa_v1_DescribeUserScramCredentialsResult__Output>
      ElectLeadersPartitionResult: MessageTypeDefinition<_samsa_v1_ElectLeadersPartitionResult, _samsa_v1_ElectLeadersPartitionResult__Output>
      ElectLeadersRequest: MessageTypeDefinition<_samsa_v1_ElectLeadersRequest, _samsa_v1_ElectLeadersRequest__Output>
      ElectLeadersResponse: MessageTypeDefinition<_samsa_v1_ElectLeadersResponse, _samsa_v1_ElectLeadersResponse__Output>
      ElectLeadersTopicPartitions: MessageTypeDefinition<_samsa_v1_ElectLeadersTopicPartitions, _samsa_v1_ElectLeadersTopicPartitions__Output>
      ElectLeadersTopicResult: MessageTypeDefinition<_samsa_v1_ElectLeadersTopicResult, _samsa_v1_ElectLeadersTopicResult__Output>
      EndTxnRequest: MessageTypeDefinition<_samsa_v1_EndTxnRequest, _samsa_v1_EndTxnRequest__Output>
      EndTxnResponse: MessageTypeDefinition<_samsa_v1_EndTxnResponse, _samsa_v1_EndTxnResponse__Output>
      FetchCall: MessageTypeDefinition<_samsa_v1_FetchCall, _samsa_v1_FetchCall__Output>
      FetchMetadataRequest: MessageTypeDefinition<_samsa_v1_FetchMetadataRequest, _samsa_v1_FetchMetadataRequest__Output>
      FetchMetadataResponse: MessageTypeDefinition<_samsa_v1_FetchMetadataResponse, _samsa_v1_FetchMetadataResponse__Output>
      FetchPartition: MessageTypeDefinition<_samsa_v1_FetchPartition, _samsa_v1_FetchPartition__Output>
      FetchPartitionData: MessageTypeDefinition<_samsa_v1_FetchPartitionData, _samsa_v1_FetchPartitionData__Output>
      FetchReply: MessageTypeDefinition<_samsa_v1_FetchReply, _samsa_v1_FetchReply__Output>
      FetchRequest: MessageTypeDefinition<_samsa_v1_FetchRequest, _samsa_v1_FetchRequest__Output>
      FetchResponse: MessageTypeDefinition<_samsa_v1_FetchResponse, _samsa_v1_FetchResponse__Output>
      FetchTopic: MessageTypeDefinition<_samsa_v1_FetchTopic, _samsa_v1_FetchTopic__Output>
      FetchTopicResponse: MessageTypeDefinition<_samsa_v1_FetchTopicResponse, _samsa_v1_FetchTopicResponse__Output>
      IncrementalAlterConfigsRequest: MessageTypeDefinition<_samsa_v1_IncrementalAlterConfigsRequest, _samsa_v1_IncrementalAlterConfigsRequest__Output>
      IncrementalAlterConfigsResponse: MessageTypeDefinition<_samsa_v1_IncrementalAlterConfigsResponse, _samsa_v1_IncrementalAlterConfigsResponse__Output>
      InitProducerIdRequest: MessageTypeDefinition<_samsa_v1_InitProducerIdRequest, _samsa_v1_InitProducerIdRequest__Output>
      InitProducerIdResponse: MessageTypeDefinition<_samsa_v1_InitProducerIdResponse, _samsa_v1_InitProducerIdResponse__Output>
      LeaderIdAndEpoch: MessageTypeDefinition<_samsa_v1_LeaderIdAndEpoch, _samsa_v1_LeaderIdAndEpoch__Output>
      ListOffsetsPartition: MessageTypeDefinition<_samsa_v1_ListOffsetsPartition, _samsa_v1_ListOffsetsPartition__Output>
      ListOffsetsPartitionResponse: MessageTypeDefinition<_samsa_v1_ListOffsetsPartitionResponse, _samsa_v1_ListOffsetsPartitionResponse__Output>
      ListOffsetsRequest: MessageTypeDefinition<_samsa_v1_ListOffsetsRequest, _samsa_v1_ListOffsetsRequest__Output>
      ListOffsetsResponse: MessageTypeDefinition<_samsa_v1_ListOffsetsResponse, _samsa_v1_ListOffsetsResponse__Output>
      ListOffsetsTopic: MessageTypeDefinition<_samsa_v1_ListOffsetsTopic, _samsa_v1_ListOffsetsTopic__Output>
      ListOffsetsTopicResponse: MessageTypeDefinition<_samsa_v1_ListOffsetsTopicResponse, _samsa_v1_ListOffsetsTopicResponse__Output>
      ListPartitionReassignmentsRequest: MessageTypeDefinition<_samsa_v1_ListPartitionReassignmentsRequest, _samsa_v1_ListPartitionReassignmentsRequest__Output>
      ListPartitionReassignmentsResponse: MessageTypeDefinition<_samsa_v1_ListPartitionReassignmentsResponse, _samsa_v1_ListPartitionReassignmentsResponse__Output>
      ListPartitionReassignmentsTopic: MessageTypeDefinition<_samsa_v1_ListPartitionReassignmentsTopic, _samsa_v1_ListPartitionReassignmentsTopic__Output>
      ListTransactionsRequest: MessageTypeDefinition<_samsa_v1_ListTransactionsRequest, _samsa_v1_ListTransactionsRequest__Output>
      ListTransactionsResponse: MessageTypeDefinition<_samsa_v1_ListTransactionsResponse, _samsa_v1_ListTransactionsResponse__Output>
      ListedTransaction: MessageTypeDefinition<_samsa_v1_ListedTransaction, _samsa_v1_ListedTransaction__Output>
      MetadataEntry: MessageTypeDefinition<_samsa_v1_MetadataEntry, _samsa_v1_MetadataEntry__Output>
      MetadataRequest: MessageTypeDefinition<_samsa_v1_MetadataRequest, _samsa_v1_MetadataRequest__Output>
      MetadataResponse: MessageTypeDefinition<_samsa_v1_MetadataResponse, _samsa_v1_MetadataResponse__Output>
      OffsetForLeaderEpochPartition: MessageTypeDefinition<_samsa_v1_OffsetForLeaderEpochPartition, _samsa_v1_OffsetForLeaderEpochPartition__Output>
      OffsetForLeaderEpochPartitionResponse: MessageTypeDefinition<_samsa_v1_OffsetForLeaderEpochPartitionResponse, _samsa_v1_OffsetForLeaderEpochPartitionResponse__Output>
      OffsetForLeaderEpochRequest: MessageTypeDefinition<_samsa_v1_OffsetForLeaderEpochRequest, _samsa_v1_OffsetForLeaderEpochRequest__Output>
      OffsetForLeaderEpochResponse: MessageTypeDefinition<_samsa_v1_OffsetForLeaderEpochResponse, _samsa_v1_OffsetForLeaderEpochResponse__Output>
      OffsetForLeaderEpochTopic: MessageTypeDefinition<_samsa_v1_OffsetForLeaderEpochTopic, _samsa_v1_OffsetForLeaderEpochTopic__Output>
      OffsetForLeaderEpochTopicResponse: MessageTypeDefinition<_samsa_v1_OffsetForLeaderEpochTopicResponse, _samsa_v1_OffsetForLeaderEpochTopicResponse__Output>
      OngoingPartitionReassignment: MessageTypeDefinition<_samsa_v1_OngoingPartitionReassignment, _samsa_v1_OngoingPartitionReassignment__Output>
      OngoingTopicReassignment: MessageTypeDefinition<_samsa_v1_OngoingTopicReassignment, _samsa_v1_OngoingTopicReassignment__Output>
      PartitionMetadata: MessageTypeDefinition<_samsa_v1_PartitionMetadata, _samsa_v1_PartitionMetadata__Output>
      PartitionProduceData: MessageTypeDefinition<_samsa_v1_PartitionProduceData, _samsa_v1_PartitionProduceData__Output>
      PartitionProduceResponse: MessageTypeDefinition<_samsa_v1_PartitionProduceResponse, _samsa_v1_PartitionProduceResponse__Output>
      PipelineError: MessageTypeDefinition<_samsa_v1_PipelineError, _samsa_v1_PipelineError__Output>
      ProduceCall: MessageTypeDefinition<_samsa_v1_ProduceCall, _samsa_v1_ProduceCall__Output>
      ProduceReply: MessageTypeDefinition<_samsa_v1_ProduceReply, _samsa_v1_ProduceReply__Output>
      ProduceRequest: MessageTypeDefinition<_samsa_v1_ProduceRequest, _samsa_v1_ProduceRequest__Output>
      ProduceResponse: MessageTypeDefinition<_samsa_v1_ProduceResponse, _samsa_v1_ProduceResponse__Output>
      ProducerState: MessageTypeDefinition<_samsa_v1_ProducerState, _samsa_v1_ProducerState__Output>
      QuorumVoter: MessageTypeDefinition<_samsa_v1_QuorumVoter, _samsa_v1_QuorumVoter__Output>
      ReassignablePartition: MessageTypeDefinition<_samsa_v1_ReassignablePartition, _samsa_v1_ReassignablePartition__Output>
      ReassignablePartitionResult: MessageTypeDefinition<_samsa_v1_ReassignablePartitionResult, _samsa_v1_ReassignablePartitionResult__Output>
      ReassignableTopic: MessageTypeDefinition<_samsa_v1_ReassignableTopic, _samsa_v1_ReassignableTopic__Output>
      ReassignableTopicResult: MessageTypeDefinition<_samsa_v1_ReassignableTopicResult, _samsa_v1_ReassignableTopicResult__Output>
      RegisterBrokerRequest: MessageTypeDefinition<_samsa_v1_RegisterBrokerRequest, _samsa_v1_RegisterBrokerRequest__Output>
      RegisterBrokerResponse: MessageTypeDefinition<_samsa_v1_RegisterBrokerResponse, _samsa_v1_RegisterBrokerResponse__Output>
      Samsa: SubtypeConstructor<typeof grpc.Client, _samsa_v1_SamsaClient> & { service: _samsa_v1_SamsaDefinition }
      SaslAuthenticateRequest: MessageTypeDefinition<_samsa_v1_SaslAuthenticateRequest, _samsa_v1_SaslAuthenticateRequest__Output>
      SaslAuthenticateResponse: MessageTypeDefinition<_samsa_v1_SaslAuthenticateResponse, _samsa_v1_SaslAuthenticateResponse__Output>
      SaslHandshakeRequest: MessageTypeDefinition<_samsa_v1_SaslHandshakeRequest, _samsa_v1_SaslHandshakeRequest__Output>
      SaslHandshakeResponse: MessageTypeDefinition<_samsa_v1_SaslHandshakeResponse, _samsa_v1_SaslHandshakeResponse__Output>
      ScramCredentialDeletion: MessageTypeDefinition<_samsa_v1_ScramCredentialDeletion, _samsa_v1_ScramCredentialDeletion__Output>
      ScramCredentialInfo: MessageTypeDefinition<_samsa_v1_ScramCredentialInfo, _samsa_v1_ScramCredentialInfo__Output>
      ScramCredentialUpsertion: MessageTypeDefinition<_samsa_v1_ScramCredentialUpsertion, _samsa_v1_ScramCredentialUpsertion__Output>
      TopicMetadata: MessageTypeDefinition<_samsa_v1_TopicMetadata, _samsa_v1_TopicMetadata__Output>
      TopicProduceData: MessageTypeDefinition<_samsa_v1_TopicProduceData, _samsa_v1_TopicProduceData__Output>
      TopicProduceResponse: MessageTypeDefinition<_samsa_v1_TopicProduceResponse, _samsa_v1_TopicProduceResponse__Output>
      TransactionDescription: MessageTypeDefinition<_samsa_v1_TransactionDescription, _samsa_v1_TransactionDescription__Output>
      TransactionTopicPartition: MessageTypeDefinition<_samsa_v1_TransactionTopicPartition, _samsa_v1_TransactionTopicPartition__Output>
    }
  }
}

