import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { PipelineError as _samsa_v1_PipelineError, PipelineError__Output as _samsa_v1_PipelineError__Output } from './samsa/v1/PipelineError.js';
import type { RaftClient as _samsa_v1_RaftClient, RaftDefinition as _samsa_v1_RaftDefinition } from './samsa/v1/Raft.js';
import type { RaftEntry as _samsa_v1_RaftEntry, RaftEntry__Output as _samsa_v1_RaftEntry__Output } from './samsa/v1/RaftEntry.js';
import type { RaftEnvelope as _samsa_v1_RaftEnvelope, RaftEnvelope__Output as _samsa_v1_RaftEnvelope__Output } from './samsa/v1/RaftEnvelope.js';
import type { RaftMessage as _samsa_v1_RaftMessage, RaftMessage__Output as _samsa_v1_RaftMessage__Output } from './samsa/v1/RaftMessage.js';
import type { RaftSendCall as _samsa_v1_RaftSendCall, RaftSendCall__Output as _samsa_v1_RaftSendCall__Output } from './samsa/v1/RaftSendCall.js';
import type { RaftSendReply as _samsa_v1_RaftSendReply, RaftSendReply__Output as _samsa_v1_RaftSendReply__Output } from './samsa/v1/RaftSendReply.js';
import type { RaftSendResponse as _samsa_v1_RaftSendResponse, RaftSendResponse__Output as _samsa_v1_RaftSendResponse__Output } from './samsa/v1/RaftSendResponse.js';
import type { RaftSnapshot as _samsa_v1_RaftSnapshot, RaftSnapshot__Output as _samsa_v1_RaftSnapshot__Output } from './samsa/v1/RaftSnapshot.js';
import type { RaftSnapshotMetadata as _samsa_v1_RaftSnapshotMetadata, RaftSnapshotMetadata__Output as _samsa_v1_RaftSnapshotMetadata__Output } from './samsa/v1/RaftSnapshotMetadata.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  samsa: {
    v1: {
      PipelineError: MessageTypeDefinition<_samsa_v1_PipelineError, _samsa_v1_PipelineError__Output>
      Raft: SubtypeConstructor<typeof grpc.Client, _samsa_v1_RaftClient> & { service: _samsa_v1_RaftDefinition }
      RaftEntry: MessageTypeDefinition<_samsa_v1_RaftEntry, _samsa_v1_RaftEntry__Output>
      RaftEntryType: EnumTypeDefinition
      RaftEnvelope: MessageTypeDefinition<_samsa_v1_RaftEnvelope, _samsa_v1_RaftEnvelope__Output>
      RaftMessage: MessageTypeDefinition<_samsa_v1_RaftMessage, _samsa_v1_RaftMessage__Output>
      RaftMessageType: EnumTypeDefinition
      RaftSendCall: MessageTypeDefinition<_samsa_v1_RaftSendCall, _samsa_v1_RaftSendCall__Output>
      RaftSendReply: MessageTypeDefinition<_samsa_v1_RaftSendReply, _samsa_v1_RaftSendReply__Output>
      RaftSendResponse: MessageTypeDefinition<_samsa_v1_RaftSendResponse, _samsa_v1_RaftSendResponse__Output>
      RaftSnapshot: MessageTypeDefinition<_samsa_v1_RaftSnapshot, _samsa_v1_RaftSnapshot__Output>
      RaftSnapshotMetadata: MessageTypeDefinition<_samsa_v1_RaftSnapshotMetadata, _samsa_v1_RaftSnapshotMetadata__Output>
    }
  }
}

