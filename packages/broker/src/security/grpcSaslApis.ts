/**
 * SaslHandshake and SaslAuthenticate on gRPC (the Samsa service's pair; Kafka's
 * handleSaslHandshakeRequest and SaslServerAuthenticator frame handling, as saslApis.ts does for
 * the Kafka protocol): each drives the SASL session of the connection the call came on
 * (grpcSaslSessions.ts). On a listener without SASL both answer ILLEGAL_SASL_STATE. A failed
 * exchange is answered SASL_AUTHENTICATION_FAILED with Kafka's sentence, logged once (user,
 * client, mechanism; never the token), and the connection is then closed, as Kafka closes it.
 */
import { ErrorCode, type grpc } from '@samsa/protocol';
import type {
  SaslAuthenticateRequest__Output,
  SaslAuthenticateResponse,
  SaslHandshakeRequest__Output,
  SaslHandshakeResponse,
} from '@samsa/protocol';
import type { Logger } from 'pino';
import type { GrpcSaslSessions } from './grpcSaslSessions.js';
import { peerAddress } from '../server/principal.js';

export function grpcSaslHandlers(deps: { sessions: GrpcSaslSessions | undefined; listenerName: string; logger: Logger }) {
  const { sessions, listenerName, logger } = deps;
  const notSasl = `listener ${listenerName} does not use SASL`;
  return {
    SaslHandshake(
      call: grpc.ServerUnaryCall<SaslHandshakeRequest__Output, SaslHandshakeResponse>,
      callback: grpc.sendUnaryData<SaslHandshakeResponse>,
    ): void {
      if (!sessions) return callback(null, { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] });
      const peer = call.getPeer();
      const answer = sessions.handshake(peer, call.request.mechanism ?? '');
      if (answer.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM)
        logger.info(
          { client: peerAddress(peer), listener: listenerName, mechanism: call.request.mechanism },
          'SASL handshake with a mechanism not enabled',
        );
      callback(null, { errorCode: answer.errorCode, mechanisms: [...answer.mechanisms] });
    },

    SaslAuthenticate(
      call: grpc.ServerUnaryCall<SaslAuthenticateRequest__Output, SaslAuthenticateResponse>,
      callback: grpc.sendUnaryData<SaslAuthenticateResponse>,
    ): void {
      if (!sessions) return callback(null, { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: notSasl, authBytes: Buffer.alloc(0) });
      const peer = call.getPeer();
      const answer = sessions.authenticate(peer, Buffer.from(call.request.authBytes ?? Buffer.alloc(0)));
      if (answer.errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED) {
        logger.info(
          { client: peerAddress(peer), listener: listenerName, user: answer.failedUser, protocol: 'grpc' },
          'SASL authentication failed',
        );
      } else if (answer.errorCode === ErrorCode.NONE && sessions.principal(peer)) {
        logger.debug({ client: peerAddress(peer), principal: `User:${sessions.principal(peer)!.name}` }, 'SASL authentication succeeded');
      }
      callback(null, { errorCode: answer.errorCode, errorMessage: answer.errorMessage ?? '', authBytes: answer.authBytes });
      if (answer.close !== undefined) sessions.disconnect(peer);
    },
  };
}
