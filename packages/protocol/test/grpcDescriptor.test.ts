/**
 * The gRPC definitions come from generated/descriptor.ts, not from proto/ at run time: the
 * committed descriptor must still be what scripts/gen-proto.mjs makes of proto/ (the source of
 * truth), and it must yield every service the nodes serve.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as protoLoader from '@grpc/proto-loader';
import {
  LOADER_OPTIONS,
  clientProto,
  controllerProto,
  groupsProto,
  raftProto,
  replicationProto,
  servicePackageDefinition,
} from '../src/index.js';
import { DESCRIPTOR_JSON } from '../src/generated/descriptor.js';

const script = fileURLToPath(new URL('../../../scripts/proto-descriptor.mjs', import.meta.url));
const committed = fileURLToPath(new URL('../src/generated/descriptor.ts', import.meta.url));

describe('the generated gRPC descriptor', () => {
  it('matches proto/ (run `npm run gen:proto` after editing a .proto)', () => {
    const fresh = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { descriptorModule } from ${JSON.stringify(script)}; process.stdout.write(descriptorModule());`,
      ],
      { encoding: 'utf8' },
    );
    expect(readFileSync(committed, 'utf8')).toBe(fresh);
  });

  it('yields every service with its methods', () => {
    const services = [
      clientProto().samsa.v1.Samsa,
      groupsProto().samsa.v1.Groups,
      controllerProto().samsa.v1.Controller,
      replicationProto().samsa.v1.Replication,
      raftProto().samsa.v1.Raft,
    ];
    for (const service of services) {
      expect(typeof service).toBe('function');
      expect(Object.keys(service.service).length).toBeGreaterThan(0);
    }
    expect(clientProto().samsa.v1.Samsa.service.Produce!.path).toBe('/samsa.v1.Samsa/Produce');
    expect(controllerProto().samsa.v1.Controller.service.AlterPartition!.path).toBe('/samsa.v1.Controller/AlterPartition');
  });

  it("gives every method as @grpc/proto-loader's fromJSON does: path, streaming, name, and the same bytes and objects", () => {
    const lean = servicePackageDefinition(JSON.parse(DESCRIPTOR_JSON), LOADER_OPTIONS) as unknown as Record<string, Record<string, any>>;
    const full = protoLoader.fromJSON(JSON.parse(DESCRIPTOR_JSON), LOADER_OPTIONS) as unknown as Record<string, any>;
    const services = Object.keys(full).filter((k) => !('format' in full[k]));
    expect(Object.keys(lean).sort()).toEqual(services.sort());
    let methods = 0;
    for (const name of services) {
      expect(Object.keys(lean[name]!).sort()).toEqual(Object.keys(full[name]).sort());
      for (const [method, want] of Object.entries<any>(full[name])) {
        const got = lean[name]![method];
        methods++;
        expect([got.path, got.requestStream, got.responseStream, got.originalName]).toEqual([
          want.path,
          want.requestStream,
          want.responseStream,
          want.originalName,
        ]);
        const bytes = want.requestSerialize({});
        expect(got.requestSerialize({})).toEqual(bytes);
        expect(got.requestDeserialize(bytes)).toEqual(want.requestDeserialize(bytes));
        const answer = want.responseSerialize({});
        expect(got.responseDeserialize(answer)).toEqual(want.responseDeserialize(answer));
      }
    }
    expect(methods).toBeGreaterThan(20);
    // Int64 as decimal strings, bytes, nested repeated messages: the same both ways.
    const listOffsets = {
      isolationLevel: 1,
      topics: [{ name: 't', partitions: [{ partition: 3, timestamp: '-3', currentLeaderEpoch: 7 }] }],
    };
    const lo = '/samsa.v1.Samsa/ListOffsets';
    const find = (def: Record<string, Record<string, any>>) =>
      Object.values(def)
        .flatMap((s) => Object.values(s))
        .find((m) => m.path === lo)!;
    const bytes = find(full).requestSerialize(listOffsets);
    expect(find(lean).requestSerialize(listOffsets)).toEqual(bytes);
    expect(find(lean).requestDeserialize(bytes)).toEqual(find(full).requestDeserialize(bytes));
    expect(find(lean).requestDeserialize(bytes)).toMatchObject({ topics: [{ partitions: [{ timestamp: '-3' }] }] });
  });
});
