/** The connectors that ship with Samsa Connect, under Kafka's class names where Kafka has them. */
import { FileStreamSinkConnector, FileStreamSourceConnector } from './connectors/fileStream.js';
import { PluginRegistry } from './plugins.js';

export function builtinPlugins(): PluginRegistry {
  return new PluginRegistry()
    .register('org.apache.kafka.connect.file.FileStreamSourceConnector', FileStreamSourceConnector)
    .register('org.apache.kafka.connect.file.FileStreamSinkConnector', FileStreamSinkConnector);
}
