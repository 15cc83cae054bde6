/**
 * The services `cluster up` starts (cluster/services.ts) without real processes: their ports
 * follow the base port (8081 and 8080 for the default 9092), explicit ports and --no-* win, a base
 * port too low for them is a usage error, their command lines name the cluster's brokers and the
 * nodes' metrics, and a state file records them beside the nodes (older files without them read).
 */
import { describe, expect, it } from 'vitest';
import { serviceRecords, servicePorts } from '../src/cluster/services.js';
import { STATE_VERSION, parseState, runningProcesses, type ProcessProbe } from '../src/cluster/state.js';
import { nodeRecords, planCluster } from '../src/commands/cluster.js';
import { UsageError } from '../src/errors.js';

const on = { schemaRegistry: true, console: true };

describe('servicePorts', () => {
  it('puts the registry on 8081 and the console on 8080 for the default base port', () => {
    expect(servicePorts({ basePort: 9092, ...on })).toEqual([
      { name: 'schema-registry', port: 8081 },
      { name: 'console', port: 8080 },
    ]);
  });

  it("moves both with the base port, below the nodes' ports", () => {
    expect(servicePorts({ basePort: 19092, ...on })).toEqual([
      { name: 'schema-registry', port: 18081 },
      { name: 'console', port: 18080 },
    ]);
  });

  it('takes explicit ports and leaves out a disabled service', () => {
    expect(servicePorts({ basePort: 9092, ...on, schemaRegistryPort: 30001, consolePort: 30002 }).map((s) => s.port)).toEqual([
      30001, 30002,
    ]);
    expect(servicePorts({ basePort: 9092, schemaRegistry: false, console: true })).toEqual([{ name: 'console', port: 8080 }]);
    expect(servicePorts({ basePort: 9092, schemaRegistry: false, console: false })).toEqual([]);
  });

  it('refuses a base port that leaves no port for a service, naming the flags that avoid it', () => {
    expect(() => servicePorts({ basePort: 1000, ...on })).toThrow(UsageError);
    expect(() => servicePorts({ basePort: 1000, ...on })).toThrow(/--schema-registry-port or --no-schema-registry/);
    expect(servicePorts({ basePort: 1000, schemaRegistry: false, console: false })).toEqual([]);
    expect(servicePorts({ basePort: 1000, ...on, schemaRegistryPort: 5000, consolePort: 5001 }).map((s) => s.port)).toEqual([5000, 5001]);
  });
});

describe('serviceRecords', () => {
  const plan = planCluster(3, 3, false, 9092, '/d');
  const nodes = nodeRecords(plan, '127.0.0.1', 'info', '/cli/main.js', '/usr/bin/node');
  const bootstrap = ['127.0.0.1:9092', '127.0.0.1:9192', '127.0.0.1:9292'];

  it('runs samsa schema-registry and samsa console against the cluster', () => {
    const [registry, console] = serviceRecords(
      servicePorts({ basePort: 9092, ...on }),
      nodes,
      '127.0.0.1',
      bootstrap,
      '/d',
      'info',
      '/cli/main.js',
      '/usr/bin/node',
    );
    expect(registry).toEqual({
      name: 'schema-registry',
      port: 8081,
      url: 'http://127.0.0.1:8081',
      logFile: '/d/schema-registry/schema-registry.log',
      argv: [
        '/usr/bin/node',
        '/cli/main.js',
        'schema-registry',
        '--bootstrap-server',
        bootstrap.join(','),
        '--listeners',
        'http://127.0.0.1:8081',
        '--log-level',
        'info',
      ],
    });
    expect(console!.argv).toEqual([
      '/usr/bin/node',
      '/cli/main.js',
      'console',
      '--bootstrap-server',
      bootstrap.join(','),
      '--listen',
      '127.0.0.1:8080',
      '--metrics-servers',
      '127.0.0.1:9095,127.0.0.1:9195,127.0.0.1:9295,127.0.0.1:9094,127.0.0.1:9194,127.0.0.1:9294',
      '--schema-registry',
      'http://127.0.0.1:8081',
    ]);
  });

  it('gives the console no registry when the cluster starts none', () => {
    const [console] = serviceRecords(
      servicePorts({ basePort: 9092, ...on, schemaRegistry: false }),
      nodes,
      '127.0.0.1',
      bootstrap,
      '/d',
      'info',
      '/cli/main.js',
      '/usr/bin/node',
    );
    expect(console!.name).toBe('console');
    expect(console!.argv).not.toContain('--schema-registry');
  });

  it('maps node log levels the registry does not have, and leaves out metrics when the nodes serve none', () => {
    const noMetrics = nodeRecords(planCluster(1, 1, true, 9092, '/d', false), '127.0.0.1', 'trace', '/cli/main.js', '/usr/bin/node');
    const [registry, console] = serviceRecords(
      servicePorts({ basePort: 9092, ...on }),
      noMetrics,
      '127.0.0.1',
      ['127.0.0.1:9092'],
      '/d',
      'trace',
      '/cli/main.js',
      '/usr/bin/node',
    );
    expect(registry!.argv.at(-1)).toBe('debug');
    expect(console!.argv).not.toContain('--metrics-servers');
    const [silent] = serviceRecords(
      servicePorts({ basePort: 9092, ...on }),
      noMetrics,
      '127.0.0.1',
      ['127.0.0.1:9092'],
      '/d',
      'silent',
      '/cli/main.js',
      '/usr/bin/node',
    );
    expect(silent!.argv.at(-1)).toBe('error');
  });
});

describe('services in the state file', () => {
  const base = {
    version: STATE_VERSION,
    mode: 'detached',
    host: '127.0.0.1',
    bootstrap: ['127.0.0.1:9092'],
    startedAt: '2024-01-01T00:00:00.000Z',
    nodes: [],
  };
  const service = {
    name: 'console',
    port: 8080,
    url: 'http://127.0.0.1:8080',
    logFile: '/d/console/console.log',
    pid: 42,
    argv: ['node', 'main.js', 'console'],
  };

  it('reads a state with services, and one written before services existed', () => {
    expect(parseState(JSON.stringify({ ...base, services: [service] }), 'f').services).toEqual([service]);
    expect(parseState(JSON.stringify(base), 'f').services).toBeUndefined();
  });

  it('rejects malformed service records', () => {
    expect(() => parseState(JSON.stringify({ ...base, services: {} }), 'f')).toThrow(/not a samsa cluster state file/);
    expect(() => parseState(JSON.stringify({ ...base, services: [{ ...service, pid: 'x' }] }), 'f')).toThrow(
      /not a samsa cluster state file/,
    );
    expect(() => parseState(JSON.stringify({ ...base, services: [{ name: 'console' }] }), 'f')).toThrow(/not a samsa cluster state file/);
  });

  it('counts a running service as a running process of the cluster (the data dir is in use)', () => {
    const state = parseState(JSON.stringify({ ...base, services: [service] }), 'f');
    const probe: ProcessProbe = { cmdline: (pid) => (pid === 42 ? ['node', 'main.js', 'console'] : undefined) };
    expect(runningProcesses(state, probe)).toEqual([{ name: 'console', pid: 42 }]);
    expect(runningProcesses(state, { cmdline: () => undefined })).toEqual([]);
  });
});
