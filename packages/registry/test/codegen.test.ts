/**
 * Avro → TypeScript: the generated declarations compile, accept a value of the schema's shape and
 * reject one that breaks it (checked by the TypeScript compiler itself).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { avroToTypeScript } from '../src/avro/codegen.js';

const schema = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  doc: 'An order.',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
    {
      name: 'lines',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Line',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'qty', type: 'int' },
          ],
        },
      },
    },
    { name: 'tags', type: { type: 'map', values: 'string' } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 4 } },
    { name: 'next', type: ['null', 'Order'], default: null },
    { name: 'first line', type: ['null', 'shop.Line'], default: null },
  ],
};

function diagnostics(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'codegen-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const program = ts.createProgram(
      Object.keys(files).map((f) => join(dir, f)),
      { strict: true, noEmit: true, types: [], skipLibCheck: true, lib: ['lib.es2022.d.ts'] },
    );
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('avroToTypeScript', () => {
  const generated = avroToTypeScript(schema, 'OrderValue');

  it('declares an interface per record, a union per enum, and the root alias', () => {
    expect(generated).toContain('export interface Order {');
    expect(generated).toContain('export interface Line {');
    expect(generated).toContain('export type Status = "NEW" | "PAID";');
    expect(generated).toContain('export type OrderValue = Order;');
    expect(generated).toContain('  next: null | Order;');
    expect(generated).toContain('  "first line": null | Line;');
  });

  it("compiles, accepts a value of the schema's shape and rejects a wrong one", () => {
    // A stand-in for Node's Buffer keeps the compile small (no @types/node).
    const buffer = 'declare class Buffer { static alloc(n: number): Buffer; private brand: true }\n';
    const ok = `import type { OrderValue } from './gen.js';
const o: OrderValue = { id: 1, status: 'PAID', lines: [{ sku: 'a', qty: 2 }], tags: { k: 'v' }, note: null, hash: Buffer.alloc(4), next: null, 'first line': null };
export { o };\n`;
    expect(diagnostics({ 'buffer.d.ts': buffer, 'gen.ts': generated, 'use.ts': ok })).toEqual([]);
    const wrong = ok.replace("status: 'PAID'", "status: 'LOST'");
    const errors = diagnostics({ 'buffer.d.ts': buffer, 'gen.ts': generated, 'use.ts': wrong });
    expect(errors.join('\n')).toMatch(/LOST/);
  });
});
