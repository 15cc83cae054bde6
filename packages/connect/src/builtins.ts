/** The connectors that ship with Samsa Connect, under Kafka's class names where Kafka has them. */
import { DatagenConnector } from './connectors/datagen.js';
import { FileStreamSinkConnector, FileStreamSourceConnector } from './connectors/fileStream.js';
import { HttpSinkConnector } from './connectors/httpSink.js';
import { PostgresCdcConnector } from './connectors/pgCdc.js';
import { PostgresSinkConnector } from './connectors/jdbcSink.js';
import { PostgresSourceConnector } from './connectors/jdbcSource.js';
import { RedisStreamsSinkConnector, RedisStreamsSourceConnector } from './connectors/redisStreams.js';
import { PluginRegistry } from './plugins.js';

export function builtinPlugins(): PluginRegistry {
  return new PluginRegistry()
    .register('org.apache.kafka.connect.file.FileStreamSourceConnector', FileStreamSourceConnector)
    .register('org.apache.kafka.connect.file.FileStreamSinkConnector', FileStreamSinkConnector)
    .register('io.samsa.connect.datagen.DatagenConnector', DatagenConnector)
    .register('io.samsa.connect.http.HttpSinkConnector', HttpSinkConnector)
    .register('io.samsa.connect.postgres.PostgresSourceConnector', PostgresSourceConnector)
    .register('io.samsa.connect.postgres.PostgresSinkConnector', PostgresSinkConnector)
    .register('io.samsa.connect.postgres.PostgresCdcConnector', PostgresCdcConnector)
    .register('io.samsa.connect.redis.RedisStreamsSourceConnector', RedisStreamsSourceConnector)
    .register('io.samsa.connect.redis.RedisStreamsSinkConnector', RedisStreamsSinkConnector);
}
