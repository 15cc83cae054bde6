/**
 * Named body types, derived from the schemas (schema.ts), so they cannot drift from the codec.
 * `XRequest`/`XResponse` are decoded bodies (every field present); `XRequestInput`/`XResponseInput`
 * are what the encoders accept (any field may be left out and takes its default).
 */
import type * as core from './apis/core.js';
import type { InputOf, StructOf } from './schema.js';

type Req<A extends { request: readonly unknown[] }> = A extends { request: infer F extends readonly import('./schema.js').FieldSpec[] } ? StructOf<F> : never;
type Res<A extends { response: readonly unknown[] }> = A extends { response: infer F extends readonly import('./schema.js').FieldSpec[] } ? StructOf<F> : never;
type ReqIn<A extends { request: readonly unknown[] }> = A extends { request: infer F extends readonly import('./schema.js').FieldSpec[] } ? InputOf<F> : never;
type ResIn<A extends { response: readonly unknown[] }> = A extends { response: infer F extends readonly import('./schema.js').FieldSpec[] } ? InputOf<F> : never;

export type ApiVersionsRequest = Req<typeof core.ApiVersions>;
export type ApiVersionsResponse = Res<typeof core.ApiVersions>;
export type ApiVersionsResponseInput = ResIn<typeof core.ApiVersions>;
export type ApiVersionsRequestInput = ReqIn<typeof core.ApiVersions>;
export type MetadataRequest = Req<typeof core.Metadata>;
export type MetadataResponse = Res<typeof core.Metadata>;
export type MetadataRequestInput = ReqIn<typeof core.Metadata>;
export type MetadataResponseInput = ResIn<typeof core.Metadata>;
export type ProduceRequest = Req<typeof core.Produce>;
export type ProduceResponse = Res<typeof core.Produce>;
export type ProduceRequestInput = ReqIn<typeof core.Produce>;
export type ProduceResponseInput = ResIn<typeof core.Produce>;
export type FetchRequest = Req<typeof core.Fetch>;
export type FetchResponse = Res<typeof core.Fetch>;
export type FetchRequestInput = ReqIn<typeof core.Fetch>;
export type FetchResponseInput = ResIn<typeof core.Fetch>;
