import { describe, expect, it } from 'vitest';
import {
  ALL_APIS,
  API_SPECS,
  SUPPORTED_APIS,
  compile,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  inRange,
  parseVersions,
  type ApiSpec,
  type FieldSpec,
} from '../src/index.js';
import { defaultStruct } from '../src/codec.js';
import { expectRoundTrip, randomStruct, rng } from './helpers/randomBody.js';

const SEED = 1414;

function versionsOf(spec: ApiSpec): number[] {
  const r = parseVersions(spec.validVersions);
  return Array.from({ length: r.max - r.min + 1 }, (_, i) => r.min + i);
}

describe('every API round-trips at every advertised version', () => {
  for (const spec of API_SPECS as readonly ApiSpec[]) {
    for (const version of versionsOf(spec)) {
      const flexible = inRange(version, spec.flexibleVersions);
      const defaultsOf = (fields: readonly FieldSpec[]) => defaultStruct(compile(fields, version, flexible));

      it(`${spec.name} v${version} request (${flexible ? 'flexible' : 'classic'})`, () => {
        const random = rng(SEED + spec.apiKey * 100 + version);
        for (let i = 0; i < 20; i++) {
          const body = randomStruct(spec.request, version, random);
          const header = {
            apiKey: spec.apiKey,
            apiVersion: version,
            correlationId: 1000 + i,
            clientId: i % 3 === 0 ? null : `client-${i}`,
          };
          const wire = encodeRequest(header, body);
          expect(wire.readInt32BE(0)).toBe(wire.length - 4);
          const frame = wire.subarray(4);
          const decodedHeader = decodeRequestHeader(frame);
          expect(decodedHeader.header).toEqual(header);
          const decoded = decodeRequest(spec.apiKey, version, frame, decodedHeader.bodyOffset) as Record<string, unknown>;
          expectRoundTrip(spec.request, version, body, decoded, defaultsOf);
          // The decoded body encodes to the same bytes: nothing is lost or invented.
          expect(encodeRequest(header, decoded)).toEqual(wire);
        }
      });

      it(`${spec.name} v${version} response (${flexible ? 'flexible' : 'classic'})`, () => {
        const random = rng(SEED + spec.apiKey * 100 + version + 50);
        for (let i = 0; i < 20; i++) {
          const body = randomStruct(spec.response, version, random);
          const wire = encodeResponse(spec.apiKey, version, 77 + i, body);
          expect(wire.readInt32BE(0)).toBe(wire.length - 4);
          const { correlationId, body: decoded } = decodeResponse(spec.apiKey, version, wire.subarray(4));
          expect(correlationId).toBe(77 + i);
          expectRoundTrip(spec.response, version, body, decoded as Record<string, unknown>, defaultsOf);
          expect(encodeResponse(spec.apiKey, version, 77 + i, decoded as object)).toEqual(wire);
        }
      });
    }
  }

  it("ALL_APIS lists every schema once with its range; SUPPORTED_APIS is issue 14's list plus the transaction (18), ACL and SASL (19) APIs", () => {
    expect(new Set(ALL_APIS.map((a) => a.apiKey)).size).toBe(API_SPECS.length);
    expect(SUPPORTED_APIS.map((a) => `${a.name} ${a.minVersion}-${a.maxVersion}`)).toEqual([
      'Produce 3-9',
      'Fetch 4-12',
      'ListOffsets 0-7',
      'Metadata 0-12',
      'OffsetCommit 0-8',
      'OffsetFetch 0-8',
      'FindCoordinator 0-4',
      'JoinGroup 0-9',
      'Heartbeat 0-4',
      'LeaveGroup 0-5',
      'SyncGroup 0-5',
      'DescribeGroups 0-5',
      'ListGroups 0-4',
      'SaslHandshake 0-1',
      'ApiVersions 0-3',
      'CreateTopics 0-7',
      'DeleteTopics 0-6',
      'DeleteRecords 0-2',
      'InitProducerId 0-4',
      'OffsetForLeaderEpoch 0-4',
      'AddPartitionsToTxn 0-3',
      'AddOffsetsToTxn 0-3',
      'EndTxn 0-3',
      'TxnOffsetCommit 0-3',
      'DescribeAcls 0-3',
      'CreateAcls 0-3',
      'DeleteAcls 0-3',
      'DescribeConfigs 0-4',
      'AlterConfigs 0-2',
      'DescribeLogDirs 0-4',
      'SaslAuthenticate 0-2',
      'CreatePartitions 0-3',
      'DeleteGroups 0-2',
      'ElectLeaders 0-2',
      'IncrementalAlterConfigs 0-1',
      'AlterPartitionReassignments 0-0',
      'ListPartitionReassignments 0-0',
      'OffsetDelete 0-0',
      'DescribeUserScramCredentials 0-0',
      'AlterUserScramCredentials 0-0',
      'DescribeCluster 0-1',
      'DescribeTransactions 0-0',
      'ListTransactions 0-0',
    ]);
    for (const spec of API_SPECS as readonly ApiSpec[]) {
      const entry = ALL_APIS.find((a) => a.apiKey === spec.apiKey)!;
      expect(entry.name).toBe(spec.name);
      expect([entry.minVersion, entry.maxVersion]).toEqual([parseVersions(spec.validVersions).min, parseVersions(spec.validVersions).max]);
    }
  });
});
