// The public surface of @samsa/connect.
export {
  ConnectError,
  RetriableError,
  SinkConnector,
  SinkTask,
  SourceConnector,
  SourceTask,
  tpKey,
} from './api.js';
export type {
  AnyConnector,
  ConnectRecord,
  ConnectorContext,
  ConnectorType,
  Headers,
  OffsetStorageReader,
  Schema,
  SchemaType,
  SinkRecord,
  SinkTaskContext,
  SourceOffset,
  SourcePartition,
  SourceRecord,
  SourceTaskContext,
  SupportAnswer,
  TopicPartition,
  TransactionContext,
} from './api.js';
export {
  connectorExactlyOnce,
  decideBoundary,
  exactlyOnceErrors,
  fencingDone,
  fencingPlan,
  taskTransactionalId,
  workerExactlyOnce,
} from './exactlyOnce.js';
export { ConfigDef, ConfigException, ParsedConfig, validators } from './configDef.js';
export type { ConfigInfo, ConfigInfos, ConfigKey, ConfigType, ConfigValue, Importance, Validator } from './configDef.js';
export { ByteArrayConverter, JsonConverter, StringConverter, createConverter } from './converters.js';
export type { Converter, SchemaAndValue } from './converters.js';
export {
  castValue,
  createPredicate,
  createTransform,
  flattenValue,
  formatTimestamp,
  parseTimestamp,
  transformationChain,
} from './transforms.js';
export type { Predicate, Transform } from './transforms.js';
export { FileOffsetStore, MemoryOffsetStore, canonicalJson, offsetKey } from './offsetStore.js';
export type { OffsetBackingStore } from './offsetStore.js';
export { ConnectMetrics } from './metrics.js';
export { PluginRegistry, commonConfigDef, validateConnectorConfig } from './plugins.js';
export type { PluginDesc } from './plugins.js';
export { ConnectRestError, StandaloneHerder } from './herder.js';
export type { ConnectorInfo, ConnectorOffsetsJson, ConnectorStatusJson, HerderDeps, TargetState, TaskStatusJson } from './herder.js';
export { ConnectRestServer, CONNECT_VERSION } from './rest.js';
export { startStandaloneWorker } from './standalone.js';
export type { StandaloneWorker } from './standalone.js';
export { builtinPlugins } from './builtins.js';
export { parseProperties } from './properties.js';
export { FileStreamSinkConnector, FileStreamSinkTask, FileStreamSourceConnector, FileStreamSourceTask } from './connectors/fileStream.js';
export { TaskSettings, WorkerSinkTask, WorkerSourceTask } from './worker.js';
export type { TaskState } from './worker.js';
export { DatagenConnector, DatagenTask, TEMPLATES } from './connectors/datagen.js';
export { HttpSinkConnector, HttpSinkTask } from './connectors/httpSink.js';
export { PostgresSourceConnector, PostgresSourceTask } from './connectors/jdbcSource.js';
export { PostgresSinkConnector, PostgresSinkTask } from './connectors/jdbcSink.js';
export { pgConfig, quoteIdent } from './connectors/postgres.js';
export { PostgresCdcConnector, PostgresCdcTask } from './connectors/pgCdc.js';
export { PgOutputError, decodePgOutput, formatLsn, parseLsn } from './connectors/pgoutput.js';
export type { PgOutputMessage } from './connectors/pgoutput.js';
export {
  RedisStreamsSinkConnector,
  RedisStreamsSinkTask,
  RedisStreamsSourceConnector,
  RedisStreamsSourceTask,
} from './connectors/redisStreams.js';
export { RedisConnection, RedisReplyError, RespError, decodeReply, encodeCommand } from './connectors/resp.js';
export type { RespValue } from './connectors/resp.js';
export { loadPluginPath } from './pluginLoader.js';
export { DistributedHerder, startDistributedWorker } from './distributed.js';
export type { DistributedWorker } from './distributed.js';
export { KafkaBasedLog } from './kafkaBasedLog.js';
export { KafkaOffsetStore } from './kafkaOffsetStore.js';
export { ForwardRequest, checkConnectorConfig } from './herder.js';
export type { Herder } from './herder.js';
