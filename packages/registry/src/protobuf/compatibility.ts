/**
 * Protobuf compatibility by the rules Confluent documents for its registry (its `Difference.Type`
 * names; the check diffs the writer's file against the reader's, field by field number):
 *
 * - compatible: FIELD_ADDED, FIELD_REMOVED, FIELD_NAME_CHANGED, MESSAGE_ADDED, ENUM_ADDED,
 *   ENUM_CONST_ADDED, ENUM_CONST_REMOVED, ONEOF_ADDED, a single field moved into a new oneof, and a
 *   scalar type changed within one wire-compatible group of the protobuf language guide
 *   (int32/uint32/int64/uint64/bool; sint32/sint64; fixed32/sfixed32; fixed64/sfixed64;
 *   string/bytes);
 * - incompatible: PACKAGE_CHANGED, MESSAGE_REMOVED, ENUM_REMOVED, ENUM_CONST_CHANGED,
 *   FIELD_KIND_CHANGED (scalar/message/enum/map or the repeated label), FIELD_SCALAR_KIND_CHANGED
 *   (across groups), FIELD_NAMED_TYPE_CHANGED, REQUIRED_FIELD_ADDED, REQUIRED_FIELD_REMOVED,
 *   ONEOF_REMOVED, ONEOF_FIELD_ADDED, ONEOF_FIELD_REMOVED, MULTIPLE_FIELDS_MOVED_TO_ONEOF,
 *   FIELD_MOVED_TO_EXISTING_ONEOF.
 */
import type { ProtoField, ProtoSchema } from './schema.js';

const GROUPS = [
  ['int32', 'uint32', 'int64', 'uint64', 'bool'],
  ['sint32', 'sint64'],
  ['fixed32', 'sfixed32'],
  ['fixed64', 'sfixed64'],
  ['string', 'bytes'],
];

function sameGroup(a: string, b: string): boolean {
  return a === b || GROUPS.some((g) => g.includes(a) && g.includes(b));
}

/** Why `reader` cannot read what `writer` wrote: Confluent's difference names with locations. */
export function checkProtobuf(reader: ProtoSchema, writer: ProtoSchema): string[] {
  const out: string[] = [];
  const fail = (type: string, where: string): void => {
    out.push(`{type:'${type}', location:'${where}'}`);
  };
  if (reader.package !== writer.package) fail('PACKAGE_CHANGED', '#/package');

  for (const [name, w] of writer.enums) {
    const r = reader.enums.get(name);
    if (!r) {
      fail('ENUM_REMOVED', `#/${name}`);
      continue;
    }
    const rByNumber = new Map([...r.values].map(([k, v]) => [v, k]));
    for (const [constName, number] of w.values) {
      const now = rByNumber.get(number);
      if (now !== undefined && now !== constName) fail('ENUM_CONST_CHANGED', `#/${name}/${number}`);
    }
  }

  for (const [name, w] of writer.messages) {
    const r = reader.messages.get(name);
    if (!r) {
      fail('MESSAGE_REMOVED', `#/${name}`);
      continue;
    }
    for (const [oneof] of w.oneofs) if (!r.oneofs.has(oneof)) fail('ONEOF_REMOVED', `#/${name}/oneof/${oneof}`);
    const movedInto = new Map<string, number>();
    for (const [number, wf] of w.fields) {
      const at = `#/${name}/${number}`;
      const rf = r.fields.get(number);
      if (!rf) {
        if (wf.label === 'required') fail('REQUIRED_FIELD_REMOVED', at);
        else if (wf.oneof) fail('ONEOF_FIELD_REMOVED', at);
        continue; // FIELD_REMOVED
      }
      fieldChange(rf, wf, at, fail);
      if (!wf.oneof && rf.oneof) {
        if (w.oneofs.has(rf.oneof)) fail('FIELD_MOVED_TO_EXISTING_ONEOF', at);
        movedInto.set(rf.oneof, (movedInto.get(rf.oneof) ?? 0) + 1);
      } else if (wf.oneof && !rf.oneof) {
        fail('ONEOF_FIELD_REMOVED', at);
      }
    }
    for (const [oneof, count] of movedInto) if (count > 1) fail('MULTIPLE_FIELDS_MOVED_TO_ONEOF', `#/${name}/oneof/${oneof}`);
    for (const [number, rf] of r.fields) {
      if (w.fields.has(number)) continue;
      const at = `#/${name}/${number}`;
      if (rf.label === 'required') fail('REQUIRED_FIELD_ADDED', at);
      else if (rf.oneof && w.oneofs.has(rf.oneof)) fail('ONEOF_FIELD_ADDED', at);
    }
  }
  return out;
}

function fieldChange(r: ProtoField, w: ProtoField, at: string, fail: (type: string, where: string) => void): void {
  if (r.kind !== w.kind || (r.label === 'repeated') !== (w.label === 'repeated')) return fail('FIELD_KIND_CHANGED', at);
  if ((r.label === 'required') !== (w.label === 'required'))
    return fail(r.label === 'required' ? 'REQUIRED_FIELD_ADDED' : 'REQUIRED_FIELD_REMOVED', at);
  if (r.kind === 'map' && r.mapKey !== w.mapKey) return fail('FIELD_KIND_CHANGED', at);
  if (r.kind === 'scalar' || (r.kind === 'map' && !r.type.includes('.') && !w.type.includes('.'))) {
    if (!sameGroup(r.type, w.type)) fail('FIELD_SCALAR_KIND_CHANGED', at);
    return;
  }
  if (r.type !== w.type) fail('FIELD_NAMED_TYPE_CHANGED', at);
}
