/**
 * Protobuf compatibility, one case per rule Confluent documents (its Difference types), and the
 * message indexes of Confluent's wire format.
 */
import { describe, expect, it } from 'vitest';
import { checkProtobuf } from '../src/protobuf/compatibility.js';
import { canonicalProto, parseProto } from '../src/protobuf/schema.js';

const file = (body: string, pkg = 'shop', syntax = 'proto3') => `syntax = "${syntax}";\npackage ${pkg};\n${body}`;
const base = file(
  'message Order { int64 id = 1; string item = 2; oneof pay { string card = 3; string cash = 4; } }\nenum Status { NEW = 0; PAID = 1; }',
);
const check = (reader: string, writer: string) => checkProtobuf(parseProto(reader), parseProto(writer));

// [rule, reader (new), writer (old), compatible?]
const cases: [string, string, string, boolean][] = [
  ['identical', base, base, true],
  ['FIELD_ADDED', base.replace('string item = 2;', 'string item = 2; int32 qty = 5;'), base, true],
  ['FIELD_REMOVED', base.replace('string item = 2;', ''), base, true],
  ['FIELD_NAME_CHANGED', base.replace('string item = 2;', 'string title = 2;'), base, true],
  ['FIELD_SCALAR_KIND_CHANGED (same group: int64 → int32)', base.replace('int64 id = 1;', 'int32 id = 1;'), base, true],
  ['FIELD_SCALAR_KIND_CHANGED (string → bytes)', base.replace('string item = 2;', 'bytes item = 2;'), base, true],
  ['FIELD_SCALAR_KIND_CHANGED (int64 → string)', base.replace('int64 id = 1;', 'string id = 1;'), base, false],
  ['FIELD_SCALAR_KIND_CHANGED (int64 → sint64)', base.replace('int64 id = 1;', 'sint64 id = 1;'), base, false],
  ['FIELD_KIND_CHANGED (repeated)', base.replace('string item = 2;', 'repeated string item = 2;'), base, false],
  [
    'FIELD_KIND_CHANGED (scalar → message)',
    file('message Order { Item item = 2; } message Item { string s = 1; }'),
    file('message Order { string item = 2; } message Item { string s = 1; }'),
    false,
  ],
  [
    'FIELD_NAMED_TYPE_CHANGED',
    file('message Order { B x = 1; } message A { int32 a = 1; } message B { int32 b = 1; }'),
    file('message Order { A x = 1; } message A { int32 a = 1; } message B { int32 b = 1; }'),
    false,
  ],
  ['PACKAGE_CHANGED', file('message Order { int64 id = 1; }', 'other'), file('message Order { int64 id = 1; }'), false],
  ['MESSAGE_ADDED', file('message Order { int64 id = 1; } message Extra { int32 x = 1; }'), file('message Order { int64 id = 1; }'), true],
  [
    'MESSAGE_REMOVED',
    file('message Order { int64 id = 1; }'),
    file('message Order { int64 id = 1; } message Extra { int32 x = 1; }'),
    false,
  ],
  ['ENUM_CONST_ADDED', base.replace('PAID = 1;', 'PAID = 1; SHIPPED = 2;'), base, true],
  ['ENUM_CONST_REMOVED', base.replace(' PAID = 1;', ''), base, true],
  ['ENUM_CONST_CHANGED', base.replace('PAID = 1;', 'SETTLED = 1;'), base, false],
  ['ENUM_REMOVED', base.replace('\nenum Status { NEW = 0; PAID = 1; }', ''), base, false],
  ['ONEOF_FIELD_ADDED', base.replace('string cash = 4;', 'string cash = 4; string voucher = 6;'), base, false],
  ['ONEOF_FIELD_REMOVED', base.replace(' string cash = 4;', ''), base, false],
  ['ONEOF_REMOVED', base.replace('oneof pay { string card = 3; string cash = 4; }', 'string card = 3; string cash = 4;'), base, false],
  ['ONEOF_ADDED with one field moved in', file('message M { oneof o { int32 a = 1; } }'), file('message M { int32 a = 1; }'), true],
  [
    'MULTIPLE_FIELDS_MOVED_TO_ONEOF',
    file('message M { oneof o { int32 a = 1; int32 b = 2; } }'),
    file('message M { int32 a = 1; int32 b = 2; }'),
    false,
  ],
  [
    'FIELD_MOVED_TO_EXISTING_ONEOF',
    file('message M { oneof o { int32 a = 1; int32 b = 2; } }'),
    file('message M { oneof o { int32 a = 1; } int32 b = 2; }'),
    false,
  ],
  [
    'REQUIRED_FIELD_ADDED',
    file('message M { required int32 a = 1; required int32 b = 2; }', 'p', 'proto2'),
    file('message M { required int32 a = 1; }', 'p', 'proto2'),
    false,
  ],
  [
    'REQUIRED_FIELD_REMOVED',
    file('message M { required int32 a = 1; }', 'p', 'proto2'),
    file('message M { required int32 a = 1; required int32 b = 2; }', 'p', 'proto2'),
    false,
  ],
  [
    'optional field added (proto2)',
    file('message M { required int32 a = 1; optional int32 b = 2; }', 'p', 'proto2'),
    file('message M { required int32 a = 1; }', 'p', 'proto2'),
    true,
  ],
  [
    'nested message field changed',
    file('message O { message I { int32 a = 1; } I i = 1; }'),
    file('message O { message I { string a = 1; } I i = 1; }'),
    false,
  ],
  ['map value changed', file('message M { map<string, int32> m = 1; }'), file('message M { map<string, string> m = 1; }'), false],
  ['map key changed', file('message M { map<int32, string> m = 1; }'), file('message M { map<string, string> m = 1; }'), false],
];

describe("Protobuf compatibility (Confluent's rules)", () => {
  for (const [rule, reader, writer, compatible] of cases) {
    it(`${rule}: ${compatible ? 'compatible' : 'incompatible'}`, () => {
      const messages = check(reader, writer);
      expect(messages.length === 0, messages.join('; ')).toBe(compatible);
    });
  }

  it('message indexes follow declaration order, nested messages by path', () => {
    const s = parseProto(file('message A { message B { } message C { message D { } } } enum E { X = 0; } message F { }'));
    expect(s.indexes.get('shop.A')).toEqual([0]);
    expect(s.indexes.get('shop.A.B')).toEqual([0, 0]);
    expect(s.indexes.get('shop.A.C.D')).toEqual([0, 1, 0]);
    expect(s.indexes.get('shop.F')).toEqual([1]);
  });

  it('canonical text ignores comments and whitespace, and is still valid', () => {
    const a = canonicalProto('syntax = "proto3";\n// c\nmessage M {\n  int32 a = 1; /* x */\n}\n');
    expect(a).toBe(canonicalProto('syntax="proto3"; message M { int32 a=1; }'));
    expect(parseProto(a).messages.has('M')).toBe(true);
  });
});
