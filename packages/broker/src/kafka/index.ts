/**
 * The Kafka wire protocol's API layer assembled: every handler over the broker's services. The
 * listener (listener.ts) and connection (connection.ts) know nothing of APIs; the handlers know
 * nothing of sockets or bytes (the codecs in @samsa/kafka do that).
 */
import type { Logger } from 'pino';
import type { GroupCoordinator } from '../group/coordinator.js';
import type { MetadataSource } from '../metadata/image.js';
import type { ReplicaManager } from '../replicaManager.js';
import type { RequestAuthorizer } from '../security/authorizerService.js';
import { aclApis } from './aclApis.js';
import { scramApis } from './scramApis.js';
import type { TransactionStateManager } from '../txn/transactionStateManager.js';
import { adminApis } from './adminApis.js';
import { dataApis } from './dataApis.js';
import { groupApis } from './groupApis.js';
import { KafkaApis, type KafkaRequestObserver } from './kafkaApis.js';
import { metadataApis } from './metadataApis.js';
import { txnApis } from './txnApis.js';
import { saslApis } from '../security/saslApis.js';

export interface KafkaApisDeps {
  brokerId: number;
  metadata: MetadataSource;
  replicaManager: ReplicaManager;
  groupCoordinator: GroupCoordinator;
  /** The transaction coordinator (txn/README.md); without it transactional ids are refused. */
  transactionCoordinator?: TransactionStateManager;
  logger: Logger;
  maxFetchWaitMs: number;
  autoCreateTopicsEnable: boolean;
  dataDir: string;
  listenerNameOf: (connectionListener: string) => string | undefined;
  isServing: () => boolean;
  startingReason: () => string;
  observer?: KafkaRequestObserver;
  /** Every handler checks its API's ACLs through this (see security/README.md). */
  authorizer: RequestAuthorizer;
}

export function kafkaApis(deps: KafkaApisDeps): KafkaApis {
  let apis: KafkaApis | undefined;
  const handlers = [
    ...metadataApis({
      brokerId: deps.brokerId,
      metadata: deps.metadata,
      logger: deps.logger,
      autoCreateTopicsEnable: deps.autoCreateTopicsEnable,
      listenerNameOf: deps.listenerNameOf,
      advertised: () => apis?.advertised ?? [],
      authorizer: deps.authorizer,
    }),
    ...dataApis({
      metadata: deps.metadata,
      replicaManager: deps.replicaManager,
      logger: deps.logger,
      maxFetchWaitMs: deps.maxFetchWaitMs,
      authorizer: deps.authorizer,
      ...(deps.transactionCoordinator ? { transactions: deps.transactionCoordinator } : {}),
    }),
    ...groupApis({
      coordinator: deps.groupCoordinator,
      listenerNameOf: deps.listenerNameOf,
      authorizer: deps.authorizer,
      ...(deps.transactionCoordinator ? { transactions: deps.transactionCoordinator } : {}),
    }),
    ...(deps.transactionCoordinator
      ? txnApis({ transactions: deps.transactionCoordinator, groups: deps.groupCoordinator, authorizer: deps.authorizer })
      : []),
    ...adminApis({
      metadata: deps.metadata,
      replicaManager: deps.replicaManager,
      logger: deps.logger,
      dataDir: deps.dataDir,
      authorizer: deps.authorizer,
    }),
    ...aclApis({ metadata: deps.metadata, authorizer: deps.authorizer }),
    ...scramApis({ metadata: deps.metadata, authorizer: deps.authorizer }),
    ...saslApis({ logger: deps.logger }),
  ];
  apis = new KafkaApis({
    handlers,
    logger: deps.logger,
    isServing: deps.isServing,
    startingReason: deps.startingReason,
    ...(deps.observer === undefined ? {} : { observer: deps.observer }),
  });
  return apis;
}
