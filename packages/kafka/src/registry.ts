/**
 * The version table (Kafka's ApiKeys enum): every API this package has a schema for, with the
 * versions Samsa advertises. The same list answers ApiVersions, drives dispatch, and tells the
 * round-trip tests what to cover.
 */
import * as core from './apis/core.js';
import * as groups from './apis/groups.js';
import * as admin from './apis/admin.js';
import * as txn from './apis/txn.js';
import * as security from './apis/security.js';
import type { ApiSpec } from './schema.js';
import { inRange, parseVersions } from './versions.js';

export const API_SPECS = [
  core.Produce,
  core.Fetch,
  core.ListOffsets,
  core.Metadata,
  groups.OffsetCommit,
  groups.OffsetFetch,
  groups.FindCoordinator,
  groups.JoinGroup,
  groups.Heartbeat,
  groups.LeaveGroup,
  groups.SyncGroup,
  groups.DescribeGroups,
  groups.ListGroups,
  security.SaslHandshake,
  core.ApiVersions,
  admin.CreateTopics,
  admin.DeleteTopics,
  admin.DeleteRecords,
  admin.InitProducerId,
  core.OffsetForLeaderEpoch,
  txn.AddPartitionsToTxn,
  txn.AddOffsetsToTxn,
  txn.EndTxn,
  txn.WriteTxnMarkers,
  txn.TxnOffsetCommit,
  security.DescribeAcls,
  security.CreateAcls,
  security.DeleteAcls,
  admin.DescribeConfigs,
  admin.AlterConfigs,
  admin.DescribeLogDirs,
  security.SaslAuthenticate,
  admin.CreatePartitions,
  groups.DeleteGroups,
  admin.ElectLeaders,
  admin.IncrementalAlterConfigs,
  admin.AlterPartitionReassignments,
  admin.ListPartitionReassignments,
  groups.OffsetDelete,
  security.DescribeUserScramCredentials,
  security.AlterUserScramCredentials,
  admin.DescribeCluster,
  txn.DescribeTransactions,
  txn.ListTransactions,
] as const satisfies readonly ApiSpec[];

/** Every API key this package has a schema for (Kafka's ApiKeys names). */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  SaslHandshake: 17,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  DeleteRecords: 21,
  InitProducerId: 22,
  OffsetForLeaderEpoch: 23,
  AddPartitionsToTxn: 24,
  AddOffsetsToTxn: 25,
  EndTxn: 26,
  WriteTxnMarkers: 27,
  TxnOffsetCommit: 28,
  DescribeAcls: 29,
  CreateAcls: 30,
  DeleteAcls: 31,
  DescribeConfigs: 32,
  AlterConfigs: 33,
  DescribeLogDirs: 35,
  SaslAuthenticate: 36,
  CreatePartitions: 37,
  DeleteGroups: 42,
  ElectLeaders: 43,
  IncrementalAlterConfigs: 44,
  AlterPartitionReassignments: 45,
  ListPartitionReassignments: 46,
  OffsetDelete: 47,
  DescribeUserScramCredentials: 50,
  AlterUserScramCredentials: 51,
  DescribeCluster: 60,
  DescribeTransactions: 65,
  ListTransactions: 66,
} as const;

/**
 * APIs whose codecs exist but which the broker does not serve: left out of SUPPORTED_APIS so
 * ApiVersions does not advertise them. WriteTxnMarkers is inter-broker: Samsa's coordinators send
 * markers over gRPC (Replication/WriteTxnMarkers).
 */
export const NOT_YET_SERVED: ReadonlySet<number> = new Set([ApiKey.WriteTxnMarkers]);

export type ApiKeyNumber = (typeof API_SPECS)[number]['apiKey'];
export type SpecByKey = { [A in (typeof API_SPECS)[number] as A['apiKey']]: A };

export interface SupportedApi {
  apiKey: number;
  name: string;
  minVersion: number;
  maxVersion: number;
}

function versionRange(spec: ApiSpec): SupportedApi {
  const r = parseVersions(spec.validVersions);
  return Object.freeze({ apiKey: spec.apiKey, name: spec.name, minVersion: r.min, maxVersion: r.max });
}

/** Every API with a codec, and the versions it decodes and encodes. */
export const ALL_APIS: ReadonlyArray<SupportedApi> = API_SPECS.map(versionRange).sort((a, b) => a.apiKey - b.apiKey);

/** What the broker advertises in ApiVersions and dispatches (issue 14's list). */
export const SUPPORTED_APIS: ReadonlyArray<SupportedApi> = ALL_APIS.filter((a) => !NOT_YET_SERVED.has(a.apiKey));

const byKey = new Map<number, ApiSpec>(API_SPECS.map((s: ApiSpec) => [s.apiKey, s]));

export function specFor(apiKey: number): ApiSpec | undefined {
  return byKey.get(apiKey);
}

export function isSupported(apiKey: number, apiVersion: number): boolean {
  const spec = byKey.get(apiKey);
  return spec !== undefined && inRange(apiVersion, spec.validVersions);
}

/** Whether a version of an API uses the flexible (KIP-482) encoding; unknown APIs are not. */
export function isFlexible(apiKey: number, apiVersion: number): boolean {
  const spec = byKey.get(apiKey);
  return spec !== undefined && inRange(apiVersion, spec.flexibleVersions);
}

export function requestHeaderVersion(apiKey: number, apiVersion: number): 1 | 2 {
  return isFlexible(apiKey, apiVersion) ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  if (apiKey === ApiKey.ApiVersions) return 0;
  return isFlexible(apiKey, apiVersion) ? 1 : 0;
}
