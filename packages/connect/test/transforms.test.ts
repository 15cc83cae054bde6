import { describe, expect, it } from 'vitest';
import {
  castValue,
  createTransform,
  formatTimestamp,
  parseTimestamp,
  transformationChain,
  type ConnectRecord,
  type SinkRecord,
} from '../src/index.js';

const T = 'org.apache.kafka.connect.transforms.';
const rec = (value: unknown, extra: Partial<ConnectRecord> = {}): ConnectRecord => ({ topic: 'orders', key: null, value, ...extra });

describe('single message transforms', () => {
  it('InsertField$Value adds topic, partition, offset, timestamp and a static field (! and ? suffixes dropped)', () => {
    const t = createTransform(`${T}InsertField$Value`, {
      'topic.field': 'src!',
      'partition.field': 'p',
      'offset.field': 'o?',
      'timestamp.field': 'ts',
      'static.field': 'dc',
      'static.value': 'eu',
    });
    const r: SinkRecord = { topic: 'orders', kafkaPartition: 2, kafkaOffset: 41n, timestamp: 1000, key: null, value: { id: 1 } };
    expect(t(r)!.value).toEqual({ id: 1, src: 'orders', p: 2, o: 41, ts: 1000, dc: 'eu' });
    expect(t({ ...r, value: null })!.value).toBeNull();
  });

  it('InsertField on a struct schema appends optional fields', () => {
    const t = createTransform(`${T}InsertField$Value`, { 'static.field': 'dc', 'static.value': 'eu' });
    const out = t(rec({ id: 1 }, { valueSchema: { type: 'struct', fields: [{ field: 'id', type: 'int32' }] } }))!;
    expect(out.valueSchema!.fields!.map((f) => f.field)).toEqual(['id', 'dc']);
  });

  it('ReplaceField$Value excludes, includes and renames', () => {
    expect(
      createTransform(`${T}ReplaceField$Value`, { exclude: 'secret', renames: 'id:order_id' })(rec({ id: 1, secret: 's', n: 2 }))!.value,
    ).toEqual({ order_id: 1, n: 2 });
    expect(createTransform(`${T}ReplaceField$Value`, { include: 'n' })(rec({ id: 1, n: 2 }))!.value).toEqual({ n: 2 });
    expect(() => createTransform(`${T}ReplaceField$Value`, { renames: 'broken' })).toThrow(/Invalid rename mapping: broken/);
  });

  it('MaskField$Value blanks fields by type, or with a replacement', () => {
    expect(
      createTransform(`${T}MaskField$Value`, { fields: 'ssn,age,ok' })(rec({ ssn: '123', age: 40, ok: true, name: 'x' }))!.value,
    ).toEqual({ ssn: '', age: 0, ok: false, name: 'x' });
    expect(createTransform(`${T}MaskField$Value`, { fields: 'ssn', replacement: '***' })(rec({ ssn: '123' }))!.value).toEqual({
      ssn: '***',
    });
  });

  it('ValueToKey then ExtractField$Key gives a plain key', () => {
    const chain = transformationChain({
      transforms: 'copy,extract',
      'transforms.copy.type': `${T}ValueToKey`,
      'transforms.copy.fields': 'user_id',
      'transforms.extract.type': `${T}ExtractField$Key`,
      'transforms.extract.field': 'user_id',
    });
    expect(chain(rec({ user_id: 'u9', amount: 3 }))!.key).toBe('u9');
  });

  it('ExtractField$Value takes one field and its schema', () => {
    const out = createTransform(`${T}ExtractField$Value`, { field: 'after' })(
      rec(
        { after: { id: 1 } },
        {
          valueSchema: {
            type: 'struct',
            fields: [{ field: 'after', type: 'struct', optional: true, fields: [{ field: 'id', type: 'int32' }] }],
          },
        },
      ),
    )!;
    expect(out.value).toEqual({ id: 1 });
    expect(out.valueSchema).toEqual({ type: 'struct', optional: true, fields: [{ field: 'id', type: 'int32' }] });
  });

  it("Cast converts fields or the whole value, wrapping as Java's narrowing casts", () => {
    expect(
      createTransform(`${T}Cast$Value`, { spec: 'price:float64,qty:int8,flag:boolean,id:string' })(
        rec({ price: '9.5', qty: 300, flag: 'true', id: 12 }),
      )!.value,
    ).toEqual({ price: 9.5, qty: 44, flag: true, id: '12' });
    expect(createTransform(`${T}Cast$Value`, { spec: 'int32' })(rec('17'))!.value).toBe(17);
    expect(castValue(3.9, 'int64')).toBe(3);
    expect(() => createTransform(`${T}Cast$Value`, { spec: 'a:decimal' })).toThrow(/Invalid type found in casting spec: decimal/);
  });

  it('TimestampConverter converts between unix, string and Timestamp', () => {
    const toString = createTransform(`${T}TimestampConverter$Value`, {
      field: 'ts',
      'target.type': 'string',
      format: "yyyy-MM-dd'T'HH:mm:ss.SSS",
    });
    expect(toString(rec({ ts: 1_700_000_000_123 }))!.value).toEqual({ ts: '2023-11-14T22:13:20.123' });
    const toUnix = createTransform(`${T}TimestampConverter$Value`, {
      field: 'ts',
      'target.type': 'unix',
      format: 'yyyy-MM-dd HH:mm:ss',
      'unix.precision': 'seconds',
    });
    expect(toUnix(rec({ ts: '2023-11-14 22:13:20' }))!.value).toEqual({ ts: 1_700_000_000 });
    const whole = createTransform(`${T}TimestampConverter$Value`, { 'target.type': 'Timestamp' })(rec(5000))!;
    expect(whole.value).toEqual(new Date(5000));
    expect(parseTimestamp(formatTimestamp(86_400_000 * 365, 'yyyyMMddHHmmss'), 'yyyyMMddHHmmss')).toBe(86_400_000 * 365);
    expect(() => createTransform(`${T}TimestampConverter$Value`, { 'target.type': 'string' })).toThrow(/requires format option/);
  });

  it('RegexRouter rewrites a topic that matches whole', () => {
    const t = createTransform(`${T}RegexRouter`, { regex: '(.*)-raw', replacement: '$1-clean' });
    expect(t(rec(1, { topic: 'orders-raw' }))!.topic).toBe('orders-clean');
    expect(t(rec(1, { topic: 'orders-raw-x' }))!.topic).toBe('orders-raw-x');
  });

  it('Flatten$Value joins nested names with the delimiter, schema too', () => {
    const out = createTransform(`${T}Flatten$Value`, { delimiter: '_' })(
      rec(
        { a: { b: 1, c: { d: 'x' } }, e: [1] },
        {
          valueSchema: {
            type: 'struct',
            fields: [
              {
                field: 'a',
                type: 'struct',
                fields: [
                  { field: 'b', type: 'int32' },
                  { field: 'c', type: 'struct', fields: [{ field: 'd', type: 'string' }] },
                ],
              },
              { field: 'e', type: 'array' },
            ],
          },
        },
      ),
    )!;
    expect(out.value).toEqual({ a_b: 1, a_c_d: 'x', e: [1] });
    expect(out.valueSchema!.fields!.map((f) => f.field)).toEqual(['a_b', 'a_c_d', 'e']);
  });

  it('InsertHeader and DropHeaders', () => {
    const withH = createTransform(`${T}InsertHeader`, { header: 'source', 'value.literal': 'pg' })(
      rec(1, { headers: { a: 'x', b: 'y' } }),
    )!;
    expect(withH.headers).toEqual({ a: 'x', b: 'y', source: 'pg' });
    expect(createTransform(`${T}DropHeaders`, { headers: 'a,source' })(withH)!.headers).toEqual({ b: 'y' });
  });

  it('Filter with predicates drops what matches (or, negated, what does not)', () => {
    const props = {
      transforms: 'dropTombstones,onlyOrders',
      'transforms.dropTombstones.type': `${T}Filter`,
      'transforms.dropTombstones.predicate': 'isTombstone',
      'transforms.onlyOrders.type': `${T}Filter`,
      'transforms.onlyOrders.predicate': 'isOrders',
      'transforms.onlyOrders.negate': 'true',
      predicates: 'isTombstone,isOrders,hasTrace',
      'predicates.isTombstone.type': 'org.apache.kafka.connect.transforms.predicates.RecordIsTombstone',
      'predicates.isOrders.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
      'predicates.isOrders.pattern': 'orders.*',
      'predicates.hasTrace.type': 'org.apache.kafka.connect.transforms.predicates.HasHeaderKey',
      'predicates.hasTrace.name': 'trace',
    };
    const chain = transformationChain(props);
    expect(chain(rec(null))).toBeNull();
    expect(chain(rec(1, { topic: 'payments' }))).toBeNull();
    expect(chain(rec(1, { topic: 'orders-eu' }))!.value).toBe(1);
    const byHeader = transformationChain({
      ...props,
      transforms: 'f',
      'transforms.f.type': `${T}Filter`,
      'transforms.f.predicate': 'hasTrace',
    });
    expect(byHeader(rec(1, { headers: { trace: 'x' } }))).toBeNull();
    expect(byHeader(rec(1, { headers: {} }))!.value).toBe(1);
  });

  it('refuses an unknown predicate name or a transform without a type', () => {
    expect(() => transformationChain({ transforms: 'f', 'transforms.f.type': `${T}Filter`, 'transforms.f.predicate': 'nope' })).toThrow(
      /No predicate named nope/,
    );
    expect(() => transformationChain({ transforms: 'f' })).toThrow(
      'Missing required configuration "transforms.f.type" which has no default value.',
    );
  });

  it('a struct-only transform on a non-object value says so', () => {
    expect(() => createTransform(`${T}ReplaceField$Value`, { exclude: 'a' })(rec('text'))).toThrow(/Only Struct objects supported/);
  });
});
