/**
 * Whole frames: the entry points a listener and a test client use (Kafka's RequestContext /
 * RequestHeader.parse / AbstractResponse.serializeWithHeader). A frame is the bytes after the
 * 4-byte size; encoders return the size-prefixed bytes ready for the socket.
 */
import { compile, decodeStruct, encodeStruct } from './codec.js';
import { KafkaDecodeError, KafkaEncodeError } from './errors.js';
import { readRequestHeader, readResponseHeader, writeRequestHeader, writeResponseHeader, type RequestHeader } from './headers.js';
import { Reader } from './reader.js';
import { isFlexible, requestHeaderVersion, responseHeaderVersion, specFor, type ApiKeyNumber, type SpecByKey } from './registry.js';
import type { ApiSpec, InputOf, StructOf } from './schema.js';
import { inRange } from './versions.js';
import { Writer } from './writer.js';

export type RequestFor<K extends ApiKeyNumber> = StructOf<SpecByKey[K]['request']>;
export type ResponseFor<K extends ApiKeyNumber> = StructOf<SpecByKey[K]['response']>;
export type RequestInputFor<K extends ApiKeyNumber> = InputOf<SpecByKey[K]['request']>;
export type ResponseInputFor<K extends ApiKeyNumber> = InputOf<SpecByKey[K]['response']>;

/** Bytes after the 4-byte size of one request (or response) frame. */
export type Frame = Buffer;

/**
 * Reads the header of a request frame. It succeeds for unknown APIs and versions too (header v1,
 * or v2 when the API's flexible range covers the version), so a listener can still answer
 * UNSUPPORTED_VERSION with the right correlation id; when even the header is broken the thrown
 * error carries whatever of apiKey/apiVersion/correlationId could be read.
 */
export function decodeRequestHeader(frame: Frame): { header: RequestHeader; bodyOffset: number } {
  const r = new Reader(frame);
  try {
    const apiKey = frame.length >= 2 ? frame.readInt16BE(0) : -1;
    const apiVersion = frame.length >= 4 ? frame.readInt16BE(2) : -1;
    const header = readRequestHeader(r, requestHeaderVersion(apiKey, apiVersion));
    return { header, bodyOffset: r.pos };
  } catch (err) {
    if (err instanceof KafkaDecodeError && frame.length >= 8) {
      err.partialHeader = { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4) };
    }
    throw err;
  }
}

function specOrThrow(apiKey: number, apiVersion: number): ApiSpec {
  const spec = specFor(apiKey);
  if (!spec) throw new KafkaDecodeError('unknown-api', `unknown API key ${apiKey}`);
  if (!inRange(apiVersion, spec.validVersions)) {
    throw new KafkaDecodeError(
      'unsupported-version',
      `${spec.name} version ${apiVersion} is not supported (versions ${spec.validVersions})`,
    );
  }
  return spec;
}

function decodeBody(fields: ApiSpec['request'], apiKey: number, apiVersion: number, r: Reader, what: string): Record<string, unknown> {
  const plan = compile(fields, apiVersion, isFlexible(apiKey, apiVersion));
  const body = decodeStruct(r, plan);
  if (r.remaining !== 0) {
    throw new KafkaDecodeError('invalid-value', `${r.remaining} bytes left over after the ${what} body`);
  }
  return body;
}

export function decodeRequest<K extends ApiKeyNumber>(apiKey: K, apiVersion: number, frame: Frame, bodyOffset: number): RequestFor<K>;
export function decodeRequest(apiKey: number, apiVersion: number, frame: Frame, bodyOffset: number): unknown;
export function decodeRequest(apiKey: number, apiVersion: number, frame: Frame, bodyOffset: number): unknown {
  const spec = specOrThrow(apiKey, apiVersion);
  if (!Number.isInteger(bodyOffset) || bodyOffset < 0 || bodyOffset > frame.length) {
    throw new KafkaDecodeError('truncated', `body offset ${bodyOffset} outside a frame of ${frame.length} bytes`);
  }
  return decodeBody(spec.request, apiKey, apiVersion, new Reader(frame, bodyOffset), `${spec.name} v${apiVersion} request`);
}

function encoderSpec(apiKey: number, apiVersion: number): ApiSpec {
  const spec = specFor(apiKey);
  if (!spec) throw new KafkaEncodeError(`unknown API key ${apiKey}`);
  if (!inRange(apiVersion, spec.validVersions))
    throw new KafkaEncodeError(`${spec.name} version ${apiVersion} is not supported (versions ${spec.validVersions})`);
  return spec;
}

export function encodeResponse<K extends ApiKeyNumber>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseInputFor<K>,
): Buffer;
export function encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: object): Buffer;
export function encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: object): Buffer {
  return writeResponse(new Writer(1024), apiKey, apiVersion, correlationId, body).finish();
}

/**
 * Like encodeResponse, but record sets of at least `zeroCopyThreshold` bytes are not copied: the
 * result is the frame as a list of buffers, in order, for `socket.cork(); write each; uncork()`.
 */
export function encodeResponseChunks<K extends ApiKeyNumber>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseInputFor<K>,
  zeroCopyThreshold?: number,
): Buffer[];
export function encodeResponseChunks(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: object,
  zeroCopyThreshold?: number,
): Buffer[];
export function encodeResponseChunks(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  body: object,
  zeroCopyThreshold = 4096,
): Buffer[] {
  return writeResponse(new Writer(1024, zeroCopyThreshold), apiKey, apiVersion, correlationId, body).finishChunks();
}

function writeResponse(w: Writer, apiKey: number, apiVersion: number, correlationId: number, body: object): Writer {
  const spec = encoderSpec(apiKey, apiVersion);
  const at = w.reserveInt32();
  writeResponseHeader(w, correlationId, responseHeaderVersion(apiKey, apiVersion));
  encodeStruct(w, compile(spec.response, apiVersion, isFlexible(apiKey, apiVersion)), body as Record<string, unknown>);
  w.patchInt32(at, w.length - 4);
  return w;
}

export function encodeRequest<K extends ApiKeyNumber>(header: RequestHeader & { apiKey: K }, body: RequestInputFor<K>): Buffer;
export function encodeRequest(header: RequestHeader, body: object): Buffer;
export function encodeRequest(header: RequestHeader, body: object): Buffer {
  const spec = encoderSpec(header.apiKey, header.apiVersion);
  const w = new Writer(1024);
  const at = w.reserveInt32();
  writeRequestHeader(w, header, requestHeaderVersion(header.apiKey, header.apiVersion));
  encodeStruct(w, compile(spec.request, header.apiVersion, isFlexible(header.apiKey, header.apiVersion)), body as Record<string, unknown>);
  w.patchInt32(at, w.length - 4);
  return w.finish();
}

export function decodeResponse<K extends ApiKeyNumber>(
  apiKey: K,
  apiVersion: number,
  frame: Frame,
): { correlationId: number; body: ResponseFor<K> };
export function decodeResponse(apiKey: number, apiVersion: number, frame: Frame): { correlationId: number; body: unknown };
export function decodeResponse(apiKey: number, apiVersion: number, frame: Frame): { correlationId: number; body: unknown } {
  const spec = specOrThrow(apiKey, apiVersion);
  const r = new Reader(frame);
  const correlationId = readResponseHeader(r, responseHeaderVersion(apiKey, apiVersion));
  return { correlationId, body: decodeBody(spec.response, apiKey, apiVersion, r, `${spec.name} v${apiVersion} response`) };
}
