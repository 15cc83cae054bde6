/**
 * Runtime loading of the gRPC contracts. proto/ is the source of truth; scripts/gen-proto.mjs
 * turns it into the committed generated/descriptor.ts (a protobufjs JSON descriptor) which this
 * package carries, so loading reads no file outside the package and parses no .proto text.
 * LOADER_OPTIONS must match the flags in scripts/gen-proto.mjs so the committed generated types
 * describe exactly what the loader yields.
 */
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { DESCRIPTOR_JSON } from './generated/descriptor.js';
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

let all: grpc.GrpcObject | undefined;

/**
 * Every service, built once from the descriptor: each accessor below is the typed view of one
 * .proto's services over the same object (they share package samsa.v1).
 */
function load<T>(): T {
  all ??= grpc.loadPackageDefinition(servicePackageDefinition(JSON.parse(DESCRIPTOR_JSON) as protobuf.INamespace, LOADER_OPTIONS));
  return all as unknown as T;
}

/**
 * What @grpc/proto-loader's fromJSON gives for the services, without the rest: proto-loader also
 * builds a reflection descriptor (DescriptorProto objects and encoded FileDescriptorProtos) of
 * every message for every method, which only gRPC server reflection reads. That was most of a
 * node's start-up CPU after module loading (startup-profile: protobufjs and its codegen ahead of
 * grpc-js). The calls are the same: serialize is fromObject + encode, deserialize decode +
 * toObject with the loader options, methods keep their path, streaming flags and camelCase name
 * (test/grpcDescriptor.test.ts compares every method with proto-loader's).
 */
export function servicePackageDefinition(
  json: protobuf.INamespace,
  options: protoLoader.Options,
): grpc.GrpcObject & protoLoader.PackageDefinition {
  const root = protobuf.Root.fromJSON(json);
  root.resolveAll();
  const definition: Record<string, Record<string, protoLoader.MethodDefinition<object, object>>> = {};
  const visit = (ns: protobuf.NamespaceBase, prefix: string): void => {
    for (const child of ns.nestedArray) {
      const name = prefix ? `${prefix}.${child.name}` : child.name;
      if (child instanceof protobuf.Service) {
        const service: Record<string, protoLoader.MethodDefinition<object, object>> = {};
        for (const method of child.methodsArray) {
          const request = method.resolvedRequestType!;
          const response = method.resolvedResponseType!;
          service[method.name] = {
            path: `/${name}/${method.name}`,
            requestStream: method.requestStream === true,
            responseStream: method.responseStream === true,
            requestSerialize: serializer(request),
            requestDeserialize: deserializer(request, options),
            responseSerialize: serializer(response),
            responseDeserialize: deserializer(response, options),
            originalName: lowerCamel(method.name),
          } as protoLoader.MethodDefinition<object, object>;
        }
        definition[name] = service;
      } else if (child instanceof protobuf.Namespace) {
        visit(child, name);
      }
    }
  };
  visit(root, '');
  return definition as unknown as grpc.GrpcObject & protoLoader.PackageDefinition;
}

function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new TypeError(`cannot serialize an array as ${type.name}`);
    return Buffer.from(type.encode(type.fromObject(value)).finish());
  };
}

function deserializer(type: protobuf.Type, options: protoLoader.Options): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), options);
}

/** lodash.camelcase for the PascalCase method names of our .proto files (CreateTopics → createTopics). */
function lowerCamel(name: string): string {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new Error(`method name ${name} is not PascalCase; extend lowerCamel for it`);
  return name.charAt(0).toLowerCase() + name.slice(1);
}

let clientApi: ClientProtoGrpcType | undefined;

/** The client API (package samsa.v1, service Samsa). */
export function clientProto(): ClientProtoGrpcType {
  clientApi ??= load<ClientProtoGrpcType>();
  return clientApi;
}

let groupsApi: GroupsProtoGrpcType | undefined;

/** Consumer groups (package samsa.v1, service Groups), served by every broker. */
export function groupsProto(): GroupsProtoGrpcType {
  groupsApi ??= load<GroupsProtoGrpcType>();
  return groupsApi;
}

let controllerApi: ControllerProtoGrpcType | undefined;

/** The controller API (package samsa.v1, service Controller), for brokers, tools and controllers. */
export function controllerProto(): ControllerProtoGrpcType {
  controllerApi ??= load<ControllerProtoGrpcType>();
  return controllerApi;
}

let replicationApi: ReplicationProtoGrpcType | undefined;

/** The replication API between brokers: followers fetch from leaders (package samsa.v1, service Replication). */
export function replicationProto(): ReplicationProtoGrpcType {
  replicationApi ??= load<ReplicationProtoGrpcType>();
  return replicationApi;
}

let raftApi: RaftProtoGrpcType | undefined;

/** The Raft transport between controllers (package samsa.v1, service Raft). */
export function raftProto(): RaftProtoGrpcType {
  raftApi ??= load<RaftProtoGrpcType>();
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

/**
 * Trailing-metadata key of a gRPC status that stands for one of the error table's codes (as a
 * decimal string), when the refusal is not an answer body: e.g. a call refused UNAUTHENTICATED on
 * a SASL listener carries ILLEGAL_SASL_STATE (34) here, so a client branches on the code, never on
 * the sentence.
 */
export const ERROR_CODE_METADATA_KEY = 'samsa-error-code';

export type * from './generated/index.js';
export { grpc };
