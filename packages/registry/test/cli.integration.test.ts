/**
 * `samsa schemas` and `samsa schema-registry codegen` (the built CLI, as a child process) against a
 * registry served in this process over an in-memory log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliAsync } from '../../cli/test/helpers/processes.js';
import { RegistryHttpServer } from '../src/http.js';
import { MemoryLog } from '../src/log.js';
import { SchemaRegistry } from '../src/service.js';
import { RegistryState } from '../src/state.js';

let server: RegistryHttpServer;
let url = '';

beforeAll(async () => {
  const state = new RegistryState();
  server = new RegistryHttpServer(new SchemaRegistry(state, new MemoryLog(state)));
  url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});
afterAll(async () => {
  await server.close();
});

const v1 = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
  ],
});
const bad = JSON.stringify({ type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'string' }] });

describe('samsa schemas', () => {
  it('registers, lists, describes, checks, configures, deletes, and generates types', async () => {
    const cli = (...args: string[]) => runCliAsync(['schemas', '--schema-registry-url', url, ...args]);
    const reg = await cli('--register', '--subject', 'orders-value', '--schema', v1);
    expect(reg.stderr).toBe('');
    expect(reg.stdout).toContain('Registered schema id 1 under subject orders-value.');
    expect(JSON.parse((await cli('--list')).stdout)).toEqual(['orders-value']);
    expect(JSON.parse((await cli('--describe', '--subject', 'orders-value')).stdout)).toMatchObject({
      subject: 'orders-value',
      version: 1,
      id: 1,
    });
    const incompatible = await cli('--compatibility', '--subject', 'orders-value', '--schema', bad);
    expect(incompatible.status).toBe(1);
    expect(incompatible.stdout).toContain('Incompatible');
    expect((await cli('--compatibility', '--subject', 'orders-value', '--schema', v1)).stdout).toContain('Compatible.');
    expect(JSON.parse((await cli('--config', '--subject', 'orders-value', '--level', 'full')).stdout)).toEqual({ compatibility: 'FULL' });
    expect(JSON.parse((await cli('--config', '--subject', 'orders-value')).stdout)).toEqual({ compatibilityLevel: 'FULL' });
    const invalid = await cli('--register', '--subject', 'x', '--schema', '{"type":"nope"}');
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain('error_code 42201');
    const usage = await cli('--list', '--describe');
    expect(usage.status).toBe(2);

    const gen = await runCliAsync(['schema-registry', 'codegen', '--subject', 'orders-value', '--schema-registry-url', url]);
    expect(gen.stderr).toBe('');
    expect(gen.stdout).toContain('export interface Order {');
    expect(gen.stdout).toContain('export type Status = "NEW" | "PAID";');

    expect((await cli('--delete', '--subject', 'orders-value')).stdout).toContain('[1]');
    expect((await cli('--delete', '--subject', 'orders-value', '--permanent')).stdout).toContain('permanently');
    expect(JSON.parse((await cli('--list', '--deleted')).stdout)).toEqual([]);
  }, 120_000);
});
