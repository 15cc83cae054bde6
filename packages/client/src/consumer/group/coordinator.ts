/**
 * Finds and remembers each group's coordinator. Any broker answers FindCoordinator; the answer is
 * cached per group until a request to it fails with NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or a
 * connection error (the coordinator moved with the leadership of its `__consumer_offsets`
 * partition, or its broker died), after which the next lookup asks again.
 */
import { ErrorCode } from '@samsa/protocol';
import type { Cluster } from '../../cluster/cluster.js';
import { SamsaConnectionError, SamsaError, errorFromCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Retrier } from '../../retry.js';
import type { GroupsConnection, GroupsConnectionFactory } from './groupsConnection.js';

export interface Coordinator {
  nodeId: number;
  address: string;
  connection: GroupsConnection;
}

/** Codes after which the group's coordinator must be looked up again. */
export function isCoordinatorMoved(error: unknown): boolean {
  if (error instanceof SamsaConnectionError) return true;
  return error instanceof SamsaError && (error.code === ErrorCode.NOT_COORDINATOR || error.code === ErrorCode.COORDINATOR_NOT_AVAILABLE);
}

export class GroupRouter {
  private readonly connections = new Map<string, GroupsConnection>();
  private readonly coordinators = new Map<string, Coordinator>();
  private readonly finding = new Map<string, Promise<Coordinator>>();
  private nextBroker = 0;
  private closed = false;

  constructor(
    private readonly factory: GroupsConnectionFactory,
    private readonly cluster: Cluster,
    private readonly logger: Logger,
  ) {}

  connection(address: string): GroupsConnection {
    if (this.closed) throw new SamsaConnectionError('the client is closed', { retriable: false });
    let c = this.connections.get(address);
    if (!c) this.connections.set(address, (c = this.factory(address)));
    return c;
  }

  /** Runs `request` on a reachable broker (known brokers first, rotating, then the seeds). */
  async anyBroker<T>(request: (c: GroupsConnection) => Promise<T>): Promise<T> {
    const known = this.cluster.info().brokers.map((b) => b.address);
    const start = known.length > 0 ? this.nextBroker++ % known.length : 0;
    const candidates = [...new Set([...known.slice(start), ...known.slice(0, start), ...this.cluster.seeds])];
    let lastError: unknown;
    for (const address of candidates) {
      try {
        return await request(this.connection(address));
      } catch (error) {
        if (!(error instanceof SamsaConnectionError) || !error.retriable) throw error;
        lastError = error;
      }
    }
    throw new SamsaConnectionError(`no broker reachable (tried ${candidates.join(', ')})`, { cause: lastError });
  }

  /** The group's coordinator, cached or found now; throws the retriable COORDINATOR_NOT_AVAILABLE while there is none. */
  coordinator(groupId: string, timeoutMs: number): Promise<Coordinator> {
    const cached = this.coordinators.get(groupId);
    if (cached) return Promise.resolve(cached);
    let pending = this.finding.get(groupId);
    if (!pending) {
      pending = this.anyBroker((c) => c.findCoordinator({ keyType: 0, key: groupId }, { timeoutMs }))
        .then((r) => {
          if (r.errorCode !== 0) throw errorFromCode(r.errorCode, r.errorMessage || `no coordinator for group ${groupId} yet`);
          const address = r.host.includes(':') && !r.host.startsWith('[') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
          const found = { nodeId: r.nodeId, address, connection: this.connection(address) };
          this.coordinators.set(groupId, found);
          this.logger.debug('group coordinator found', { groupId, nodeId: r.nodeId, address });
          return found;
        })
        .finally(() => this.finding.delete(groupId));
      this.finding.set(groupId, pending);
    }
    return pending;
  }

  /** Forgets the group's coordinator (only if it is still `which`, when given). */
  invalidate(groupId: string, which?: Coordinator): void {
    const cached = this.coordinators.get(groupId);
    if (cached && (!which || cached.address === which.address)) {
      this.coordinators.delete(groupId);
      this.logger.debug('group coordinator forgotten', { groupId, address: cached.address });
    }
  }

  /**
   * Runs `op` against the group's coordinator, re-finding it and retrying (through `retrier`)
   * when it moved or is loading. `op` throws the response's error code as a typed error.
   */
  withCoordinator<T>(groupId: string, retrier: Retrier, op: (c: Coordinator) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let current: Coordinator | undefined;
    return retrier.run(
      async () => {
        current = await this.coordinator(groupId, this.cluster.requestTimeoutMs);
        return op(current);
      },
      {
        what: `group ${groupId}`,
        ...(signal ? { signal } : {}),
        onRetriableError: (error) => {
          if (isCoordinatorMoved(error)) this.invalidate(groupId, current);
        },
      },
    );
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
    this.coordinators.clear();
  }
}
