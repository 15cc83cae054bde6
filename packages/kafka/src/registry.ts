/**
 * The version table (Kafka's ApiKeys enum): every API this package has a schema for, with the
 * versions Samsa advertises. The same list answers ApiVersions, drives dispatch, and tells the
 * round-trip tests what to cover.
 */
import * as core from './apis/core.js';
import type { ApiSpec } from './schema.js';
import { inRange, parseVersions } from './versions.js';

export const API_SPECS = [
  core.Produce,
  core.Fetch,
  core.Metadata,
  core.ApiVersions,
] as const satisfies readonly ApiSpec[];

export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  Metadata: 3,
  ApiVersions: 18,
} as const;

export type ApiKeyNumber = (typeof API_SPECS)[number]['apiKey'];
export type SpecByKey = { [A in (typeof API_SPECS)[number] as A['apiKey']]: A };

export interface SupportedApi {
  apiKey: number;
  name: string;
  minVersion: number;
  maxVersion: number;
}

export const SUPPORTED_APIS: ReadonlyArray<SupportedApi> = API_SPECS.map((spec: ApiSpec) => {
  const r = parseVersions(spec.validVersions);
  return Object.freeze({ apiKey: spec.apiKey, name: spec.name, minVersion: r.min, maxVersion: r.max });
}).sort((a, b) => a.apiKey - b.apiKey);

const byKey = new Map<number, ApiSpec>(API_SPECS.map((s: ApiSpec) => [s.apiKey, s]));

export function specFor(apiKey: number): ApiSpec | undefined {
  return byKey.get(apiKey);
}

export function isSupported(apiKey: number, apiVersion: number): boolean {
  const spec = byKey.get(apiKey);
  return spec !== undefined && inRange(apiVersion, spec.validVersions);
}

/** Whether a version of an API uses the flexible (KIP-482) encoding; unknown APIs are not. */
export function isFlexible(apiKey: number, apiVersion: number): boolean {
  const spec = byKey.get(apiKey);
  return spec !== undefined && inRange(apiVersion, spec.flexibleVersions);
}

export function requestHeaderVersion(apiKey: number, apiVersion: number): 1 | 2 {
  return isFlexible(apiKey, apiVersion) ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  if (apiKey === ApiKey.ApiVersions) return 0;
  return isFlexible(apiKey, apiVersion) ? 1 : 0;
}
