/**
 * The topics a consumer-group member subscribes to, read from its JoinGroup metadata (Kafka's
 * ConsumerProtocol Subscription: int16 version, then an array of int16-length topic names; later
 * versions only add fields after them). OffsetDelete needs them (KIP-496: offsets of a topic the
 * group still consumes are not deleted). Undefined when the bytes are not a subscription.
 */
export function subscribedTopics(metadata: Buffer): string[] | undefined {
  try {
    if (metadata.length < 6) return undefined;
    if (metadata.readInt16BE(0) < 0) return undefined;
    const count = metadata.readInt32BE(2);
    if (count < 0 || count > metadata.length) return undefined;
    const topics: string[] = [];
    let at = 6;
    for (let i = 0; i < count; i++) {
      const len = metadata.readInt16BE(at);
      if (len < 0 || at + 2 + len > metadata.length) return undefined;
      topics.push(metadata.toString('utf8', at + 2, at + 2 + len));
      at += 2 + len;
    }
    return topics;
  } catch {
    return undefined;
  }
}
