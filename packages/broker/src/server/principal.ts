/**
 * Who a gRPC call comes from, for the authorizer: the principal its connection authenticated as
 * (security/grpcAuthentication.ts: SASL or the client certificate; User:ANONYMOUS on PLAINTEXT)
 * and the client's address from the call's peer ('ipv4:127.0.0.1:5555', 'ipv6:[::1]:5555').
 */
import type { RequestIdentity } from '../security/authorizerService.js';
import { principalOf } from '../security/grpcAuthentication.js';

interface CallLike {
  getPeer(): string;
}

/** The bare client address of a gRPC peer string. */
export function peerAddress(peer: string): string {
  const rest = peer.replace(/^(ipv4|ipv6|unix):/, '');
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(rest);
  if (v6) return v6[1]!;
  const colon = rest.lastIndexOf(':');
  return colon > 0 && rest.indexOf(':') === colon ? rest.slice(0, colon) : rest;
}

export function identityOf(call: CallLike, api: string): RequestIdentity {
  let address = 'unknown';
  try {
    address = peerAddress(call.getPeer());
  } catch {
    // A call whose peer is gone still gets its answer; the address only names it in audit lines.
  }
  return { principal: principalOf(call), clientAddress: address, api };
}
