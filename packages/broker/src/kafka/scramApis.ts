/**
 * The SCRAM credential APIs over the Kafka wire protocol (KIP-554; Kafka's
 * KafkaApis.handleDescribeUserScramCredentialsRequest / handleAlterUserScramCredentialsRequest):
 * thin adapters over the same paths the gRPC RPCs use. Describe is answered from this broker's
 * metadata image (mechanism and iterations only, never salt or keys); Alter is forwarded to the
 * active controller, which validates and writes the UserScramCredential records
 * (security/README.md, "Credentials in the metadata log"). The client sends SaltedPassword, never
 * a password.
 *
 * Authorization (Kafka's): Describe needs DESCRIBE on the cluster, Alter ALTER on the cluster;
 * otherwise each user answers CLUSTER_AUTHORIZATION_FAILED.
 */
import { ApiKey } from '@samsa/kafka';
import { AclOperation } from '@samsa/metadata';
import { ErrorCode } from '@samsa/protocol';
import type { MetadataSource } from '../metadata/image.js';
import type { RequestAuthorizer } from '../security/authorizerService.js';
import { describeScramUsers } from '../security/scram.js';
import type { KafkaApiHandler } from './kafkaApis.js';

export interface ScramApisDeps {
  metadata: MetadataSource;
  authorizer: RequestAuthorizer;
}

/** Kafka's ScramMechanism enum on the wire. */
const MECHANISM_BY_CODE: ReadonlyMap<number, string> = new Map([
  [1, 'SCRAM-SHA-256'],
  [2, 'SCRAM-SHA-512'],
]);
const CODE_BY_MECHANISM: ReadonlyMap<string, number> = new Map([...MECHANISM_BY_CODE].map(([code, name]) => [name, code]));

const CLUSTER_DENIED = 'Cluster authorization failed: this SCRAM credential operation needs it on the cluster';

interface DescribeRequest {
  users: Array<{ name: string }> | null;
}
interface AlterRequest {
  deletions: Array<{ name: string; mechanism: number }>;
  upsertions: Array<{ name: string; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer }>;
}

export function scramApis(deps: ScramApisDeps): KafkaApiHandler[] {
  const { metadata, authorizer } = deps;

  const describe: KafkaApiHandler = {
    apiKey: ApiKey.DescribeUserScramCredentials,
    minVersion: 0,
    maxVersion: 0,
    handle(req: DescribeRequest, ctx) {
      if (!authorizer.cluster(ctx.identity, AclOperation.DESCRIBE)) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: CLUSTER_DENIED,
          results: [],
        };
      }
      const asked = req.users === null ? undefined : req.users.map((u) => u.name);
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        results: describeScramUsers(metadata.scramUsers?.() ?? [], asked).map((d) => ({
          user: d.user,
          errorCode: d.errorCode,
          errorMessage: d.errorMessage,
          credentialInfos: d.credentials.flatMap((c) => {
            const code = CODE_BY_MECHANISM.get(c.mechanism);
            return code === undefined ? [] : [{ mechanism: code, iterations: c.iterations }];
          }),
        })),
      };
    },
  };

  const alter: KafkaApiHandler = {
    apiKey: ApiKey.AlterUserScramCredentials,
    minVersion: 0,
    maxVersion: 0,
    async handle(req: AlterRequest, ctx) {
      const users = [...new Set([...req.deletions, ...req.upsertions].map((x) => x.name))];
      const refuse = (user: string, errorCode: number, errorMessage: string) => ({ user, errorCode, errorMessage });
      if (!authorizer.cluster(ctx.identity, AclOperation.ALTER))
        return { throttleTimeMs: 0, results: users.map((u) => refuse(u, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_DENIED)) };
      // An unknown mechanism code fails its user (Kafka: UNSUPPORTED_SASL_MECHANISM) and nothing of that user is applied.
      const badUsers = new Set([...req.deletions, ...req.upsertions].filter((x) => !MECHANISM_BY_CODE.has(x.mechanism)).map((x) => x.name));
      const refused = [...badUsers].map((u) => refuse(u, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'unknown SCRAM mechanism'));
      const deletions = req.deletions
        .filter((d) => !badUsers.has(d.name))
        .map((d) => ({ name: d.name, mechanism: MECHANISM_BY_CODE.get(d.mechanism)! }));
      const upsertions = req.upsertions
        .filter((u) => !badUsers.has(u.name))
        .map((u) => ({
          name: u.name,
          mechanism: MECHANISM_BY_CODE.get(u.mechanism)!,
          iterations: u.iterations,
          salt: Buffer.from(u.salt),
          saltedPassword: Buffer.from(u.saltedPassword),
        }));
      if (deletions.length + upsertions.length === 0) return { throttleTimeMs: 0, results: refused };
      if (!metadata.alterUserScramCredentials) {
        const rest = users.filter((u) => !badUsers.has(u));
        return {
          throttleTimeMs: 0,
          results: [
            ...refused,
            ...rest.map((u) => refuse(u, ErrorCode.INVALID_REQUEST, 'this broker has no controller quorum to store credentials in')),
          ],
        };
      }
      const results = await metadata.alterUserScramCredentials({ deletions, upsertions });
      return {
        throttleTimeMs: 0,
        results: [
          ...refused,
          ...results.map((r) => ({ user: r.user, errorCode: r.errorCode, errorMessage: r.errorCode === 0 ? null : r.errorMessage })),
        ],
      };
    },
  };

  return [describe, alter];
}
