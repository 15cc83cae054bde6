/**
 * Finds the properties file a command was given (--command-config, --producer.config,
 * --consumer.config, as Kafka's tools name it) and reads the client security settings from it
 * (clientSecurity.ts). The command itself still parses the flag for its other keys.
 */
import { type ClientSecurity, clientSecurityFromProperties } from './clientSecurity.js';
import { readPropertiesFile } from './options.js';

const FLAGS = ['--command-config', '--producer.config', '--consumer.config'];

export function securityFromArgs(args: readonly string[]): ClientSecurity | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const flag = FLAGS.find((f) => arg === f || arg.startsWith(`${f}=`));
    if (flag === undefined) continue;
    const path = arg === flag ? args[i + 1] : arg.slice(flag.length + 1);
    if (path === undefined) return undefined;
    const security = clientSecurityFromProperties(readPropertiesFile(path, flag), `${flag} ${path}`);
    return security.ssl === undefined && security.sasl === undefined ? undefined : security;
  }
  return undefined;
}
