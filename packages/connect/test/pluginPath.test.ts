import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnectError, builtinPlugins, loadPluginPath, validateConnectorConfig } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'samsa-plugins-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An npm-package plugin that imports the built @samsa/connect, as a third party's would. */
function writePlugin(dir: string, source: string): void {
  mkdirSync(join(dir, 'node_modules', '@samsa'), { recursive: true });
  symlinkSync(fileURLToPath(new URL('..', import.meta.url)), join(dir, 'node_modules', '@samsa', 'connect'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'acme-connectors', type: 'module', exports: { '.': './index.js' } }));
  writeFileSync(join(dir, 'index.js'), source);
}

describe('plugin.path', () => {
  it('registers the connector classes a plugin package exports, and validates their configs', async () => {
    writePlugin(
      join(root, 'path1', 'acme'),
      `
      import { ConfigDef, SourceConnector, SourceTask } from '@samsa/connect';
      export class CounterTask extends SourceTask { start() {} async poll() { return []; } stop() {} }
      export class CounterSource extends SourceConnector {
        version() { return '2.0.0'; }
        config() { return new ConfigDef().define({ name: 'counter.topic', type: 'STRING', importance: 'HIGH', documentation: 'where' }); }
        start() {} taskConfigs(n) { return Array.from({ length: n }, () => ({})); } taskClass() { return CounterTask; } stop() {}
      }
      export const notAConnector = 42;
    `,
    );
    const registry = builtinPlugins();
    expect(await loadPluginPath(registry, join(root, 'path1'))).toEqual(['acme-connectors/CounterSource']);
    expect(registry.find('CounterSource')!.className).toBe('acme-connectors/CounterSource');
    expect(registry.list()).toContainEqual({ class: 'acme-connectors/CounterSource', type: 'source', version: '2.0.0' });
    const r = validateConnectorConfig(registry, { name: 'c', 'connector.class': 'CounterSource' });
    expect(r.errors).toEqual(['Missing required configuration "counter.topic" which has no default value.']);
    expect(validateConnectorConfig(registry, { name: 'c', 'connector.class': 'CounterSource', 'counter.topic': 't' }).errors).toEqual([]);
  });

  it('names a plugin that fails to load and a path that does not exist', async () => {
    const bad = join(root, 'path2', 'broken');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'package.json'), JSON.stringify({ name: 'broken-plugin', type: 'module', main: 'index.js' }));
    writeFileSync(join(bad, 'index.js'), 'export const x = ;');
    await expect(loadPluginPath(builtinPlugins(), join(root, 'path2'))).rejects.toThrow(/plugin broken-plugin .* failed to load/);
    await expect(loadPluginPath(builtinPlugins(), join(root, 'nope'))).rejects.toThrow(ConnectError);
  });
});
