/**
 * Runtime loading of the gRPC contracts in proto/. LOADER_OPTIONS must match the flags in
 * scripts/gen-proto.mjs so the committed generated types describe exactly what the loader yields.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType as ClientProtoGrpcType } from './generated/client.js';
import type { ProtoGrpcType as ControllerProtoGrpcType } from './generated/controller.js';
import type { ProtoGrpcType as GroupsProtoGrpcType } from './generated/groups.js';
import type { ProtoGrpcType as RaftProtoGrpcType } from './generated/raft.js';
import type { ProtoGrpcType as ReplicationProtoGrpcType } from './generated/replication.js';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * proto/ inside the package when it was packed (scripts/pack.mjs copies it there), else proto/ at
 * the repository root (this file lives at packages/protocol/{src,dist}/grpc.{ts,js}).
 */
export const PROTO_DIR = existsSync(fileURLToPath(new URL('../proto', import.meta.url)))
  ? fileURLToPath(new URL('../proto', import.meta.url))
  : fileURLToPath(new URL('../../../proto', import.meta.url));

function load<T>(file: string): T {
  const definition = protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
  return grpc.loadPackageDefinition(definition) as unknown as T;
}

let clientApi: ClientProtoGrpcType | undefined;

/** The client API (package samsa.v1, service Samsa). */
export function clientProto(): ClientProtoGrpcType {
  clientApi ??= load<ClientProtoGrpcType>('samsa/v1/client.proto');
  return clientApi;
}

let groupsApi: GroupsProtoGrpcType | undefined;

/** Consumer groups (package samsa.v1, service Groups), served by every broker. */
export function groupsProto(): GroupsProtoGrpcType {
  groupsApi ??= load<GroupsProtoGrpcType>('samsa/v1/groups.proto');
  return groupsApi;
}

let controllerApi: ControllerProtoGrpcType | undefined;

/** The controller API (package samsa.v1, service Controller), for brokers, tools and controllers. */
export function controllerProto(): ControllerProtoGrpcType {
  controllerApi ??= load<ControllerProtoGrpcType>('samsa/v1/controller.proto');
  return controllerApi;
}

let replicationApi: ReplicationProtoGrpcType | undefined;

/** The replication API between brokers: followers fetch from leaders (package samsa.v1, service Replication). */
export function replicationProto(): ReplicationProtoGrpcType {
  replicationApi ??= load<ReplicationProtoGrpcType>('samsa/v1/replication.proto');
  return replicationApi;
}

let raftApi: RaftProtoGrpcType | undefined;

/** The Raft transport between controllers (package samsa.v1, service Raft). */
export function raftProto(): RaftProtoGrpcType {
  raftApi ??= load<RaftProtoGrpcType>('samsa/v1/raft.proto');
  return raftApi;
}

/**
 * Channel options shared by every Samsa gRPC client and server: messages up to 128 MiB (fetch
 * responses and produce requests carry whole batches), keepalive so a dead peer is noticed, and an
 * HTTP/2 receive window far above the 64 KiB default (see below).
 */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // HTTP/2 flow-control window (per stream and per connection) we advertise for data we receive.
  // At 64 KiB a multi-MiB fetch response (or a 256 KiB produce request) needs many WINDOW_UPDATE
  // round trips, each waiting on a turn of both event loops; that, not CPU, capped throughput.
  // grpc-js applies this on clients only; the broker applies it per session itself
  // (packages/broker/src/server/flowControl.ts) until grpc-js reads it on servers too.
  'grpc-node.flow_control_window': 8 * 1024 * 1024,
  'grpc.max_receive_message_length': 128 * 1024 * 1024,
  'grpc.max_send_message_length': 128 * 1024 * 1024,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
};

export type * from './generated/index.js';
export { grpc };
