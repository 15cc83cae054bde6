import type { BrokerConnection, ConnectionFactory } from './connection.js';

/** One connection per broker address, created on first use and reused for every request after. */
export class ConnectionPool {
  private readonly connections = new Map<string, BrokerConnection>();
  private closed = false;

  constructor(private readonly factory: ConnectionFactory) {}

  get(address: string): BrokerConnection {
    let connection = this.connections.get(address);
    if (!connection) {
      if (this.closed) throw new Error('connection pool is closed');
      connection = this.factory(address);
      this.connections.set(address, connection);
    }
    return connection;
  }

  /** Addresses with an open connection. */
  addresses(): string[] {
    return [...this.connections.keys()];
  }

  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }
}
