/**
 * The active controller's broker sessions (Kafka's BrokerHeartbeatManager): when each broker was
 * last heard from. It is NOT replicated: a controller that becomes active starts every session
 * afresh (`reset`), so a broker is fenced only after a full session timeout of silence towards the
 * controller that is actually in charge.
 */
export class BrokerHeartbeatManager {
  private readonly lastContactMs = new Map<number, number>();

  /** A registration or heartbeat arrived at `now`. */
  touch(brokerId: number, now: number): void {
    this.lastContactMs.set(brokerId, now);
  }

  lastContact(brokerId: number): number | undefined {
    return this.lastContactMs.get(brokerId);
  }

  remove(brokerId: number): void {
    this.lastContactMs.delete(brokerId);
  }

  /** Forget every session and start one at `now` for each broker given (on becoming active). */
  reset(brokerIds: Iterable<number>, now: number): void {
    this.lastContactMs.clear();
    for (const id of brokerIds) this.lastContactMs.set(id, now);
  }

  /**
   * Whether the broker's session has expired. A broker never heard from starts its session now:
   * it gets a full timeout before it can be fenced.
   */
  hasExpired(brokerId: number, now: number, sessionTimeoutMs: number): boolean {
    const last = this.lastContactMs.get(brokerId);
    if (last === undefined) {
      this.lastContactMs.set(brokerId, now);
      return false;
    }
    return now - last > sessionTimeoutMs;
  }
}
