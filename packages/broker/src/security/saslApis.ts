/**
 * The Kafka protocol's SASL APIs (Kafka's KafkaApis.handleSaslHandshakeRequest and the
 * SaslServerAuthenticator's frame handling, KIP-152): SaslHandshake v0-1 and SaslAuthenticate v0-2
 * over the connection's SaslServerAuthenticator (sasl.ts). On a listener without SASL both answer
 * ILLEGAL_SASL_STATE, as Kafka does for a handshake it does not expect.
 */
import { ApiKey, type SaslAuthenticateRequest, type SaslHandshakeRequest } from '@samsa/kafka';
import { ErrorCode } from '@samsa/protocol';
import type { Logger } from 'pino';
import { type KafkaApiHandler, type KafkaRequestContext, respondThenClose } from '../kafka/kafkaApis.js';

export function saslApis(deps: { logger: Logger }): KafkaApiHandler[] {
  const saslHandshake: KafkaApiHandler = {
    apiKey: ApiKey.SaslHandshake,
    minVersion: 0,
    maxVersion: 1,
    handle(req: SaslHandshakeRequest, ctx: KafkaRequestContext) {
      const sasl = ctx.connection.sasl;
      if (!sasl)
        return respondThenClose({ errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] }, 'SaslHandshake on a listener without SASL');
      const answer = sasl.handshake(req.mechanism);
      if (answer.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM)
        deps.logger.info({ client: ctx.connection.clientHost, mechanism: req.mechanism }, 'SASL handshake with a mechanism not enabled');
      const body = { errorCode: answer.errorCode, mechanisms: answer.mechanisms };
      return answer.close === undefined ? body : respondThenClose(body, answer.close);
    },
  };

  const saslAuthenticate: KafkaApiHandler = {
    apiKey: ApiKey.SaslAuthenticate,
    minVersion: 0,
    maxVersion: 2,
    handle(req: SaslAuthenticateRequest, ctx: KafkaRequestContext) {
      const sasl = ctx.connection.sasl;
      if (!sasl)
        return respondThenClose(
          {
            errorCode: ErrorCode.ILLEGAL_SASL_STATE,
            errorMessage: 'this listener does not use SASL',
            authBytes: Buffer.alloc(0),
            sessionLifetimeMs: 0n,
          },
          'SaslAuthenticate on a listener without SASL',
        );
      const answer = sasl.authenticate(Buffer.from(req.authBytes));
      const body = { errorCode: answer.errorCode, errorMessage: answer.errorMessage, authBytes: answer.authBytes, sessionLifetimeMs: 0n };
      if (answer.errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED) {
        // One line per failure: who tried, from where, how. Never the token (it holds the password or proof).
        deps.logger.info(
          {
            client: ctx.connection.clientHost,
            listener: ctx.connection.listenerName,
            mechanism: sasl.chosenMechanism,
            user: answer.failedUser,
          },
          'SASL authentication failed',
        );
      } else if (sasl.isAuthenticated) {
        deps.logger.debug(
          { client: ctx.connection.clientHost, principal: `User:${sasl.principal?.name}` },
          'SASL authentication succeeded',
        );
      }
      return answer.close === undefined ? body : respondThenClose(body, answer.close);
    },
  };

  return [saslHandshake, saslAuthenticate];
}
