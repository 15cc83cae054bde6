/**
 * Schemas of the security APIs: SaslHandshake (17), SaslAuthenticate (36, KIP-152), and the ACL
 * APIs DescribeAcls (29), CreateAcls (30), DeleteAcls (31) (KIP-140; pattern types from KIP-290),
 * and the SCRAM credential APIs DescribeUserScramCredentials (50) and AlterUserScramCredentials (51)
 * (KIP-554; mechanism 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512; only SaltedPassword travels, never a password).
 */
import type { ApiSpec } from '../schema.js';

export const SaslHandshake = {
  apiKey: 17,
  name: 'SaslHandshake',
  validVersions: '0-1',
  flexibleVersions: 'none',
  request: [{ name: 'mechanism', type: 'string', versions: '0+' }],
  response: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'mechanisms', type: '[]string', versions: '0+' },
  ],
} as const satisfies ApiSpec;

export const SaslAuthenticate = {
  apiKey: 36,
  name: 'SaslAuthenticate',
  validVersions: '0-2',
  flexibleVersions: '2+',
  request: [{ name: 'authBytes', type: 'bytes', versions: '0+' }],
  response: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'authBytes', type: 'bytes', versions: '0+' },
    { name: 'sessionLifetimeMs', type: 'int64', versions: '1+', default: 0 },
  ],
} as const satisfies ApiSpec;

export const DescribeAcls = {
  apiKey: 29,
  name: 'DescribeAcls',
  validVersions: '0-3',
  flexibleVersions: '2+',
  request: [
    { name: 'resourceTypeFilter', type: 'int8', versions: '0+' },
    { name: 'resourceNameFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
    // 3 = LITERAL, the only pattern before v1.
    { name: 'patternTypeFilter', type: 'int8', versions: '1+', default: 3 },
    { name: 'principalFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'hostFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'operation', type: 'int8', versions: '0+' },
    { name: 'permissionType', type: 'int8', versions: '0+' },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
    {
      name: 'resources',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'patternType', type: 'int8', versions: '1+', default: 3 },
        {
          name: 'acls',
          type: '[]struct',
          versions: '0+',
          fields: [
            { name: 'principal', type: 'string', versions: '0+' },
            { name: 'host', type: 'string', versions: '0+' },
            { name: 'operation', type: 'int8', versions: '0+' },
            { name: 'permissionType', type: 'int8', versions: '0+' },
          ],
        },
      ],
    },
  ],
} as const satisfies ApiSpec;

export const CreateAcls = {
  apiKey: 30,
  name: 'CreateAcls',
  validVersions: '0-3',
  flexibleVersions: '2+',
  request: [
    {
      name: 'creations',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'resourcePatternType', type: 'int8', versions: '1+', default: 3 },
        { name: 'principal', type: 'string', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'operation', type: 'int8', versions: '0+' },
        { name: 'permissionType', type: 'int8', versions: '0+' },
      ],
    },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
      ],
    },
  ],
} as const satisfies ApiSpec;

export const DeleteAcls = {
  apiKey: 31,
  name: 'DeleteAcls',
  validVersions: '0-3',
  flexibleVersions: '2+',
  request: [
    {
      name: 'filters',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'resourceTypeFilter', type: 'int8', versions: '0+' },
        { name: 'resourceNameFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
        { name: 'patternTypeFilter', type: 'int8', versions: '1+', default: 3 },
        { name: 'principalFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
        { name: 'hostFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
        { name: 'operation', type: 'int8', versions: '0+' },
        { name: 'permissionType', type: 'int8', versions: '0+' },
      ],
    },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'filterResults',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        {
          name: 'matchingAcls',
          type: '[]struct',
          versions: '0+',
          fields: [
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
            { name: 'resourceType', type: 'int8', versions: '0+' },
            { name: 'resourceName', type: 'string', versions: '0+' },
            { name: 'patternType', type: 'int8', versions: '1+', default: 3 },
            { name: 'principal', type: 'string', versions: '0+' },
            { name: 'host', type: 'string', versions: '0+' },
            { name: 'operation', type: 'int8', versions: '0+' },
            { name: 'permissionType', type: 'int8', versions: '0+' },
          ],
        },
      ],
    },
  ],
} as const satisfies ApiSpec;

export const DescribeUserScramCredentials = {
  apiKey: 50,
  name: 'DescribeUserScramCredentials',
  validVersions: '0-0',
  flexibleVersions: '0+',
  request: [
    // Null: every user with a credential.
    { name: 'users', type: '[]struct', versions: '0+', nullableVersions: '0+', fields: [{ name: 'name', type: 'string', versions: '0+' }] },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
    {
      name: 'results',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'user', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        {
          name: 'credentialInfos',
          type: '[]struct',
          versions: '0+',
          fields: [
            { name: 'mechanism', type: 'int8', versions: '0+' },
            { name: 'iterations', type: 'int32', versions: '0+' },
          ],
        },
      ],
    },
  ],
} as const satisfies ApiSpec;

export const AlterUserScramCredentials = {
  apiKey: 51,
  name: 'AlterUserScramCredentials',
  validVersions: '0-0',
  flexibleVersions: '0+',
  request: [
    {
      name: 'deletions',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'mechanism', type: 'int8', versions: '0+' },
      ],
    },
    {
      name: 'upsertions',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'mechanism', type: 'int8', versions: '0+' },
        { name: 'iterations', type: 'int32', versions: '0+' },
        { name: 'salt', type: 'bytes', versions: '0+' },
        { name: 'saltedPassword', type: 'bytes', versions: '0+' },
      ],
    },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'user', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
      ],
    },
  ],
} as const satisfies ApiSpec;
