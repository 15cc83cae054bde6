/**
 * The gRPC definitions come from generated/descriptor.ts, not from proto/ at run time: the
 * committed descriptor must still be what scripts/gen-proto.mjs makes of proto/ (the source of
 * truth), and it must yield every service the nodes serve.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clientProto, controllerProto, groupsProto, raftProto, replicationProto } from '../src/index.js';

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
});
