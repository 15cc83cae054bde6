import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { PipelineError as _samsa_v1_PipelineError, PipelineError__Output as _samsa_v1_PipelineError__Output } from './samsa/v1/PipelineError.js';
import type { ReplicaEpochEndOffset as _samsa_v1_ReplicaEpochEndOffset, ReplicaEpochEndOffset__Output as _samsa_v1_ReplicaEpochEndOffset__Output } from './samsa/v1/ReplicaEpochEndOffset.js';
import type { ReplicaFetchCall as _samsa_v1_ReplicaFetchCall, ReplicaFetchCall__Output as _samsa_v1_ReplicaFetchCall__Output } from './samsa/v1/ReplicaFetchCall.js';
import type { ReplicaFetchPartition as _samsa_v1_ReplicaFetchPartition, ReplicaFetchPartition__Output as _samsa_v1_ReplicaFetchPartition__Output } from './samsa/v1/ReplicaFetchPartition.js';
import type { ReplicaFetchPartitionResponse as _samsa_v1_ReplicaFetchPartitionResponse, ReplicaFetchPartitionResponse__Output as _samsa_v1_ReplicaFetchPartitionResponse__Output } from './samsa/v1/ReplicaFetchPartitionResponse.js';
import type { ReplicaFetchReply as _samsa_v1_ReplicaFetchReply, ReplicaFetchReply__Output as _samsa_v1_ReplicaFetchReply__Output } from './samsa/v1/ReplicaFetchReply.js';
import type { ReplicaFetchRequest as _samsa_v1_ReplicaFetchRequest, ReplicaFetchRequest__Output as _samsa_v1_ReplicaFetchRequest__Output } from './samsa/v1/ReplicaFetchRequest.js';
import type { ReplicaFetchResponse as _samsa_v1_ReplicaFetchResponse, ReplicaFetchResponse__Output as _samsa_v1_ReplicaFetchResponse__Output } from './samsa/v1/ReplicaFetchResponse.js';
import type { ReplicaFetchTopic as _samsa_v1_ReplicaFetchTopic, ReplicaFetchTopic__Output as _samsa_v1_ReplicaFetchTopic__Output } from './samsa/v1/ReplicaFetchTopic.js';
import type { ReplicaFetchTopicResponse as _samsa_v1_ReplicaFetchTopicResponse, ReplicaFetchTopicResponse__Output as _samsa_v1_ReplicaFetchTopicResponse__Output } from './samsa/v1/ReplicaFetchTopicResponse.js';
import type { ReplicaForgottenTopic as _samsa_v1_ReplicaForgottenTopic, ReplicaForgottenTopic__Output as _samsa_v1_ReplicaForgottenTopic__Output } from './samsa/v1/ReplicaForgottenTopic.js';
import type { ReplicationClient as _samsa_v1_ReplicationClient, ReplicationDefinition as _samsa_v1_ReplicationDefinition } from './samsa/v1/Replication.js';
import type { WriteTxnMarker as _samsa_v1_WriteTxnMarker, WriteTxnMarker__Output as _samsa_v1_WriteTxnMarker__Output } from './samsa/v1/WriteTxnMarker.js';
import type { WriteTxnMarkerResult as _samsa_v1_WriteTxnMarkerResult, WriteTxnMarkerResult__Output as _samsa_v1_WriteTxnMarkerResult__Output } from './samsa/v1/WriteTxnMarkerResult.js';
import type { WriteTxnMarkersRequest as _samsa_v1_WriteTxnMarkersRequest, WriteTxnMarkersRequest__Output as _samsa_v1_WriteTxnMarkersRequest__Output } from './samsa/v1/WriteTxnMarkersRequest.js';
import type { WriteTxnMarkersResponse as _samsa_v1_WriteTxnMarkersResponse, WriteTxnMarkersResponse__Output as _samsa_v1_WriteTxnMarkersResponse__Output } from './samsa/v1/WriteTxnMarkersResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  samsa: {
    v1: {
      PipelineError: MessageTypeDefinition<_samsa_v1_PipelineError, _samsa_v1_PipelineError__Output>
      ReplicaEpochEndOffset: MessageTypeDefinition<_samsa_v1_ReplicaEpochEndOffset, _samsa_v1_ReplicaEpochEndOffset__Output>
      ReplicaFetchCall: MessageTypeDefinition<_samsa_v1_ReplicaFetchCall, _samsa_v1_ReplicaFetchCall__Output>
      ReplicaFetchPartition: MessageTypeDefinition<_samsa_v1_ReplicaFetchPartition, _samsa_v1_ReplicaFetchPartition__Output>
      ReplicaFetchPartitionResponse: MessageTypeDefinition<_samsa_v1_ReplicaFetchPartitionResponse, _samsa_v1_ReplicaFetchPartitionResponse__Output>
      ReplicaFetchReply: MessageTypeDefinition<_samsa_v1_ReplicaFetchReply, _samsa_v1_ReplicaFetchReply__Output>
      ReplicaFetchRequest: MessageTypeDefinition<_samsa_v1_ReplicaFetchRequest, _samsa_v1_ReplicaFetchRequest__Output>
      ReplicaFetchResponse: MessageTypeDefinition<_samsa_v1_ReplicaFetchResponse, _samsa_v1_ReplicaFetchResponse__Output>
      ReplicaFetchTopic: MessageTypeDefinition<_samsa_v1_ReplicaFetchTopic, _samsa_v1_ReplicaFetchTopic__Output>
      ReplicaFetchTopicResponse: MessageTypeDefinition<_samsa_v1_ReplicaFetchTopicResponse, _samsa_v1_ReplicaFetchTopicResponse__Output>
      ReplicaForgottenTopic: MessageTypeDefinition<_samsa_v1_ReplicaForgottenTopic, _samsa_v1_ReplicaForgottenTopic__Output>
      Replication: SubtypeConstructor<typeof grpc.Client, _samsa_v1_ReplicationClient> & { service: _samsa_v1_ReplicationDefinition }
      WriteTxnMarker: MessageTypeDefinition<_samsa_v1_WriteTxnMarker, _samsa_v1_WriteTxnMarker__Output>
      WriteTxnMarkerResult: MessageTypeDefinition<_samsa_v1_WriteTxnMarkerResult, _samsa_v1_WriteTxnMarkerResult__Output>
      WriteTxnMarkersRequest: MessageTypeDefinition<_samsa_v1_WriteTxnMarkersRequest, _samsa_v1_WriteTxnMarkersRequest__Output>
      WriteTxnMarkersResponse: MessageTypeDefinition<_samsa_v1_WriteTxnMarkersResponse, _samsa_v1_WriteTxnMarkersResponse__Output>
    }
  }
}

