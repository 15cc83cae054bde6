/**
 * The body types and the schemas agree: test/types/typedBodies.ts (typed fixtures, plus
 * `@ts-expect-error` lines for what a schema forbids) must compile without a diagnostic.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ApiKey, decodeRequest, decodeRequestHeader, decodeResponse, encodeRequest, encodeResponse } from '../src/index.js';
import { metadata, produce } from './types/typedBodies.js';

describe('schema-derived types', () => {
  it('typed fixtures compile and every @ts-expect-error meets an error', () => {
    const file = fileURLToPath(new URL('./types/typedBodies.ts', import.meta.url));
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: ['node'],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 120_000);

  it('the typed fixtures round-trip through the codec they were typed against', () => {
    const frame = encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 1, clientId: null }, produce).subarray(4);
    expect(decodeRequest(ApiKey.Produce, 9, frame, decodeRequestHeader(frame).bodyOffset)).toEqual(produce);
    const body = decodeResponse(ApiKey.Metadata, 12, encodeResponse(ApiKey.Metadata, 12, 1, metadata).subarray(4)).body;
    expect(body.brokers).toEqual(metadata.brokers);
    expect(body.topics[0]).toMatchObject({
      name: 't',
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      errorCode: 0,
      isInternal: false,
      topicAuthorizedOperations: -2147483648,
    });
    expect(body.topics[0]!.partitions[0]).toEqual({
      errorCode: 0,
      partitionIndex: 0,
      leaderId: 1,
      leaderEpoch: -1,
      replicaNodes: [1],
      isrNodes: [1],
      offlineReplicas: [],
    });
  });
});
