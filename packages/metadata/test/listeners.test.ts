import { describe, expect, it } from 'vitest';
import { endpointFor, formatEndpoints, parseEndpoints } from '../src/listeners.js';

describe('listeners', () => {
  it('parses Kafka listener lists, naming a bare HOST:PORT PLAINTEXT', () => {
    expect(parseEndpoints('INTERNAL://broker-1:19092, external://localhost:9092')).toEqual([
      { name: 'INTERNAL', host: 'broker-1', port: 19092 },
      { name: 'EXTERNAL', host: 'localhost', port: 9092 },
    ]);
    expect(parseEndpoints('127.0.0.1:9092')).toEqual([{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }]);
    expect(parseEndpoints('A://[::1]:9092')).toEqual([{ name: 'A', host: '::1', port: 9092 }]);
  });

  it('refuses duplicates, bad names, missing ports and port 0 unless allowed', () => {
    expect(() => parseEndpoints('A://h:1,a://h:2')).toThrow(/A appears more than once/);
    expect(() => parseEndpoints('1X://h:1')).toThrow(/listener name/);
    expect(() => parseEndpoints('A://h')).toThrow(/not NAME:\/\/HOST:PORT/);
    expect(() => parseEndpoints('A://h:0')).toThrow(/port 0/);
    expect(parseEndpoints('A://h:0', { allowPortZero: true })[0]!.port).toBe(0);
    expect(() => parseEndpoints(' , ')).toThrow(/no listener/);
  });

  it('round-trips through formatEndpoints', () => {
    const text = 'INTERNAL://broker-1:19092,EXTERNAL://[::1]:9092';
    expect(formatEndpoints(parseEndpoints(text))).toBe(text);
  });

  it("answers the endpoint of the request's listener, host:port without listeners, nothing for a missing one", () => {
    const broker = { host: 'broker-1', port: 19092, endpoints: 'INTERNAL://broker-1:19092,EXTERNAL://localhost:9092' };
    expect(endpointFor(broker, 'EXTERNAL')).toEqual({ host: 'localhost', port: 9092 });
    expect(endpointFor(broker, 'INTERNAL')).toEqual({ host: 'broker-1', port: 19092 });
    expect(endpointFor(broker, 'OTHER')).toBeUndefined();
    expect(endpointFor({ host: 'h', port: 1 }, 'EXTERNAL')).toEqual({ host: 'h', port: 1 });
    expect(endpointFor(broker, undefined)).toEqual({ host: 'broker-1', port: 19092 });
  });
});
