/**
 * Request headers v0/v1/v2 and response headers v0/v1 (Kafka's RequestHeader.json /
 * ResponseHeader.json, KIP-482): v0 is apiKey, apiVersion, correlationId; v1 adds a classic
 * nullable clientId; v2 adds a tagged-field section. Flexible request versions use header v2 and
 * response header v1, except ApiVersions, whose response header is always v0 so a client that does
 * not yet know the broker's versions can read the answer.
 */
import { readTaggedFields, writeTaggedFields } from './codec.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export function readRequestHeader(r: Reader, headerVersion: 0 | 1 | 2): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = headerVersion >= 1 ? r.nullableString(false) : null;
  // Header tags (e.g. Kafka's initial principal name for forwarded requests) are not used here.
  if (headerVersion >= 2) readTaggedFields(r, null, {});
  return { apiKey, apiVersion, correlationId, clientId };
}

export function writeRequestHeader(w: Writer, header: RequestHeader, headerVersion: 0 | 1 | 2): void {
  w.int16(header.apiKey);
  w.int16(header.apiVersion);
  w.int32(header.correlationId);
  if (headerVersion >= 1) w.nullableString(header.clientId, false);
  if (headerVersion >= 2) writeTaggedFields(w, null);
}

export function readResponseHeader(r: Reader, headerVersion: 0 | 1): number {
  const correlationId = r.int32();
  if (headerVersion >= 1) readTaggedFields(r, null, {});
  return correlationId;
}

export function writeResponseHeader(w: Writer, correlationId: number, headerVersion: 0 | 1): void {
  w.int32(correlationId);
  if (headerVersion >= 1) writeTaggedFields(w, null);
}
