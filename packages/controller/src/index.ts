// The public surface of @samsa/controller.
export * from './metadata/index.js';

export {
  startControllerNode,
  DEFAULT_BROKER_SESSION_TIMEOUT_MS,
  DEFAULT_SNAPSHOT_EVERY_ENTRIES,
  DEFAULT_TICK_MS,
} from './node/controllerNode.js';
export type { CloseOptions, ControllerNode, ControllerNodeConfig, ControllerVoter } from './node/controllerNode.js';
export type { ControllerLogger } from './node/logger.js';
export type { ControllerMetrics } from './node/metrics.js';
