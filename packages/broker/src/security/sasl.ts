/**
 * The SASL state machine of one Kafka connection (Kafka's SaslServerAuthenticator, KIP-43 and
 * KIP-152 framing): SaslHandshake picks a mechanism, SaslAuthenticate frames carry the mechanism's
 * tokens, and the connection's principal becomes `User:<name>` once the exchange succeeds. States
 * and messages are drawn in README.md. Pure apart from the injected nonce source; the request
 * handlers in saslApis.ts feed it decoded frames.
 */
import { createHmac } from 'node:crypto';
import { ErrorCode } from '@samsa/protocol';
import type { KafkaPrincipal } from '@samsa/server';
import { authenticatePlain } from './saslPlain.js';
import {
  type ScramCredential,
  type ScramMechanism,
  ScramServer,
  SCRAM_MECHANISMS,
  credentialFromSaltedPassword,
  hashOf,
  isScramMechanism,
} from './scram.js';

export type SaslMechanism = 'PLAIN' | ScramMechanism;
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', ...SCRAM_MECHANISMS];

export function isSaslMechanism(name: string): name is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(name);
}

/** Where the authenticator finds users: the metadata image's SCRAM credentials. */
export interface ScramCredentialSource {
  credential(user: string, mechanism: ScramMechanism): ScramCredential | undefined;
}

export interface SaslServerOptions {
  /** sasl.enabled.mechanisms of the listener. */
  readonly enabledMechanisms: readonly SaslMechanism[];
  readonly credentials: ScramCredentialSource;
  /** A fresh SCRAM server nonce: printable, no ','. */
  readonly nonce: () => string;
  /** A per-broker secret for decoy salts (unknown users look like known ones). */
  readonly decoySecret: Buffer;
}

export type SaslState = 'handshake' | 'authenticate' | 'authenticated' | 'failed';

/** What a SaslAuthenticate frame is answered with; `close` set: answer, then close the connection. */
export interface SaslAuthenticateAnswer {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly authBytes: Buffer;
  readonly close?: string;
  /** Set when this step failed authentication: who tried, for the log line (never a password). */
  readonly failedUser?: string;
}

/** Kafka's sentence for a failed exchange (SaslAuthenticationException). */
export function authenticationFailedMessage(mechanism: string): string {
  return `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;
}

export class SaslServerAuthenticator {
  private stateValue: SaslState = 'handshake';
  private mechanism: SaslMechanism | undefined;
  private scram: ScramServer | undefined;
  private authenticated: KafkaPrincipal | undefined;

  constructor(private readonly options: SaslServerOptions) {}

  get state(): SaslState {
    return this.stateValue;
  }

  /** The authenticated principal; undefined until the exchange succeeded. */
  get principal(): KafkaPrincipal | undefined {
    return this.authenticated;
  }

  get isAuthenticated(): boolean {
    return this.stateValue === 'authenticated';
  }

  /** The mechanism SaslHandshake picked, if any. */
  get chosenMechanism(): SaslMechanism | undefined {
    return this.mechanism;
  }

  /** SaslHandshake: answers UNSUPPORTED_SASL_MECHANISM (and stays) for a mechanism not enabled; ILLEGAL_SASL_STATE out of turn. */
  handshake(mechanism: string): { errorCode: number; mechanisms: string[]; close?: string } {
    const mechanisms = [...this.options.enabledMechanisms];
    if (this.stateValue !== 'handshake')
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms, close: `SaslHandshake in state ${this.stateValue}` };
    if (!isSaslMechanism(mechanism) || !this.options.enabledMechanisms.includes(mechanism))
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    this.mechanism = mechanism;
    if (isScramMechanism(mechanism)) {
      this.scram = new ScramServer({
        mechanism,
        credentialOf: (user) => this.options.credentials.credential(user, mechanism),
        serverNonce: this.options.nonce(),
        decoyCredential: (user) => this.decoy(mechanism, user),
      });
    }
    this.stateValue = 'authenticate';
    return { errorCode: ErrorCode.NONE, mechanisms };
  }

  /** One SaslAuthenticate frame's token. */
  authenticate(token: Buffer): SaslAuthenticateAnswer {
    if (this.stateValue !== 'authenticate') {
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: `SaslAuthenticate is not expected in state ${this.stateValue}`,
        authBytes: Buffer.alloc(0),
        close: `SaslAuthenticate in state ${this.stateValue}`,
      };
    }
    const mechanism = this.mechanism!;
    if (mechanism === 'PLAIN') {
      const outcome = authenticatePlain(token, (user) =>
        // Strongest first: one PBKDF2 per attempt.
        (['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const).flatMap((m) => {
          const credential = this.options.credentials.credential(user, m);
          return credential ? [{ mechanism: m, credential }] : [];
        }),
      );
      if (outcome.ok) return this.succeed(outcome.username, Buffer.alloc(0));
      return this.fail(mechanism, outcome.reason, outcome.username);
    }
    const step = this.scram!.evaluate(token);
    if (step.kind === 'challenge') return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.bytes };
    if (step.kind === 'done') return this.succeed(step.username, step.bytes);
    return this.fail(mechanism, step.reason, step.username);
  }

  private succeed(username: string, bytes: Buffer): SaslAuthenticateAnswer {
    this.stateValue = 'authenticated';
    this.authenticated = Object.freeze({ principalType: 'User', name: username });
    this.scram = undefined;
    return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: bytes };
  }

  private fail(mechanism: SaslMechanism, reason: string, user: string | undefined): SaslAuthenticateAnswer {
    this.stateValue = 'failed';
    this.scram = undefined;
    return {
      errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
      errorMessage: authenticationFailedMessage(mechanism),
      authBytes: Buffer.alloc(0),
      close: `SASL ${mechanism} authentication failed: ${reason}`,
      ...(user === undefined ? {} : { failedUser: user }),
    };
  }

  /** Stable per user and broker, so asking twice does not reveal that the user is unknown. */
  private decoy(mechanism: ScramMechanism, user: string): ScramCredential {
    const hash = hashOf(mechanism);
    const salt = createHmac('sha256', this.options.decoySecret).update(`salt:${user}`).digest();
    const salted = createHmac(hash, this.options.decoySecret).update(`key:${user}`).digest();
    return credentialFromSaltedPassword(hash, salt, salted, 4096);
  }
}

/** Decodes the metadata image's base64 credential form. */
export function credentialFromImage(c: { salt: string; storedKey: string; serverKey: string; iterations: number }): ScramCredential {
  return {
    salt: Buffer.from(c.salt, 'base64'),
    storedKey: Buffer.from(c.storedKey, 'base64'),
    serverKey: Buffer.from(c.serverKey, 'base64'),
    iterations: c.iterations,
  };
}
