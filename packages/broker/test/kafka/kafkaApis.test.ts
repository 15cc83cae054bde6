/**
 * The Kafka API layer without sockets: header and version checks, the close rules, ApiVersions'
 * UNSUPPORTED_VERSION answer in a v0 body, no answer for NO_RESPONSE, a throwing handler closing
 * only its connection, and the per-API observer.
 */
import { ApiKey, decodeResponse, encodeRequest } from '@samsa/kafka';
import { ANONYMOUS } from '@samsa/server';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KafkaAnswer, KafkaConnectionInfo } from '../../src/kafka/connection.js';
import { CLOSE, KafkaApis, NO_RESPONSE, type KafkaApiHandler } from '../../src/kafka/kafkaApis.js';

const conn: KafkaConnectionInfo = { clientHost: '/127.0.0.1', listenerName: 'PLAINTEXT', principal: ANONYMOUS };
const logger = pino({ level: 'silent' });

/** A frame without its size prefix, as the connection hands it over. */
function frame(apiKey: number, apiVersion: number, correlationId: number, body: object): Buffer {
  return encodeRequest({ apiKey, apiVersion, correlationId, clientId: 'unit' }, body).subarray(4);
}

function apis(extra: KafkaApiHandler[] = [], isServing = () => true) {
  const observed: Array<[string, number, string]> = [];
  const versions: KafkaApiHandler = {
    apiKey: ApiKey.ApiVersions,
    minVersion: 0,
    maxVersion: 3,
    handle: () => ({ errorCode: 0, apiKeys: [...k.advertised], throttleTimeMs: 0 }),
  };
  const k: KafkaApis = new KafkaApis({
    handlers: [versions, ...extra],
    logger,
    isServing,
    startingReason: () => 'starting',
    observer: {
      observe: (api, version, outcome) => {
        observed.push([api, version, outcome]);
      },
    },
  });
  return { k, observed };
}

async function answer(a: Promise<KafkaAnswer> | KafkaAnswer): Promise<KafkaAnswer> {
  return a;
}

describe('KafkaApis', () => {
  it("advertises each handler within the codecs' versions and answers ApiVersions", async () => {
    const produce: KafkaApiHandler = { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 99, handle: () => NO_RESPONSE };
    const { k } = apis([produce]);
    // The codecs decode Produce 3-9 at most: the advertised range is the intersection.
    const produceRange = k.advertised.find((a) => a.apiKey === ApiKey.Produce)!;
    expect(produceRange.maxVersion).toBeLessThanOrEqual(9);
    const a = await answer(k.handle(frame(ApiKey.ApiVersions, 3, 5, { clientSoftwareName: 'u', clientSoftwareVersion: '1' }), conn));
    expect(a.kind).toBe('response');
    const body = decodeResponse(ApiKey.ApiVersions, 3, (a as { bytes: Buffer }).bytes.subarray(4)).body as { apiKeys: unknown[] };
    expect(body.apiKeys).toHaveLength(2);
  });

  it('answers ApiVersions in a version it does not serve with UNSUPPORTED_VERSION in a v0 body, header v0', async () => {
    const { k } = apis();
    const raw = Buffer.alloc(14);
    raw.writeInt16BE(ApiKey.ApiVersions, 0);
    raw.writeInt16BE(99, 2);
    raw.writeInt32BE(31, 4);
    raw.writeInt16BE(-1, 8);
    const a = await answer(k.handle(raw, conn));
    expect(a.kind).toBe('response');
    const bytes = (a as { bytes: Buffer }).bytes;
    expect(bytes.readInt32BE(0)).toBe(bytes.length - 4);
    expect(bytes.readInt32BE(4)).toBe(31);
    expect(bytes.readInt16BE(8)).toBe(35);
  });

  it('closes on an unknown API key, an unsupported version of another API, an undecodable body, and before the broker serves', async () => {
    const fetch: KafkaApiHandler = { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 12, handle: () => ({}) };
    const { k, observed } = apis([fetch]);
    const unknown = Buffer.alloc(10);
    unknown.writeInt16BE(1234, 0);
    unknown.writeInt16BE(-1, 8);
    expect((await answer(k.handle(unknown, conn))).kind).toBe('close');
    const old = Buffer.from(frame(ApiKey.ApiVersions, 0, 1, {}));
    old.writeInt16BE(ApiKey.Fetch, 0);
    old.writeInt16BE(3, 2);
    expect((await answer(k.handle(old, conn))).kind).toBe('close');
    const truncated = frame(ApiKey.ApiVersions, 3, 1, { clientSoftwareName: 'abc', clientSoftwareVersion: '1' });
    expect((await answer(k.handle(truncated.subarray(0, truncated.length - 3), conn))).kind).toBe('close');
    expect((await answer(k.handle(Buffer.alloc(3), conn))).kind).toBe('close');
    const starting = apis([], () => false).k;
    expect((await answer(starting.handle(frame(ApiKey.ApiVersions, 2, 1, {}), conn))).kind).toBe('close');
    expect(observed.filter(([, , outcome]) => outcome === 'closed').length).toBeGreaterThanOrEqual(2);
  });

  it('writes nothing for NO_RESPONSE, closes when a handler asks to or throws, and keeps serving other requests', async () => {
    let mode: 'none' | 'close' | 'throw' | 'reject' = 'none';
    const produce: KafkaApiHandler = {
      apiKey: ApiKey.Produce,
      minVersion: 3,
      maxVersion: 9,
      handle: () => {
        if (mode === 'none') return NO_RESPONSE;
        if (mode === 'close') return { [CLOSE]: 'acks=0 produce failed' };
        if (mode === 'throw') throw new Error('bug');
        return Promise.reject(new Error('async bug'));
      },
    };
    const { k } = apis([produce]);
    const req = frame(ApiKey.Produce, 9, 1, { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [] });
    expect(await answer(k.handle(req, conn))).toEqual({ kind: 'none' });
    mode = 'close';
    expect(await answer(k.handle(req, conn))).toEqual({ kind: 'close', reason: 'acks=0 produce failed' });
    mode = 'throw';
    expect((await answer(k.handle(req, conn))).kind).toBe('close');
    mode = 'reject';
    expect((await answer(k.handle(req, conn))).kind).toBe('close');
    expect((await answer(k.handle(frame(ApiKey.ApiVersions, 2, 9, {}), conn))).kind).toBe('response');
  });

  it('refuses a handler for an API the codecs cannot decode', () => {
    expect(() => apis([{ apiKey: 9999, minVersion: 0, maxVersion: 0, handle: () => ({}) }])).toThrow(/no codec/);
  });
});
