// The public surface of @samsa/console.
export { startConsoleServer, WEB_DIST } from './server.js';
export type { ConsoleServer, ConsoleServerOptions } from './server.js';
export { ConsoleApi } from './api.js';
export type { ConsoleApiOptions, MetadataSource, QuorumView, RecordView } from './api.js';
export { ConsoleError, toErrorBody } from './errors.js';
export type { ErrorBody } from './errors.js';
export * from './model.js';
export { histogramQuantile, metricsBetween, parsePrometheusText } from './promText.js';
export type { MetricsPoint, Sample, Scrape } from './promText.js';
export { EcosystemApi } from './ecosystem.js';
export type { ConnectorView, EcosystemOptions, SchemaVersionView } from './ecosystem.js';
export { lineDiff, schemaText } from './diff.js';
export type { DiffLine } from './diff.js';
