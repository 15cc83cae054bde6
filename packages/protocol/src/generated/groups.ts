import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DeletableGroupResult as _samsa_v1_DeletableGroupResult, DeletableGroupResult__Output as _samsa_v1_DeletableGroupResult__Output } from './samsa/v1/DeletableGroupResult.js';
import type { DeleteGroupsRequest as _samsa_v1_DeleteGroupsRequest, DeleteGroupsRequest__Output as _samsa_v1_DeleteGroupsRequest__Output } from './samsa/v1/DeleteGroupsRequest.js';
import type { DeleteGroupsResponse as _samsa_v1_DeleteGroupsResponse, DeleteGroupsResponse__Output as _samsa_v1_DeleteGroupsResponse__Output } from './samsa/v1/DeleteGroupsResponse.js';
import type { DescribeGroupsRequest as _samsa_v1_DescribeGroupsRequest, DescribeGroupsRequest__Output as _samsa_v1_DescribeGroupsRequest__Output } from './samsa/v1/DescribeGroupsRequest.js';
import type { DescribeGroupsResponse as _samsa_v1_DescribeGroupsResponse, DescribeGroupsResponse__Output as _samsa_v1_DescribeGroupsResponse__Output } from './samsa/v1/DescribeGroupsResponse.js';
import type { DescribedGroup as _samsa_v1_DescribedGroup, DescribedGroup__Output as _samsa_v1_DescribedGroup__Output } from './samsa/v1/DescribedGroup.js';
import type { DescribedGroupMember as _samsa_v1_DescribedGroupMember, DescribedGroupMember__Output as _samsa_v1_DescribedGroupMember__Output } from './samsa/v1/DescribedGroupMember.js';
import type { FindCoordinatorRequest as _samsa_v1_FindCoordinatorRequest, FindCoordinatorRequest__Output as _samsa_v1_FindCoordinatorRequest__Output } from './samsa/v1/FindCoordinatorRequest.js';
import type { FindCoordinatorResponse as _samsa_v1_FindCoordinatorResponse, FindCoordinatorResponse__Output as _samsa_v1_FindCoordinatorResponse__Output } from './samsa/v1/FindCoordinatorResponse.js';
import type { GroupsClient as _samsa_v1_GroupsClient, GroupsDefinition as _samsa_v1_GroupsDefinition } from './samsa/v1/Groups.js';
import type { HeartbeatRequest as _samsa_v1_HeartbeatRequest, HeartbeatRequest__Output as _samsa_v1_HeartbeatRequest__Output } from './samsa/v1/HeartbeatRequest.js';
import type { HeartbeatResponse as _samsa_v1_HeartbeatResponse, HeartbeatResponse__Output as _samsa_v1_HeartbeatResponse__Output } from './samsa/v1/HeartbeatResponse.js';
import type { JoinGroupMember as _samsa_v1_JoinGroupMember, JoinGroupMember__Output as _samsa_v1_JoinGroupMember__Output } from './samsa/v1/JoinGroupMember.js';
import type { JoinGroupProtocol as _samsa_v1_JoinGroupProtocol, JoinGroupProtocol__Output as _samsa_v1_JoinGroupProtocol__Output } from './samsa/v1/JoinGroupProtocol.js';
import type { JoinGroupRequest as _samsa_v1_JoinGroupRequest, JoinGroupRequest__Output as _samsa_v1_JoinGroupRequest__Output } from './samsa/v1/JoinGroupRequest.js';
import type { JoinGroupResponse as _samsa_v1_JoinGroupResponse, JoinGroupResponse__Output as _samsa_v1_JoinGroupResponse__Output } from './samsa/v1/JoinGroupResponse.js';
import type { LeaveGroupMember as _samsa_v1_LeaveGroupMember, LeaveGroupMember__Output as _samsa_v1_LeaveGroupMember__Output } from './samsa/v1/LeaveGroupMember.js';
import type { LeaveGroupMemberResponse as _samsa_v1_LeaveGroupMemberResponse, LeaveGroupMemberResponse__Output as _samsa_v1_LeaveGroupMemberResponse__Output } from './samsa/v1/LeaveGroupMemberResponse.js';
import type { LeaveGroupRequest as _samsa_v1_LeaveGroupRequest, LeaveGroupRequest__Output as _samsa_v1_LeaveGroupRequest__Output } from './samsa/v1/LeaveGroupRequest.js';
import type { LeaveGroupResponse as _samsa_v1_LeaveGroupResponse, LeaveGroupResponse__Output as _samsa_v1_LeaveGroupResponse__Output } from './samsa/v1/LeaveGroupResponse.js';
import type { ListGroupsRequest as _samsa_v1_ListGroupsRequest, ListGroupsRequest__Output as _samsa_v1_ListGroupsRequest__Output } from './samsa/v1/ListGroupsRequest.js';
import type { ListGroupsResponse as _samsa_v1_ListGroupsResponse, ListGroupsResponse__Output as _samsa_v1_ListGroupsResponse__Output } from './samsa/v1/ListGroupsResponse.js';
import type { ListedGroup as _samsa_v1_ListedGroup, ListedGroup__Output as _samsa_v1_ListedGroup__Output } from './samsa/v1/ListedGroup.js';
import type { OffsetCommitPartition as _samsa_v1_OffsetCommitPartition, OffsetCommitPartition__Output as _samsa_v1_OffsetCommitPartition__Output } from './samsa/v1/OffsetCommitPartition.js';
import type { OffsetCommitPartitionResponse as _samsa_v1_OffsetCommitPartitionResponse, OffsetCommitPartitionResponse__Output as _samsa_v1_OffsetCommitPartitionResponse__Output } from './samsa/v1/OffsetCommitPartitionResponse.js';
import type { OffsetCommitRequest as _samsa_v1_OffsetCommitRequest, OffsetCommitRequest__Output as _samsa_v1_OffsetCommitRequest__Output } from './samsa/v1/OffsetCommitRequest.js';
import type { OffsetCommitResponse as _samsa_v1_OffsetCommitResponse, OffsetCommitResponse__Output as _samsa_v1_OffsetCommitResponse__Output } from './samsa/v1/OffsetCommitResponse.js';
import type { OffsetCommitTopic as _samsa_v1_OffsetCommitTopic, OffsetCommitTopic__Output as _samsa_v1_OffsetCommitTopic__Output } from './samsa/v1/OffsetCommitTopic.js';
import type { OffsetCommitTopicResponse as _samsa_v1_OffsetCommitTopicResponse, OffsetCommitTopicResponse__Output as _samsa_v1_OffsetCommitTopicResponse__Output } from './samsa/v1/OffsetCommitTopicResponse.js';
import type { OffsetDeletePartitionResult as _samsa_v1_OffsetDeletePartitionResult, OffsetDeletePartitionResult__Output as _samsa_v1_OffsetDeletePartitionResult__Output } from './samsa/v1/OffsetDeletePartitionResult.js';
import type { OffsetDeleteRequest as _samsa_v1_OffsetDeleteRequest, OffsetDeleteRequest__Output as _samsa_v1_OffsetDeleteRequest__Output } from './samsa/v1/OffsetDeleteRequest.js';
import type { OffsetDeleteResponse as _samsa_v1_OffsetDeleteResponse, OffsetDeleteResponse__Output as _samsa_v1_OffsetDeleteResponse__Output } from './samsa/v1/OffsetDeleteResponse.js';
import type { OffsetDeleteTopic as _samsa_v1_OffsetDeleteTopic, OffsetDeleteTopic__Output as _samsa_v1_OffsetDeleteTopic__Output } from './samsa/v1/OffsetDeleteTopic.js';
import type { OffsetFetchPartition as _samsa_v1_OffsetFetchPartition, OffsetFetchPartition__Output as _samsa_v1_OffsetFetchPartition__Output } from './samsa/v1/OffsetFetchPartition.js';
import type { OffsetFetchRequest as _samsa_v1_OffsetFetchRequest, OffsetFetchRequest__Output as _samsa_v1_OffsetFetchRequest__Output } from './samsa/v1/OffsetFetchRequest.js';
import type { OffsetFetchResponse as _samsa_v1_OffsetFetchResponse, OffsetFetchResponse__Output as _samsa_v1_OffsetFetchResponse__Output } from './samsa/v1/OffsetFetchResponse.js';
import type { OffsetFetchTopic as _samsa_v1_OffsetFetchTopic, OffsetFetchTopic__Output as _samsa_v1_OffsetFetchTopic__Output } from './samsa/v1/OffsetFetchTopic.js';
import type { OffsetFetchTopicResponse as _samsa_v1_OffsetFetchTopicResponse, OffsetFetchTopicResponse__Output as _samsa_v1_OffsetFetchTopicResponse__Output } from './samsa/v1/OffsetFetchTopicResponse.js';
import type { SyncGroupAssignment as _samsa_v1_SyncGroupAssignment, SyncGroupAssignment__Output as _samsa_v1_SyncGroupAssignment__Output } from './samsa/v1/SyncGroupAssignment.js';
import type { SyncGroupRequest as _samsa_v1_SyncGroupRequest, SyncGroupRequest__Output as _samsa_v1_SyncGroupRequest__Output } from './samsa/v1/SyncGroupRequest.js';
import type { SyncGroupResponse as _samsa_v1_SyncGroupResponse, SyncGroupResponse__Output as _samsa_v1_SyncGroupResponse__Output } from './samsa/v1/SyncGroupResponse.js';
import type { TxnOffsetCommitRequest as _samsa_v1_TxnOffsetCommitRequest, TxnOffsetCommitRequest__Output as _samsa_v1_TxnOffsetCommitRequest__Output } from './samsa/v1/TxnOffsetCommitRequest.js';
import type { TxnOffsetCommitResponse as _samsa_v1_TxnOffsetCommitResponse, TxnOffsetCommitResponse__Output as _samsa_v1_TxnOffsetCommitResponse__Output } from './samsa/v1/TxnOffsetCommitResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  samsa: {
    v1: {
      DeletableGroupResult: MessageTypeDefinition<_samsa_v1_DeletableGroupResult, _samsa_v1_DeletableGroupResult__Output>
      DeleteGroupsRequest: MessageTypeDefinition<_samsa_v1_DeleteGroupsRequest, _samsa_v1_DeleteGroupsRequest__Output>
      DeleteGroupsResponse: MessageTypeDefinition<_samsa_v1_DeleteGroupsResponse, _samsa_v1_DeleteGroupsResponse__Output>
      DescribeGroupsRequest: MessageTypeDefinition<_samsa_v1_DescribeGroupsRequest, _samsa_v1_DescribeGroupsRequest__Output>
      DescribeGroupsResponse: MessageTypeDefinition<_samsa_v1_DescribeGroupsResponse, _samsa_v1_DescribeGroupsResponse__Output>
      DescribedGroup: MessageTypeDefinition<_samsa_v1_DescribedGroup, _samsa_v1_DescribedGroup__Output>
      DescribedGroupMember: MessageTypeDefinition<_samsa_v1_DescribedGroupMember, _samsa_v1_DescribedGroupMember__Output>
      FindCoordinatorRequest: MessageTypeDefinition<_samsa_v1_FindCoordinatorRequest, _samsa_v1_FindCoordinatorRequest__Output>
      FindCoordinatorResponse: MessageTypeDefinition<_samsa_v1_FindCoordinatorResponse, _samsa_v1_FindCoordinatorResponse__Output>
      Groups: SubtypeConstructor<typeof grpc.Client, _samsa_v1_GroupsClient> & { service: _samsa_v1_GroupsDefinition }
      HeartbeatRequest: MessageTypeDefinition<_samsa_v1_HeartbeatRequest, _samsa_v1_HeartbeatRequest__Output>
      HeartbeatResponse: MessageTypeDefinition<_samsa_v1_HeartbeatResponse, _samsa_v1_HeartbeatResponse__Output>
      JoinGroupMember: MessageTypeDefinition<_samsa_v1_JoinGroupMember, _samsa_v1_JoinGroupMember__Output>
      JoinGroupProtocol: MessageTypeDefinition<_samsa_v1_JoinGroupProtocol, _samsa_v1_JoinGroupProtocol__Output>
      JoinGroupRequest: MessageTypeDefinition<_samsa_v1_JoinGroupRequest, _samsa_v1_JoinGroupRequest__Output>
      JoinGroupResponse: MessageTypeDefinition<_samsa_v1_JoinGroupResponse, _samsa_v1_JoinGroupResponse__Output>
      LeaveGroupMember: MessageTypeDefinition<_samsa_v1_LeaveGroupMember, _samsa_v1_LeaveGroupMember__Output>
      LeaveGroupMemberResponse: MessageTypeDefinition<_samsa_v1_LeaveGroupMemberResponse, _samsa_v1_LeaveGroupMemberResponse__Output>
      LeaveGroupRequest: MessageTypeDefinition<_samsa_v1_LeaveGroupRequest, _samsa_v1_LeaveGroupRequest__Output>
      LeaveGroupResponse: MessageTypeDefinition<_samsa_v1_LeaveGroupResponse, _samsa_v1_LeaveGroupResponse__Output>
      ListGroupsRequest: MessageTypeDefinition<_samsa_v1_ListGroupsRequest, _samsa_v1_ListGroupsRequest__Output>
      ListGroupsResponse: MessageTypeDefinition<_samsa_v1_ListGroupsResponse, _samsa_v1_ListGroupsResponse__Output>
      ListedGroup: MessageTypeDefinition<_samsa_v1_ListedGroup, _samsa_v1_ListedGroup__Output>
      OffsetCommitPartition: MessageTypeDefinition<_samsa_v1_OffsetCommitPartition, _samsa_v1_OffsetCommitPartition__Output>
      OffsetCommitPartitionResponse: MessageTypeDefinition<_samsa_v1_OffsetCommitPartitionResponse, _samsa_v1_OffsetCommitPartitionResponse__Output>
      OffsetCommitRequest: MessageTypeDefinition<_samsa_v1_OffsetCommitRequest, _samsa_v1_OffsetCommitRequest__Output>
      OffsetCommitResponse: MessageTypeDefinition<_samsa_v1_OffsetCommitResponse, _samsa_v1_OffsetCommitResponse__Output>
      OffsetCommitTopic: MessageTypeDefinition<_samsa_v1_OffsetCommitTopic, _samsa_v1_OffsetCommitTopic__Output>
      OffsetCommitTopicResponse: MessageTypeDefinition<_samsa_v1_OffsetCommitTopicResponse, _samsa_v1_OffsetCommitTopicResponse__Output>
      OffsetDeletePartitionResult: MessageTypeDefinition<_samsa_v1_OffsetDeletePartitionResult, _samsa_v1_OffsetDeletePartitionResult__Output>
      OffsetDeleteRequest: MessageTypeDefinition<_samsa_v1_OffsetDeleteRequest, _samsa_v1_OffsetDeleteRequest__Output>
      OffsetDeleteResponse: MessageTypeDefinition<_samsa_v1_OffsetDeleteResponse, _samsa_v1_OffsetDeleteResponse__Output>
      OffsetDeleteTopic: MessageTypeDefinition<_samsa_v1_OffsetDeleteTopic, _samsa_v1_OffsetDeleteTopic__Output>
      OffsetFetchPartition: MessageTypeDefinition<_samsa_v1_OffsetFetchPartition, _samsa_v1_OffsetFetchPartition__Output>
      OffsetFetchRequest: MessageTypeDefinition<_samsa_v1_OffsetFetchRequest, _samsa_v1_OffsetFetchRequest__Output>
      OffsetFetchResponse: MessageTypeDefinition<_samsa_v1_OffsetFetchResponse, _samsa_v1_OffsetFetchResponse__Output>
      OffsetFetchTopic: MessageTypeDefinition<_samsa_v1_OffsetFetchTopic, _samsa_v1_OffsetFetchTopic__Output>
      OffsetFetchTopicResponse: MessageTypeDefinition<_samsa_v1_OffsetFetchTopicResponse, _samsa_v1_OffsetFetchTopicResponse__Output>
      SyncGroupAssignment: MessageTypeDefinition<_samsa_v1_SyncGroupAssignment, _samsa_v1_SyncGroupAssignment__Output>
      SyncGroupRequest: MessageTypeDefinition<_samsa_v1_SyncGroupRequest, _samsa_v1_SyncGroupRequest__Output>
      SyncGroupResponse: MessageTypeDefinition<_samsa_v1_SyncGroupResponse, _samsa_v1_SyncGroupResponse__Output>
      TxnOffsetCommitRequest: MessageTypeDefinition<_samsa_v1_TxnOffsetCommitRequest, _samsa_v1_TxnOffsetCommitRequest__Output>
      TxnOffsetCommitResponse: MessageTypeDefinition<_samsa_v1_TxnOffsetCommitResponse, _samsa_v1_TxnOffsetCommitResponse__Output>
    }
  }
}

