// The public surface of @samsa/server: what every server process (broker, controller) shares and
// clients never need: the server half of pipelined streams, RPC instrumentation, time, the data-dir lock.
export * from './pipeline.js';
export * from './rpcMetrics.js';
export * from './timers.js';
export * from './dataDirLock.js';
export * from './security/principal.js';
