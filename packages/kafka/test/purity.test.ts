/**
 * @samsa/kafka stays pure (DESIGN.md's package map): no sockets, no timers or clocks, and of the
 * other @samsa packages only @samsa/protocol's varint module (the one big-endian Reader, itself pure).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The one module of another package the codec may import, and why: it shares the primitive reads. */
const SHARED = '@samsa/protocol/varint';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('package purity', () => {
  it('src imports only its own modules (no node:net, no other @samsa package) and reads no clock or RNG', () => {
    const files = sources(join(root, 'src'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports)
        expect(spec.startsWith('./') || spec.startsWith('../') || spec === SHARED, `${file} imports ${spec}`).toBe(true);
      expect(text, file).not.toMatch(/\b(setTimeout|setInterval|Date\.now|Math\.random)\b/);
    }
  });

  it('package.json depends on @samsa/protocol only', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('@samsa/kafka');
    expect(pkg.dependencies ?? {}).toEqual({ '@samsa/protocol': 'workspace:*' });
  });
});
