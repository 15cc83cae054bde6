/**
 * The transport of service samsa.v1.Groups: one GroupsConnection per broker address, each method
 * one RPC. Like BrokerConnection, transport failures surface as retriable SamsaConnectionErrors;
 * tests substitute an in-memory coordinator through GroupsConnectionFactory.
 */
import { CHANNEL_OPTIONS, clientProto, grpc, groupsProto } from '@samsa/protocol';
import type {
  DeleteGroupsRequest,
  DeleteGroupsResponse__Output,
  DescribeGroupsRequest,
  DescribeGroupsResponse__Output,
  FindCoordinatorRequest,
  FindCoordinatorResponse__Output,
  GroupsClient,
  HeartbeatRequest,
  HeartbeatResponse__Output,
  JoinGroupRequest,
  JoinGroupResponse__Output,
  LeaveGroupRequest,
  LeaveGroupResponse__Output,
  ListGroupsRequest,
  ListGroupsResponse__Output,
  OffsetCommitRequest,
  OffsetCommitResponse__Output,
  OffsetFetchRequest,
  OffsetFetchResponse__Output,
  OffsetDeleteRequest,
  OffsetDeleteResponse__Output,
  SyncGroupRequest,
  SyncGroupResponse__Output,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse__Output,
} from '@samsa/protocol';
import type { RequestOptions } from '../../connection/connection.js';
import { samsaSaslRpc, unaryCall, type UnaryMethod } from '../../connection/grpcConnection.js';
import {
  type ConnectionSecurity,
  SaslSession,
  channelCredentials,
  saslExchange,
  securityChannelOptions,
} from '../../connection/security.js';

export interface GroupsConnectionOptions {
  requestTimeoutMs?: number;
  clientId?: string;
  /** TLS and SASL, as GrpcConnection's. */
  security?: ConnectionSecurity;
}

export type {
  DeleteGroupsRequest,
  DescribeGroupsRequest,
  FindCoordinatorRequest,
  HeartbeatRequest,
  JoinGroupRequest,
  LeaveGroupRequest,
  ListGroupsRequest,
  OffsetCommitRequest,
  OffsetFetchRequest,
  OffsetDeleteRequest,
  SyncGroupRequest,
  TxnOffsetCommitRequest,
};
export type FindCoordinatorResponse = FindCoordinatorResponse__Output;
export type JoinGroupResponse = JoinGroupResponse__Output;
export type SyncGroupResponse = SyncGroupResponse__Output;
export type HeartbeatResponse = HeartbeatResponse__Output;
export type LeaveGroupResponse = LeaveGroupResponse__Output;
export type OffsetCommitResponse = OffsetCommitResponse__Output;
export type OffsetFetchResponse = OffsetFetchResponse__Output;
export type ListGroupsResponse = ListGroupsResponse__Output;
export type DescribeGroupsResponse = DescribeGroupsResponse__Output;
export type DeleteGroupsResponse = DeleteGroupsResponse__Output;
export type OffsetDeleteResponse = OffsetDeleteResponse__Output;
export type TxnOffsetCommitResponse = TxnOffsetCommitResponse__Output;

export interface GroupsConnection {
  readonly address: string;
  findCoordinator(request: FindCoordinatorRequest, options?: RequestOptions): Promise<FindCoordinatorResponse>;
  joinGroup(request: JoinGroupRequest, options?: RequestOptions): Promise<JoinGroupResponse>;
  syncGroup(request: SyncGroupRequest, options?: RequestOptions): Promise<SyncGroupResponse>;
  heartbeat(request: HeartbeatRequest, options?: RequestOptions): Promise<HeartbeatResponse>;
  leaveGroup(request: LeaveGroupRequest, options?: RequestOptions): Promise<LeaveGroupResponse>;
  offsetCommit(request: OffsetCommitRequest, options?: RequestOptions): Promise<OffsetCommitResponse>;
  offsetFetch(request: OffsetFetchRequest, options?: RequestOptions): Promise<OffsetFetchResponse>;
  listGroups(request: ListGroupsRequest, options?: RequestOptions): Promise<ListGroupsResponse>;
  describeGroups(request: DescribeGroupsRequest, options?: RequestOptions): Promise<DescribeGroupsResponse>;
  deleteGroups(request: DeleteGroupsRequest, options?: RequestOptions): Promise<DeleteGroupsResponse>;
  /** Kafka's OffsetDelete (KIP-496), to the group's coordinator. */
  offsetDelete(request: OffsetDeleteRequest, options?: RequestOptions): Promise<OffsetDeleteResponse>;
  /** Kafka's TxnOffsetCommit, to the group's coordinator (a transactional producer's sendOffsetsToTransaction). */
  txnOffsetCommit(request: TxnOffsetCommitRequest, options?: RequestOptions): Promise<TxnOffsetCommitResponse>;
  close(): void;
}

export type GroupsConnectionFactory = (address: string) => GroupsConnection;

type Method =
  | 'FindCoordinator'
  | 'JoinGroup'
  | 'SyncGroup'
  | 'Heartbeat'
  | 'LeaveGroup'
  | 'OffsetCommit'
  | 'OffsetFetch'
  | 'ListGroups'
  | 'DescribeGroups'
  | 'DeleteGroups'
  | 'OffsetDelete'
  | 'TxnOffsetCommit';

export class GrpcGroupsConnection implements GroupsConnection {
  private channel: grpc.Channel | undefined;
  private client: GroupsClient | undefined;
  private readonly metadataHeaders = new grpc.Metadata();
  private readonly sasl: SaslSession | undefined;

  constructor(
    readonly address: string,
    private readonly options: GroupsConnectionOptions = {},
  ) {
    if (options.clientId) this.metadataHeaders.set('x-client-id', options.clientId);
    const sasl = options.security?.sasl;
    if (sasl) {
      // Its own connection, so its own exchange (the SASL pair is on the Samsa service, same channel).
      this.sasl = new SaslSession(
        () => {
          const client = new (clientProto().samsa.v1.Samsa)(address, grpc.credentials.createInsecure(), {
            channelOverride: this.grpcChannel(),
          });
          const at = { address, timeoutMs: options.requestTimeoutMs ?? 30_000 };
          return saslExchange(samsaSaslRpc(client, this.metadataHeaders, at), sasl, address);
        },
        () => this.close(),
      );
    }
  }

  findCoordinator(r: FindCoordinatorRequest, o?: RequestOptions): Promise<FindCoordinatorResponse> {
    return this.call('FindCoordinator', r, o);
  }
  joinGroup(r: JoinGroupRequest, o?: RequestOptions): Promise<JoinGroupResponse> {
    return this.call('JoinGroup', r, o);
  }
  syncGroup(r: SyncGroupRequest, o?: RequestOptions): Promise<SyncGroupResponse> {
    return this.call('SyncGroup', r, o);
  }
  heartbeat(r: HeartbeatRequest, o?: RequestOptions): Promise<HeartbeatResponse> {
    return this.call('Heartbeat', r, o);
  }
  leaveGroup(r: LeaveGroupRequest, o?: RequestOptions): Promise<LeaveGroupResponse> {
    return this.call('LeaveGroup', r, o);
  }
  offsetCommit(r: OffsetCommitRequest, o?: RequestOptions): Promise<OffsetCommitResponse> {
    return this.call('OffsetCommit', r, o);
  }
  offsetFetch(r: OffsetFetchRequest, o?: RequestOptions): Promise<OffsetFetchResponse> {
    return this.call('OffsetFetch', r, o);
  }
  listGroups(r: ListGroupsRequest, o?: RequestOptions): Promise<ListGroupsResponse> {
    return this.call('ListGroups', r, o);
  }
  describeGroups(r: DescribeGroupsRequest, o?: RequestOptions): Promise<DescribeGroupsResponse> {
    return this.call('DescribeGroups', r, o);
  }
  deleteGroups(r: DeleteGroupsRequest, o?: RequestOptions): Promise<DeleteGroupsResponse> {
    return this.call('DeleteGroups', r, o);
  }
  offsetDelete(r: OffsetDeleteRequest, o?: RequestOptions): Promise<OffsetDeleteResponse> {
    return this.call('OffsetDelete', r, o);
  }

  txnOffsetCommit(r: TxnOffsetCommitRequest, o?: RequestOptions): Promise<TxnOffsetCommitResponse> {
    return this.call('TxnOffsetCommit', r, o);
  }

  close(): void {
    this.client = undefined;
    this.channel?.close();
    this.channel = undefined;
  }

  private grpcChannel(): grpc.Channel {
    if (!this.channel) {
      const security = this.options.security ?? {};
      const channelOptions: grpc.ChannelOptions = { ...CHANNEL_OPTIONS, ...securityChannelOptions(security) };
      if (this.options.clientId) channelOptions['grpc.primary_user_agent'] = `samsa-client/${this.options.clientId}`;
      this.channel = new grpc.Channel(this.address, channelCredentials(security.ssl), channelOptions);
    }
    return this.channel;
  }

  private grpcClient(): GroupsClient {
    if (!this.client) {
      const Groups = groupsProto().samsa.v1.Groups;
      this.client = new Groups(this.address, grpc.credentials.createInsecure(), { channelOverride: this.grpcChannel() });
    }
    return this.client;
  }

  private call<Req, Res>(method: Method, request: Req, options: RequestOptions = {}): Promise<Res> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (this.sasl) return this.sasl.run(() => this.callNow(method, request, options));
    return this.callNow(method, request, options);
  }

  private callNow<Req, Res>(method: Method, request: Req, options: RequestOptions): Promise<Res> {
    const client = this.grpcClient();
    return unaryCall((client[method] as unknown as UnaryMethod<Req, Res>).bind(client), request, this.metadataHeaders, {
      address: this.address,
      method,
      timeoutMs: options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000,
      signal: options.signal,
    });
  }
}

export function grpcGroupsConnectionFactory(options: GroupsConnectionOptions = {}): GroupsConnectionFactory {
  return (address) => new GrpcGroupsConnection(address, options);
}
