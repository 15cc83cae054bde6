/** The node settings: precedence flag > env > file > default, and validation naming key and source. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROKER_TOPIC_CONFIG_SYNONYMS, TOPIC_CONFIG_KEYS } from '@samsa/metadata';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  SETTINGS,
  attributeOf,
  envOf,
  flagOf,
  loadNodeSettings,
  parsePropertiesFile,
  resolveSettings,
} from '../src/nodeConfig.js';

const VOTERS = '1@127.0.0.1:9093';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-nodeconfig-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const path = join(dir, 'node.properties');
  writeFileSync(path, text);
  return path;
}
const flags = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([flag, v]) => [attributeOf(flag), v]));

describe('setting names', () => {
  it('derives the flag and the environment variable from the key', () => {
    expect(flagOf('log.retention.ms')).toBe('--log-retention-ms');
    expect(envOf('log.retention.ms')).toBe('SAMSA_LOG_RETENTION_MS');
    expect(envOf('node.id')).toBe('SAMSA_NODE_ID');
    expect(attributeOf('--leader-imbalance-per-broker-percentage')).toBe('leaderImbalancePerBrokerPercentage');
  });

  it('has a broker-level default for every topic config', () => {
    expect(new Set(Object.values(BROKER_TOPIC_CONFIG_SYNONYMS))).toEqual(new Set(TOPIC_CONFIG_KEYS));
    for (const key of Object.keys(BROKER_TOPIC_CONFIG_SYNONYMS)) expect(SETTINGS.some((s) => s.key === key)).toBe(true);
  });
});

describe('precedence', () => {
  it('flag over env over file over default, each value saying where it came from', () => {
    const config = file('node.id=1\nlog.retention.ms=1000\nlog.segment.bytes=2048\ndata.dir=/from/file\n');
    const r = resolveSettings({
      configFile: config,
      env: { SAMSA_LOG_RETENTION_MS: '2000', SAMSA_LOG_SEGMENT_BYTES: '4096', PATH: '/bin' },
      flags: flags({ '--log-retention-ms': '3000' }),
    });
    expect(r.get('log.retention.ms')).toEqual({ value: '3000', source: { kind: 'flag', flag: '--log-retention-ms' } });
    expect(r.get('log.segment.bytes')).toEqual({ value: '4096', source: { kind: 'env', variable: 'SAMSA_LOG_SEGMENT_BYTES' } });
    expect(r.get('data.dir')).toEqual({ value: '/from/file', source: { kind: 'file', file: config, line: 4 } });
    expect(r.get('log.level')).toEqual({ value: 'info', source: { kind: 'default' } });
    expect(r.has('log.roll.ms')).toBe(false);
  });

  it('reads the file named by SAMSA_CONFIG, and --config wins over it', () => {
    const a = file('node.id=7\n');
    const b = join(dir, 'b.properties');
    writeFileSync(b, 'node.id=8\n');
    expect(resolveSettings({ env: { SAMSA_CONFIG: a }, flags: {} }).get('node.id')!.value).toBe('7');
    expect(resolveSettings({ env: { SAMSA_CONFIG: a }, flags: {}, configFile: b }).get('node.id')!.value).toBe('8');
  });

  it('an alias flag sets the same key; both at once is refused', () => {
    expect(resolveSettings({ env: {}, flags: flags({ '--roles': 'controller' }) }).get('process.roles')!.value).toBe('controller');
    expect(() => resolveSettings({ env: {}, flags: flags({ '--roles': 'controller', '--process-roles': 'broker' }) })).toThrow(
      'process.roles is given twice, by --process-roles and --roles',
    );
  });

  it('still reads the old --config topic-key=value form as the broker default', () => {
    const s = loadNodeSettings({
      env: {},
      flags: flags({ '--node-id': '1', '--controller-quorum-voters': VOTERS }),
      configFile: 'retention.ms=60000',
    });
    expect(s.topicDefaults).toEqual({ 'retention.ms': '60000' });
  });

  it('builds typed settings: topic defaults under topic names, listeners with their advertised addresses', () => {
    const s = loadNodeSettings({
      env: { SAMSA_NODE_ID: '4', SAMSA_CONTROLLER_QUORUM_VOTERS: VOTERS, SAMSA_MIN_INSYNC_REPLICAS: '2' },
      flags: flags({
        '--listeners': 'INTERNAL://0.0.0.0:19092,EXTERNAL://0.0.0.0:9092',
        '--advertised-listeners': 'INTERNAL://broker-1:19092,EXTERNAL://localhost:9092',
        '--log-retention-ms': '60000',
      }),
    });
    expect(s.nodeId).toBe(4);
    expect(s.topicDefaults).toEqual({ 'min.insync.replicas': '2', 'retention.ms': '60000' });
    expect(s.namedListeners).toBe(true);
    expect(s.interBrokerListenerName).toBe('INTERNAL');
    expect(s.listeners).toEqual([
      { name: 'INTERNAL', host: '0.0.0.0', port: 19092, advertisedHost: 'broker-1', advertisedPort: 19092, securityProtocol: 'PLAINTEXT' },
      { name: 'EXTERNAL', host: '0.0.0.0', port: 9092, advertisedHost: 'localhost', advertisedPort: 9092, securityProtocol: 'PLAINTEXT' },
    ]);
  });

  it('gives each listener its security protocol: the map, else its own name, else PLAINTEXT; and reads sasl.enabled.mechanisms', () => {
    const s = loadNodeSettings({
      env: { SAMSA_NODE_ID: '4', SAMSA_CONTROLLER_QUORUM_VOTERS: VOTERS },
      flags: flags({
        '--listeners': 'INTERNAL://127.0.0.1:19092,CLIENT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9093',
        '--listener-security-protocol-map': 'CLIENT:SASL_PLAINTEXT',
        '--sasl-enabled-mechanisms': 'SCRAM-SHA-512',
      }),
    });
    expect(s.listeners.map((l) => [l.name, l.securityProtocol])).toEqual([
      ['INTERNAL', 'PLAINTEXT'],
      ['CLIENT', 'SASL_PLAINTEXT'],
      ['SASL_PLAINTEXT', 'SASL_PLAINTEXT'],
    ]);
    expect(s.saslEnabledMechanisms).toEqual(['SCRAM-SHA-512']);
    expect(() =>
      loadNodeSettings({
        env: { SAMSA_NODE_ID: '4', SAMSA_CONTROLLER_QUORUM_VOTERS: VOTERS },
        flags: flags({ '--listeners': 'INTERNAL://127.0.0.1:19092', '--listener-security-protocol-map': 'OTHER:SASL_PLAINTEXT' }),
      }),
    ).toThrow(/not among listeners/);
  });
});

describe('validation', () => {
  const base = { '--node-id': '1', '--controller-quorum-voters': VOTERS };
  const load = (f: Record<string, string>, env: Record<string, string> = {}, configFile?: string) =>
    loadNodeSettings({ flags: flags({ ...base, ...f }), env, ...(configFile === undefined ? {} : { configFile }) });

  it.each([
    [{ '--node-id': 'one' }, {}, "node.id: must be an integer of at least 0, got 'one' (from flag --node-id)"],
    [
      {},
      { SAMSA_LOG_RETENTION_MS: 'soon' },
      "log.retention.ms: must be an integer, got 'soon' (from environment variable SAMSA_LOG_RETENTION_MS)",
    ],
    [
      {},
      { SAMSA_MIN_INSYNC_REPLICAS: '0' },
      'min.insync.replicas: must be between 1 and 2147483647, got 0 (from environment variable SAMSA_MIN_INSYNC_REPLICAS)',
    ],
    [
      { '--log-level': 'loud' },
      {},
      "log.level: must be one of fatal, error, warn, info, debug, trace, silent, got 'loud' (from flag --log-level)",
    ],
    [{ '--roles': 'broker,admin' }, {}, "process.roles: takes broker, controller or broker,controller; got 'admin' (from flag --roles)"],
    [
      { '--auto-leader-rebalance-enable': 'yes' },
      {},
      "auto.leader.rebalance.enable: must be true or false, got 'yes' (from flag --auto-leader-rebalance-enable)",
    ],
    [
      { '--controller-quorum-voters': '1@h' },
      {},
      "controller.quorum.voters: entries are ID@HOST:PORT, got '1@h' (from flag --controller-quorum-voters)",
    ],
    [
      { '--listen': '0.0.0.0:9092' },
      {},
      'listeners: listener PLAINTEXT would advertise 0.0.0.0, which clients cannot connect to; set advertised.listeners (from flag --listen)',
    ],
    [
      { '--listeners': 'A://h:1', '--advertised-listeners': 'B://h:2' },
      {},
      'advertised.listeners: names listener B, which is not among listeners (A) (from flag --advertised-listeners)',
    ],
    [
      { '--listeners': 'A://h:1', '--inter-broker-listener-name': 'B' },
      {},
      'inter.broker.listener.name: B is not among listeners (A) (from flag --inter-broker-listener-name)',
    ],
    [
      { '--roles': 'controller', '--node-id': '2' },
      {},
      'node.id: 2 is not among controller.quorum.voters (1@127.0.0.1:9093) (from flag --node-id)',
    ],
  ])('refuses %j %j', (f, env, message) => {
    expect(() => load(f, env)).toThrow(ConfigError);
    expect(() => load(f, env)).toThrow(message);
  });

  it('refuses unknown keys in the file, with the file and line', () => {
    const config = file('# settings\nnode.id=1\n\nlog.retention.mss=5\n');
    expect(() => load({}, {}, config)).toThrow(`unknown setting 'log.retention.mss' (${config} line 4)`);
    const topicName = file('retention.ms=5\n');
    expect(() => load({}, {}, topicName)).toThrow(
      /unknown setting 'retention.ms' .*the broker default for topic config retention.ms is log.retention.ms/,
    );
  });

  it('refuses a bad value in the file, naming the line', () => {
    const config = file('log.segment.bytes = 1\n');
    expect(() => load({}, {}, config)).toThrow(`log.segment.bytes: must be between 14 and 9007199254740991, got 1 (from ${config} line 1)`);
  });

  it('refuses unknown SAMSA_* variables and a missing or unreadable file', () => {
    expect(() => load({}, { SAMSA_NODEID: '1' })).toThrow('unknown environment variable SAMSA_NODEID');
    expect(() => load({}, {}, join(dir, 'missing.properties'))).toThrow(
      /cannot read the config file '.*missing.properties' \(from --config\): ENOENT/,
    );
  });

  it('requires node.id and controller.quorum.voters, saying where to set them', () => {
    expect(() => loadNodeSettings({ flags: {}, env: {} })).toThrow(
      'node.id is required: give --node-id, SAMSA_NODE_ID or node.id in the config file',
    );
    expect(() => loadNodeSettings({ flags: flags({ '--node-id': '1' }), env: {} })).toThrow(
      /controller.quorum.voters is required for a broker/,
    );
  });

  it("parses Kafka's properties syntax: '=' or ':', comments, whitespace", () => {
    const parsed = parsePropertiesFile('! comment\n  node.id : 3\ndata.dir= /var/lib/samsa \n', 'f');
    expect([...parsed].map(([k, v]) => [k, v.value])).toEqual([
      ['node.id', '3'],
      ['data.dir', '/var/lib/samsa'],
    ]);
    expect(() => parsePropertiesFile('node.id\n', 'f')).toThrow("f line 1: expected key=value, got 'node.id'");
    expect(() => parsePropertiesFile('node.id=1\nnode.id=2\n', 'f')).toThrow("setting 'node.id' appears twice in f (lines 1 and 2)");
  });
});
