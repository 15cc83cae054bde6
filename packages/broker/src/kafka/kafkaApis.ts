/**
 * The Kafka wire protocol's API layer (Kafka's KafkaApis + RequestChannel): decodes a frame's
 * header, checks the API and version against what this broker serves, calls the API's handler
 * (which calls the same in-process services as the gRPC handlers) and encodes its answer.
 *
 * Closes, as Kafka does: an unknown API key, an unsupported version (except ApiVersions, which
 * answers UNSUPPORTED_VERSION in a v0 body with header v0 so the client can pick another
 * version), a frame that does not decode, a failed acks=0 produce. Nothing a client sends can
 * throw past `handle`: an unexpected failure closes that one connection and is logged.
 */
import {
  ApiKey,
  KafkaDecodeError,
  SUPPORTED_APIS,
  decodeRequest,
  decodeRequestHeader,
  encodeResponse,
  type RequestHeader,
} from '@samsa/kafka';
import { ErrorCode } from '@samsa/protocol';
import type { Logger } from 'pino';
import type { RequestIdentity } from '../security/authorizerService.js';
import type { KafkaAnswer, KafkaConnectionInfo, KafkaRequestHandler } from './connection.js';

/** What every handler gets besides its decoded request. */
export interface KafkaRequestContext {
  readonly header: RequestHeader;
  readonly connection: KafkaConnectionInfo;
  /** Who asks, for the authorizer: the connection's principal and address, and this API's name. */
  readonly identity: RequestIdentity;
}

/** Kafka's client host form '/127.0.0.1' as a bare address, the form ACL hosts are written in. */
export function clientAddress(clientHost: string): string {
  return clientHost.startsWith('/') ? clientHost.slice(1) : clientHost;
}

/** A handler's answer: a response body, or no response at all (acks=0), or close the connection. */
export type HandlerResult = object | typeof NO_RESPONSE | { readonly [CLOSE]: string };

export const NO_RESPONSE = Symbol('no response');
export const CLOSE = Symbol('close');
/** Answer `body`, then close the connection with `reason` (a failed SaslAuthenticate). */
export const THEN_CLOSE = Symbol('then close');

export function respondThenClose(body: object, reason: string): HandlerResult {
  return { ...body, [THEN_CLOSE]: reason };
}

/** What a SASL listener serves before the connection authenticated (Kafka's SaslServerAuthenticator). */
const BEFORE_AUTHENTICATION: ReadonlySet<number> = new Set([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

export interface KafkaApiHandler {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(request: any, ctx: KafkaRequestContext): Promise<HandlerResult> | HandlerResult;
}

/** Per-API request counts and latencies (metrics.ts registers them; none without a registry). */
export interface KafkaRequestObserver {
  observe(api: string, version: number, outcome: 'ok' | 'closed', seconds: number): void;
}

export interface KafkaApisOptions {
  handlers: readonly KafkaApiHandler[];
  logger: Logger;
  observer?: KafkaRequestObserver;
  /** Until true, every request closes its connection (the broker is still joining the cluster). */
  isServing: () => boolean;
  /** Why the broker cannot serve yet (logged). */
  startingReason: () => string;
}

const API_NAMES = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key as number, name]));

export function apiName(apiKey: number): string {
  return API_NAMES.get(apiKey) ?? `api-${apiKey}`;
}

export class KafkaApis implements KafkaRequestHandler {
  private readonly byKey = new Map<number, KafkaApiHandler>();
  /** What ApiVersions advertises: each served API within the codecs' range. */
  readonly advertised: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>;

  constructor(private readonly options: KafkaApisOptions) {
    const codecs = new Map(SUPPORTED_APIS.map((a) => [a.apiKey, a]));
    const advertised = [];
    for (const h of options.handlers) {
      const c = codecs.get(h.apiKey);
      if (!c) throw new Error(`no codec for ${apiName(h.apiKey)}`);
      const min = Math.max(h.minVersion, c.minVersion);
      const max = Math.min(h.maxVersion, c.maxVersion);
      if (min > max)
        throw new Error(
          `${apiName(h.apiKey)}: the handler's versions ${h.minVersion}-${h.maxVersion} and the codec's ${c.minVersion}-${c.maxVersion} do not overlap`,
        );
      this.byKey.set(h.apiKey, { apiKey: h.apiKey, minVersion: min, maxVersion: max, handle: h.handle.bind(h) });
      advertised.push({ apiKey: h.apiKey, minVersion: min, maxVersion: max });
    }
    advertised.sort((a, b) => a.apiKey - b.apiKey);
    this.advertised = advertised;
  }

  handle(frame: Buffer, connection: KafkaConnectionInfo): Promise<KafkaAnswer> | KafkaAnswer {
    const started = process.hrtime.bigint();
    let header: RequestHeader;
    let bodyOffset: number;
    try {
      ({ header, bodyOffset } = decodeRequestHeader(frame));
    } catch (err) {
      // Every header version starts with api key, api version and correlation id: an ApiVersions
      // in a version whose header we cannot read still gets its UNSUPPORTED_VERSION answer.
      if (frame.length >= 8 && frame.readInt16BE(0) === ApiKey.ApiVersions) return this.unsupportedApiVersions(frame.readInt32BE(4));
      return this.closed(`undecodable request header: ${(err as Error).message}`, connection);
    }
    const name = apiName(header.apiKey);
    const finish = (answer: KafkaAnswer): KafkaAnswer => {
      this.options.observer?.observe(
        name,
        header.apiVersion,
        answer.kind === 'close' ? 'closed' : 'ok',
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      return answer;
    };
    const handler = this.byKey.get(header.apiKey);
    if (!handler) return finish(this.closed(`unknown API key ${header.apiKey}`, connection, header));
    if (header.apiVersion < handler.minVersion || header.apiVersion > handler.maxVersion) {
      if (header.apiKey === ApiKey.ApiVersions) {
        // KIP-511: the client learns our range from a v0 body and retries with a version we have.
        return finish(this.unsupportedApiVersions(header.correlationId));
      }
      return finish(
        this.closed(`${name} v${header.apiVersion} is not supported (${handler.minVersion}-${handler.maxVersion})`, connection, header),
      );
    }
    if (connection.sasl && !connection.sasl.isAuthenticated && !BEFORE_AUTHENTICATION.has(header.apiKey)) {
      this.options.logger.info(
        { client: connection.clientHost, listener: connection.listenerName, api: name },
        'refusing a request before SASL authentication',
      );
      return finish(this.closed(`${name} before SASL authentication`, connection, header));
    }
    if (!this.options.isServing()) return finish(this.closed(`not serving yet: ${this.options.startingReason()}`, connection, header));
    let request: unknown;
    try {
      request = decodeRequest(header.apiKey, header.apiVersion, frame, bodyOffset);
    } catch (err) {
      if (err instanceof KafkaDecodeError)
        return finish(this.closed(`undecodable ${name} v${header.apiVersion}: ${err.message}`, connection, header));
      throw err;
    }
    const ctx: KafkaRequestContext = {
      header,
      connection,
      identity: { principal: connection.principal, clientAddress: clientAddress(connection.clientHost), api: name },
    };
    const toAnswer = (result: HandlerResult): KafkaAnswer => {
      if (result === NO_RESPONSE) return finish({ kind: 'none' });
      if (CLOSE in result) return finish(this.closed((result as { [CLOSE]: string })[CLOSE], connection, header));
      const bytes = encodeResponse(header.apiKey, header.apiVersion, header.correlationId, result);
      if (THEN_CLOSE in result) return finish({ kind: 'response', bytes, close: (result as { [THEN_CLOSE]: string })[THEN_CLOSE] });
      return finish({ kind: 'response', bytes });
    };
    const failed = (err: unknown): KafkaAnswer => {
      this.options.logger.error({ err, api: name, version: header.apiVersion }, 'kafka request failed');
      return finish({ kind: 'close', reason: `${name} failed: ${(err as Error)?.message ?? String(err)}` });
    };
    try {
      const result = handler.handle(request, ctx);
      if (result instanceof Promise) return result.then(toAnswer, failed);
      return toAnswer(result);
    } catch (err) {
      return failed(err);
    }
  }

  private unsupportedApiVersions(correlationId: number): KafkaAnswer {
    return {
      kind: 'response',
      bytes: encodeResponse(ApiKey.ApiVersions, 0, correlationId, {
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        apiKeys: [...this.advertised],
      }),
    };
  }

  private closed(reason: string, connection: KafkaConnectionInfo, header?: RequestHeader): KafkaAnswer {
    this.options.logger.debug(
      {
        client: connection.clientHost,
        reason,
        ...(header ? { apiKey: header.apiKey, apiVersion: header.apiVersion, clientId: header.clientId } : {}),
      },
      'closing a kafka connection',
    );
    return { kind: 'close', reason };
  }
}

/**
 * The listener binds before the services exist (the broker registers its bound port), so it talks
 * to this, which closes every connection until `set` is called.
 */
export class LateKafkaHandler implements KafkaRequestHandler {
  private impl: KafkaRequestHandler | undefined;

  set(impl: KafkaRequestHandler): void {
    this.impl = impl;
  }

  handle(frame: Buffer, connection: KafkaConnectionInfo): Promise<KafkaAnswer> | KafkaAnswer {
    if (!this.impl) return { kind: 'close', reason: 'the broker is starting' };
    return this.impl.handle(frame, connection);
  }
}
