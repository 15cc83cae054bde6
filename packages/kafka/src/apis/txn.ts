/**
 * Schemas of the transaction APIs (KIP-98, KIP-447, KIP-664): AddPartitionsToTxn (24),
 * AddOffsetsToTxn (25), EndTxn (26), WriteTxnMarkers (27), TxnOffsetCommit (28),
 * DescribeTransactions (65), ListTransactions (66). Advertised by the broker only once the
 * transactions issue lands; the codecs exist so its handlers and tests can start from them.
 * AddPartitionsToTxn uses the field names Kafka gave versions 0-3 before v4 (KIP-890) renamed them
 * to `v3AndBelow...`.
 */
import type { ApiSpec } from '../schema.js';

export const AddPartitionsToTxn = {
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  validVersions: '0-3',
  flexibleVersions: '3+',
  request: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    {
      name: 'topics',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
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
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'results',
          type: '[]struct',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
          ],
        },
      ],
    },
  ],
} as const satisfies ApiSpec;

export const AddOffsetsToTxn = {
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  validVersions: '0-3',
  flexibleVersions: '3+',
  request: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
} as const satisfies ApiSpec;

export const EndTxn = {
  apiKey: 26,
  name: 'EndTxn',
  validVersions: '0-3',
  flexibleVersions: '3+',
  request: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    // true commits, false aborts.
    { name: 'committed', type: 'bool', versions: '0+' },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
} as const satisfies ApiSpec;

export const WriteTxnMarkers = {
  apiKey: 27,
  name: 'WriteTxnMarkers',
  validVersions: '0-1',
  flexibleVersions: '1+',
  request: [
    {
      name: 'markers',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'producerId', type: 'int64', versions: '0+' },
        { name: 'producerEpoch', type: 'int16', versions: '0+' },
        { name: 'transactionResult', type: 'bool', versions: '0+' },
        {
          name: 'topics',
          type: '[]struct',
          versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'partitionIndexes', type: '[]int32', versions: '0+' },
          ],
        },
        { name: 'coordinatorEpoch', type: 'int32', versions: '0+' },
      ],
    },
  ],
  response: [
    {
      name: 'markers',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'producerId', type: 'int64', versions: '0+' },
        {
          name: 'topics',
          type: '[]struct',
          versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            {
              name: 'partitions',
              type: '[]struct',
              versions: '0+',
              fields: [
                { name: 'partitionIndex', type: 'int32', versions: '0+' },
                { name: 'errorCode', type: 'int16', versions: '0+' },
              ],
            },
          ],
        },
      ],
    },
  ],
} as const satisfies ApiSpec;

export const TxnOffsetCommit = {
  apiKey: 28,
  name: 'TxnOffsetCommit',
  validVersions: '0-3',
  flexibleVersions: '3+',
  request: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    // v3 (KIP-447): the group membership, so the coordinator can fence zombies.
    { name: 'generationId', type: 'int32', versions: '3+', default: -1 },
    { name: 'memberId', type: 'string', versions: '3+', default: '' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    {
      name: 'topics',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]struct',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'committedOffset', type: 'int64', versions: '0+' },
            { name: 'committedLeaderEpoch', type: 'int32', versions: '2+', default: -1 },
            { name: 'committedMetadata', type: 'string', versions: '0+', nullableVersions: '0+' },
          ],
        },
      ],
    },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'topics',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]struct',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
          ],
        },
      ],
    },
  ],
} as const satisfies ApiSpec;

export const DescribeTransactions = {
  apiKey: 65,
  name: 'DescribeTransactions',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [{ name: 'transactionalIds', type: '[]string', versions: '0+' }],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'transactionStates',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'transactionalId', type: 'string', versions: '0+' },
        { name: 'transactionState', type: 'string', versions: '0+' },
        { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
        { name: 'transactionStartTimeMs', type: 'int64', versions: '0+' },
        { name: 'producerId', type: 'int64', versions: '0+' },
        { name: 'producerEpoch', type: 'int16', versions: '0+' },
        {
          name: 'topics',
          type: '[]struct',
          versions: '0+',
          fields: [
            { name: 'topic', type: 'string', versions: '0+' },
            { name: 'partitions', type: '[]int32', versions: '0+' },
          ],
        },
      ],
    },
  ],
} as const satisfies ApiSpec;

export const ListTransactions = {
  apiKey: 66,
  name: 'ListTransactions',
  validVersions: '0',
  flexibleVersions: '0+',
  request: [
    { name: 'stateFilters', type: '[]string', versions: '0+' },
    { name: 'producerIdFilters', type: '[]int64', versions: '0+' },
  ],
  response: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'unknownStateFilters', type: '[]string', versions: '0+' },
    {
      name: 'transactionStates',
      type: '[]struct',
      versions: '0+',
      fields: [
        { name: 'transactionalId', type: 'string', versions: '0+' },
        { name: 'producerId', type: 'int64', versions: '0+' },
        { name: 'transactionState', type: 'string', versions: '0+' },
      ],
    },
  ],
} as const satisfies ApiSpec;
