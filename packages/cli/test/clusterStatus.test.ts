/**
 * `cluster status` formatting: the bootstrap line first, one row per node with its process and
 * role state, then the active controller, quorum, brokers and partition counts; an unreachable
 * cluster says so instead of inventing counts.
 */
import { describe, expect, it } from 'vitest';
import { formatStatus, nodeState, type ClusterStatus } from '../src/cluster/status.js';

function healthy(): ClusterStatus {
  return {
    bootstrap: ['127.0.0.1:9092', '127.0.0.1:9192'],
    mode: 'detached',
    reachable: true,
    clusterId: 'abc',
    controllerId: 2,
    registeredBrokers: [3, 4],
    quorum: {
      leaderId: 2,
      leaderEpoch: '5',
      highWatermark: '42',
      voters: [
        { id: 1, lag: '0' },
        { id: 2, lag: '0' },
      ],
    },
    partitions: { topics: 2, total: 6, underReplicated: 1, offline: 0 },
    nodes: [
      {
        name: 'controller-1',
        nodeId: 1,
        roles: 'controller',
        controller: '127.0.0.1:9093',
        metrics: '127.0.0.1:9095',
        pid: 101,
        process: 'running',
      },
      {
        name: 'controller-2',
        nodeId: 2,
        roles: 'controller',
        controller: '127.0.0.1:9193',
        metrics: '127.0.0.1:9195',
        pid: 102,
        process: 'running',
      },
      { name: 'broker-1', nodeId: 3, roles: 'broker', broker: '127.0.0.1:9092', metrics: '127.0.0.1:9094', pid: 103, process: 'running' },
      { name: 'broker-2', nodeId: 4, roles: 'broker', broker: '127.0.0.1:9192', metrics: '127.0.0.1:9194', pid: 104, process: 'gone' },
    ],
  };
}

describe('formatStatus', () => {
  it('prints the bootstrap line, the node table and the health lines', () => {
    expect(formatStatus(healthy())).toBe(
      [
        'bootstrap-server: 127.0.0.1:9092,127.0.0.1:9192',
        'kafka bootstrap.servers: 127.0.0.1:9092,127.0.0.1:9192 (same ports: the Kafka protocol and the Samsa SDK)',
        'NODE          ID  ROLES       BROKER          CONTROLLER      METRICS         PID  PROCESS  STATE',
        'controller-1  1   controller  -               127.0.0.1:9093  127.0.0.1:9095  101  running  voter, lag 0',
        'controller-2  2   controller  -               127.0.0.1:9193  127.0.0.1:9195  102  running  active controller',
        'broker-1      3   broker      127.0.0.1:9092  -               127.0.0.1:9094  103  running  unfenced',
        'broker-2      4   broker      127.0.0.1:9192  -               127.0.0.1:9194  104  gone     -',
        'active controller: 2 (epoch 5, metadata high watermark 42)',
        'controller quorum: 1 (lag 0), 2 (leader)',
        'brokers: 2 registered and unfenced [3,4]',
        'partitions: 6 in 2 topic(s), 1 under-replicated, 0 offline',
        '',
      ].join('\n'),
    );
  });

  it('without a state file there are no PID and PROCESS columns', () => {
    const s = healthy();
    s.nodes = s.nodes.map(({ pid: _pid, process: _process, ...n }) => n);
    const header = formatStatus(s).split('\n')[2]!;
    expect(header).toBe('NODE          ID  ROLES       BROKER          CONTROLLER      METRICS         STATE');
  });

  it('counts fewer registered brokers than started ones', () => {
    const s = healthy();
    s.registeredBrokers = [3];
    expect(formatStatus(s)).toContain('brokers: 1 of 2 registered and unfenced [3]\n');
    expect(nodeState(s.nodes[2]!, s)).toBe('unfenced');
    s.nodes[3]!.process = 'running';
    expect(nodeState(s.nodes[3]!, s)).toBe('fenced or unregistered');
  });

  it('says when the cluster cannot be reached, with no made-up counts', () => {
    const s: ClusterStatus = {
      bootstrap: ['127.0.0.1:9092'],
      reachable: false,
      error: 'connect ECONNREFUSED 127.0.0.1:9092',
      nodes: [
        {
          name: 'node-1',
          nodeId: 1,
          roles: 'broker,controller',
          broker: '127.0.0.1:9092',
          controller: '127.0.0.1:9093',
          pid: 7,
          process: 'gone',
        },
      ],
    };
    const text = formatStatus(s);
    expect(text).toContain('active controller: none reachable\n');
    expect(text).toContain('cluster: not reachable through 127.0.0.1:9092 (connect ECONNREFUSED 127.0.0.1:9092)\n');
    expect(text).not.toContain('partitions:');
    expect(text).not.toContain('brokers:');
  });

  it("a combined node shows both roles' state; a reused PID is marked", () => {
    const s = healthy();
    s.nodes = [
      { name: 'node-1', nodeId: 2, roles: 'broker,controller', pid: 9, process: 'running' },
      { name: 'node-2', nodeId: 3, roles: 'broker', pid: 10, process: 'replaced' },
    ];
    expect(nodeState(s.nodes[0]!, s)).toBe('active controller, fenced or unregistered');
    expect(formatStatus(s)).toMatch(/node-2 .* gone \(pid reused\)\s+-\n/);
  });
});
