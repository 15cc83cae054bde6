/**
 * The registry state machine: records in log order → state. The writer election and fencing are
 * rules over the log, so they are tested here as sequences of records.
 */
import { describe, expect, it } from 'vitest';
import { WRITER_KEY, configKey, schemaKey, type RegistryRecord } from '../src/records.js';
import { RegistryState } from '../src/state.js';

const claim = (epoch: number, instanceId: string): RegistryRecord => ({
  key: WRITER_KEY,
  value: { epoch, instanceId, url: `http://${instanceId}`, leaseMs: 3000 },
});
const version = (subject: string, v: number, id: number, epoch?: number, deleted = false): RegistryRecord => ({
  key: schemaKey(subject, v),
  value: { subject, version: v, id, schema: '"int"', deleted, ...(epoch === undefined ? {} : { epoch }) },
});

describe('RegistryState', () => {
  it('the first claim of the next epoch in log order wins; a later claim for the same epoch is ignored', () => {
    const s = new RegistryState();
    expect(s.apply(claim(1, 'a'), 10)).toBe(true);
    expect(s.apply(claim(1, 'b'), 11)).toBe(false);
    expect(s.writer).toMatchObject({ epoch: 1, instanceId: 'a', lastSeenAt: 10 });
    expect(s.apply(claim(1, 'a'), 20)).toBe(true); // heartbeat
    expect(s.writer?.lastSeenAt).toBe(20);
    expect(s.apply(claim(3, 'b'), 21)).toBe(false); // skips an epoch
    expect(s.apply(claim(2, 'b'), 22)).toBe(true);
    expect(s.writer).toMatchObject({ epoch: 2, instanceId: 'b' });
  });

  it("fences records of any epoch but the current writer's; records without an epoch apply as they are", () => {
    const s = new RegistryState();
    s.apply(claim(1, 'a'), 0);
    expect(s.apply(version('x', 1, 1, 1), 0)).toBe(true);
    s.apply(claim(2, 'b'), 0);
    // a's late write, after b took over: applied by nobody.
    expect(s.apply(version('x', 2, 2, 1), 0)).toBe(false);
    expect(s.fenced).toBe(1);
    expect(s.liveVersions('x').map((v) => v.version)).toEqual([1]);
    expect(s.apply(version('y', 1, 2, 2), 0)).toBe(true);
    expect(s.apply(version('z', 1, 3), 0)).toBe(true);
    expect(s.maxId).toBe(3);
  });

  it('soft delete keeps the version, a tombstone removes it, and the id stays counted', () => {
    const s = new RegistryState();
    s.apply(version('x', 1, 5), 0);
    s.apply(version('x', 1, 5, undefined, true), 0);
    expect(s.liveVersions('x')).toEqual([]);
    expect(s.allVersions('x').map((v) => v.deleted)).toEqual([true]);
    s.apply({ key: schemaKey('x', 1), value: null }, 0);
    expect(s.subjects.has('x')).toBe(false);
    expect(s.schemasById.has(5)).toBe(false);
    expect(s.maxId).toBe(5);
  });

  it('config and mode records set and clear (null is a tombstone)', () => {
    const s = new RegistryState();
    s.apply({ key: configKey(null), value: { compatibilityLevel: 'FULL' } }, 0);
    s.apply({ key: configKey('x'), value: { compatibilityLevel: 'NONE' } }, 0);
    expect(s.configs.get(null)).toBe('FULL');
    s.apply({ key: configKey('x'), value: null }, 0);
    expect(s.configs.has('x')).toBe(false);
  });

  it("a hard delete is a fenced hardDeleted record; a deposed writer's bare tombstone of a version we wrote is ignored", () => {
    const s = new RegistryState();
    s.apply(claim(1, 'a'), 0);
    s.apply(version('x', 1, 1, 1, true), 0);
    s.apply(claim(2, 'b'), 0);
    // a, deposed, hard-deletes late: its hardDeleted record is fenced, its tombstone ignored.
    expect(
      s.apply(
        { key: schemaKey('x', 1), value: { subject: 'x', version: 1, id: 1, schema: '"int"', deleted: true, hardDeleted: true, epoch: 1 } },
        0,
      ),
    ).toBe(false);
    expect(s.apply({ key: schemaKey('x', 1), value: null }, 0)).toBe(false);
    expect(s.allVersions('x').map((v) => v.version)).toEqual([1]);
    // b's hard delete: the record removes the version, the tombstone after it finds nothing.
    expect(
      s.apply(
        { key: schemaKey('x', 1), value: { subject: 'x', version: 1, id: 1, schema: '"int"', deleted: true, hardDeleted: true, epoch: 2 } },
        0,
      ),
    ).toBe(true);
    expect(s.apply({ key: schemaKey('x', 1), value: null }, 0)).toBe(true);
    expect(s.subjects.has('x')).toBe(false);
  });
});
