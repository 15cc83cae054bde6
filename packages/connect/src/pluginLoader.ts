/**
 * `plugin.path` (Kafka's worker config): comma-separated directories holding connector plugins as
 * npm packages. A directory with a package.json is one plugin; otherwise each of its
 * subdirectories with a package.json is. A plugin's entry module (exports "." or main) is imported
 * and every exported class that behaves as a connector (has a `type` of source or sink and the
 * connector methods) is registered as `<package name>/<export name>`, with the export name as alias.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyConnector } from './api.js';
import { ConnectError } from './api.js';
import type { PluginRegistry } from './plugins.js';

function entryOf(dir: string): { name: string; entry: string } {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; main?: string; exports?: unknown };
  let main: string | undefined;
  const exp = pkg.exports;
  if (typeof exp === 'string') main = exp;
  else if (exp && typeof exp === 'object') {
    const dot = (exp as Record<string, unknown>)['.'] ?? exp;
    main =
      typeof dot === 'string'
        ? dot
        : (((dot as Record<string, unknown>).import ?? (dot as Record<string, unknown>).default) as string | undefined);
  }
  return { name: pkg.name ?? dir, entry: join(dir, main ?? pkg.main ?? 'index.js') };
}

function isConnectorClass(value: unknown): value is new () => AnyConnector {
  if (typeof value !== 'function' || !value.prototype) return false;
  const proto = value.prototype as Record<string, unknown>;
  if (!['version', 'config', 'start', 'taskConfigs', 'taskClass', 'stop'].every((m) => typeof proto[m] === 'function')) return false;
  try {
    const type = new (value as new () => { type?: unknown })().type;
    return type === 'source' || type === 'sink';
  } catch {
    return false;
  }
}

/** Registers every connector found; returns their class names. Throws ConnectError naming a plugin that fails to load. */
export async function loadPluginPath(registry: PluginRegistry, pluginPath: string): Promise<string[]> {
  const found: string[] = [];
  for (const root of pluginPath
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!existsSync(root)) throw new ConnectError(`plugin.path entry ${root} does not exist`);
    const dirs = existsSync(join(root, 'package.json'))
      ? [root]
      : readdirSync(root, { withFileTypes: true })
          .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'package.json')))
          .map((d) => join(root, d.name));
    for (const dir of dirs) {
      const { name, entry } = entryOf(dir);
      let mod: Record<string, unknown>;
      try {
        mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
      } catch (err) {
        throw new ConnectError(`plugin ${name} (${entry}) failed to load: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
      for (const [exportName, value] of Object.entries(mod)) {
        if (!isConnectorClass(value)) continue;
        const className = `${name}/${exportName}`;
        registry.register(className, value, [exportName]);
        found.push(className);
      }
    }
  }
  return found;
}
