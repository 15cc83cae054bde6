/**
 * What the chaos run needs from a cluster, whatever runs it: processes on this machine
 * (processDriver.ts) or the docker compose cluster (composeDriver.ts).
 */

export interface ChaosNode {
  /** controller-1, broker-2, ... (the compose service name too). */
  name: string;
  nodeId: number;
  role: 'controller' | 'broker';
}

export interface PartitionSupport {
  supported: boolean;
  /** Why not, for the console and the report. */
  reason?: string;
}

export interface ClusterDriver {
  readonly kind: 'process' | 'compose';
  readonly controllers: readonly ChaosNode[];
  readonly brokers: readonly ChaosNode[];
  /** Broker addresses for clients. */
  readonly bootstrap: string[];
  /** Starts every node and resolves once every broker is registered (bounded). */
  start(): Promise<void>;
  /** SIGKILL. */
  kill(node: ChaosNode): Promise<void>;
  /** Starts a killed or stopped node again and waits until it serves (bounded). */
  restart(node: ChaosNode): Promise<void>;
  /** A graceful stop (SIGTERM) and start, as an operator's rolling restart does. */
  gracefulRestart(node: ChaosNode): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(node: ChaosNode): Promise<void>;
  resume(node: ChaosNode): Promise<void>;
  /** The Raft leader of the controller quorum (bounded wait). */
  activeController(timeoutMs?: number): Promise<ChaosNode>;
  readonly partition: PartitionSupport;
  /** Cuts `node` off from every other node (clients still reach it). */
  isolate(node: ChaosNode): Promise<void>;
  /** Removes every cut. */
  heal(): Promise<void>;
  /** Whether the disk-full nemesis can run (brokers' data directories on a small file system the harness mounts). */
  readonly diskFull: PartitionSupport;
  /** Fills a broker's data disk: its next writes fail with ENOSPC (its log directory goes offline). */
  fillDisk(node: ChaosNode): Promise<void>;
  /** Gives the space back (the broker uses it after a restart, as Kafka's offline log directory). */
  freeDisk(node: ChaosNode): Promise<void>;
  /** The concatenated bytes of a broker's segment files of one partition, in offset order. */
  readPartitionLog(broker: ChaosNode, topic: string, partition: number): Promise<Buffer>;
  /** Stops every node (and, for processes, removes nothing the report needs). */
  stop(): Promise<void>;
  /** Nodes that exited without the harness stopping them (a crash is a finding, not a fault we injected). */
  unexpectedExits(): string[];
  /** A line per node for the report: where its log is. */
  describe(): string[];
}
