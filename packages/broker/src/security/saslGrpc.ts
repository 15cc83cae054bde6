/**
 * Who a gRPC call comes from, for the authorizer. The design (README.md, "gRPC"): an
 * `Authenticate` RPC carrying the SASL exchange returns a session token that later calls carry in
 * `authorization: Bearer <token>` metadata. Not built yet: every call is `User:ANONYMOUS`, and a
 * SASL listener refuses gRPC connections outright (kafka/listener.ts), so no unauthenticated gRPC
 * call ever reaches a SASL listener's services.
 */
import { ANONYMOUS, type KafkaPrincipal } from '@samsa/server';

/** The principal of a gRPC call (any grpc-js server call object). */
export function principalOf(_call: { readonly metadata?: unknown }): KafkaPrincipal {
  return ANONYMOUS;
}
