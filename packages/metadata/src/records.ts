/**
 * The records of the metadata log, after KRaft's (KIP-631): every change to cluster metadata is one
 * of these, appended to the Raft log by the active controller and replayed in order by every
 * controller and broker. Values are JSON-serialisable; int64 values (broker epochs, producer ids)
 * are decimal strings so no JSON number ever loses precision.
 *
 * Wire format (`encodeMetadataRecord`): one format byte (`METADATA_RECORD_FORMAT`, currently 1) followed by
 * the record as UTF-8 JSON with its fields in a fixed order. `encodeMetadataEntry` writes the same byte
 * followed by a JSON array: the wiring should put one controller result (an atomic batch, e.g. a
 * Topic record and its Partition records) into one Raft entry. Decoders ignore unknown fields, so a
 * newer writer may add optional fields without bumping the format byte; anything else bumps it.
 */

export const METADATA_RECORD_FORMAT = 1;

/** A broker joins (or rejoins with a new incarnation). The controller always writes `fenced: true`. */
export interface RegisterBrokerRecord {
  readonly type: 'RegisterBroker';
  readonly brokerId: number;
  /** Random per broker process start; a new incarnation replaces the old registration. */
  readonly incarnationId: string;
  /** int64 as a decimal string. */
  readonly brokerEpoch: string;
  readonly host: string;
  readonly port: number;
  readonly rack?: string;
  /** Every advertised listener, `NAME://HOST:PORT,...` (see listeners.ts); absent: host:port for all. */
  readonly endpoints?: string;
  /** The controller writes true; a snapshot writes the broker's current state. */
  readonly fenced: boolean;
}

export interface UnregisterBrokerRecord {
  readonly type: 'UnregisterBroker';
  readonly brokerId: number;
  readonly brokerEpoch: string;
}

export interface FenceBrokerRecord {
  readonly type: 'FenceBroker';
  readonly brokerId: number;
  readonly brokerEpoch: string;
}

export interface UnfenceBrokerRecord {
  readonly type: 'UnfenceBroker';
  readonly brokerId: number;
  readonly brokerEpoch: string;
}

export interface BrokerControlledShutdownRecord {
  readonly type: 'BrokerControlledShutdown';
  readonly brokerId: number;
  readonly brokerEpoch: string;
}

export interface TopicRecord {
  readonly type: 'Topic';
  readonly name: string;
  readonly topicId: string;
}

/** A partition's full registration (creation, or a snapshot). */
export interface PartitionRecord {
  readonly type: 'Partition';
  readonly topicId: string;
  readonly partition: number;
  /** Ordered; the first is the preferred leader. */
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** -1 when the partition has no leader (offline). */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  /** KIP-455: replicas a running reassignment adds; absent = none. */
  readonly addingReplicas?: readonly number[];
  /** KIP-455: replicas a running reassignment removes; absent = none. */
  readonly removingReplicas?: readonly number[];
}

/**
 * A change to one partition; absent fields are unchanged. Replay (as in Kafka's
 * PartitionRegistration.merge) bumps `leaderEpoch` when `leader` is present and always bumps
 * `partitionEpoch`, so the epochs are never written, only derived.
 */
export interface PartitionChangeRecord {
  readonly type: 'PartitionChange';
  readonly topicId: string;
  readonly partition: number;
  readonly leader?: number;
  readonly isr?: readonly number[];
  readonly replicas?: readonly number[];
  /** KIP-455 (Kafka's PartitionChangeRecord.AddingReplicas): the full new list; [] ends a reassignment. */
  readonly addingReplicas?: readonly number[];
  /** KIP-455 (Kafka's PartitionChangeRecord.RemovingReplicas): the full new list. */
  readonly removingReplicas?: readonly number[];
  /** The new leader was not in the ISR (unclean.leader.election.enable): writes may have been lost. */
  readonly unclean?: boolean;
}

export type ConfigResourceType = 'topic' | 'broker';

export interface ConfigRecord {
  readonly type: 'Config';
  readonly resourceType: ConfigResourceType;
  /** The topic name, or the broker id as a string ('' = the cluster-wide broker default). */
  readonly resourceName: string;
  readonly name: string;
  /** null deletes the key (back to the default). */
  readonly value: string | null;
}

export interface RemoveTopicRecord {
  readonly type: 'RemoveTopic';
  readonly topicId: string;
}

/** A block of producer ids was handed to a broker; ids below `nextProducerId` are taken. */
export interface ProducerIdsBlockRecord {
  readonly type: 'ProducerIdsBlock';
  readonly brokerId: number;
  readonly brokerEpoch: string;
  /** int64 as a decimal string: the first id of the next block. */
  readonly nextProducerId: string;
}

/**
 * One ACL (KRaft's AccessControlEntryRecord): Kafka's wire codes for the resource type, pattern
 * type, operation and permission type (see acls.ts). `id` is derived from the binding, so the
 * same ACL always has the same id and re-creating it writes nothing.
 */
export interface AccessControlEntryRecord {
  readonly type: 'AccessControlEntry';
  readonly id: string;
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

/** KRaft's RemoveAccessControlEntryRecord. */
export interface RemoveAccessControlEntryRecord {
  readonly type: 'RemoveAccessControlEntry';
  readonly id: string;
}

/**
 * A user's SCRAM credential for one mechanism (KRaft's UserScramCredentialRecord, KIP-554): the
 * salted hashes only, base64; a newer record for the same user and mechanism replaces the older.
 */
export interface UserScramCredentialRecord {
  readonly type: 'UserScramCredential';
  readonly name: string;
  /** 'SCRAM-SHA-256' or 'SCRAM-SHA-512'. */
  readonly mechanism: string;
  readonly salt: string;
  readonly storedKey: string;
  readonly serverKey: string;
  readonly iterations: number;
}

/** Deletes a user's credential for one mechanism (KRaft's RemoveUserScramCredentialRecord). */
export interface RemoveUserScramCredentialRecord {
  readonly type: 'RemoveUserScramCredential';
  readonly name: string;
  readonly mechanism: string;
}

export type MetadataRecord =
  | AccessControlEntryRecord
  | RemoveAccessControlEntryRecord
  | RegisterBrokerRecord
  | UnregisterBrokerRecord
  | FenceBrokerRecord
  | UnfenceBrokerRecord
  | BrokerControlledShutdownRecord
  | TopicRecord
  | PartitionRecord
  | PartitionChangeRecord
  | ConfigRecord
  | RemoveTopicRecord
  | ProducerIdsBlockRecord
  | UserScramCredentialRecord
  | RemoveUserScramCredentialRecord;

export type MetadataRecordType = MetadataRecord['type'];

/** Bytes that are not a metadata record of a format this code understands. */
export class MetadataRecordError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetadataRecordError';
  }
}

// ---- schema ----

type FieldKind = 'uint' | 'int' | 'int64' | 'string' | 'bool' | 'uintArray' | 'nullableString' | 'resourceType';
type Field = readonly [name: string, kind: FieldKind, optional?: 'optional'];

const INT64 = /^-?(0|[1-9]\d*)$/;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

// Field order here is the order on the wire, so encoding is canonical.
const SCHEMAS: { readonly [T in MetadataRecordType]: readonly Field[] } = {
  RegisterBroker: [
    ['brokerId', 'uint'],
    ['incarnationId', 'string'],
    ['brokerEpoch', 'int64'],
    ['host', 'string'],
    ['port', 'uint'],
    ['rack', 'string', 'optional'],
    ['endpoints', 'string', 'optional'],
    ['fenced', 'bool'],
  ],
  UnregisterBroker: [
    ['brokerId', 'uint'],
    ['brokerEpoch', 'int64'],
  ],
  FenceBroker: [
    ['brokerId', 'uint'],
    ['brokerEpoch', 'int64'],
  ],
  UnfenceBroker: [
    ['brokerId', 'uint'],
    ['brokerEpoch', 'int64'],
  ],
  BrokerControlledShutdown: [
    ['brokerId', 'uint'],
    ['brokerEpoch', 'int64'],
  ],
  Topic: [
    ['name', 'string'],
    ['topicId', 'string'],
  ],
  Partition: [
    ['topicId', 'string'],
    ['partition', 'uint'],
    ['replicas', 'uintArray'],
    ['isr', 'uintArray'],
    ['leader', 'int'],
    ['leaderEpoch', 'uint'],
    ['partitionEpoch', 'uint'],
    ['addingReplicas', 'uintArray', 'optional'],
    ['removingReplicas', 'uintArray', 'optional'],
  ],
  PartitionChange: [
    ['topicId', 'string'],
    ['partition', 'uint'],
    ['leader', 'int', 'optional'],
    ['isr', 'uintArray', 'optional'],
    ['replicas', 'uintArray', 'optional'],
    ['addingReplicas', 'uintArray', 'optional'],
    ['removingReplicas', 'uintArray', 'optional'],
    ['unclean', 'bool', 'optional'],
  ],
  Config: [
    ['resourceType', 'resourceType'],
    ['resourceName', 'string'],
    ['name', 'string'],
    ['value', 'nullableString'],
  ],
  RemoveTopic: [['topicId', 'string']],
  AccessControlEntry: [
    ['id', 'string'],
    ['resourceType', 'uint'],
    ['resourceName', 'string'],
    ['patternType', 'uint'],
    ['principal', 'string'],
    ['host', 'string'],
    ['operation', 'uint'],
    ['permissionType', 'uint'],
  ],
  RemoveAccessControlEntry: [['id', 'string']],
  ProducerIdsBlock: [
    ['brokerId', 'int'],
    ['brokerEpoch', 'int64'],
    ['nextProducerId', 'int64'],
  ],
  UserScramCredential: [
    ['name', 'string'],
    ['mechanism', 'string'],
    ['salt', 'string'],
    ['storedKey', 'string'],
    ['serverKey', 'string'],
    ['iterations', 'uint'],
  ],
  RemoveUserScramCredential: [
    ['name', 'string'],
    ['mechanism', 'string'],
  ],
};

function fits(kind: FieldKind, value: unknown): boolean {
  switch (kind) {
    case 'uint':
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case 'int':
      return Number.isSafeInteger(value);
    case 'int64': {
      if (typeof value !== 'string' || !INT64.test(value)) return false;
      const n = BigInt(value);
      return n >= INT64_MIN && n <= INT64_MAX;
    }
    case 'string':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'uintArray':
      return Array.isArray(value) && value.every((v) => fits('uint', v));
    case 'nullableString':
      return value === null || typeof value === 'string';
    case 'resourceType':
      return value === 'topic' || value === 'broker';
  }
}

/**
 * Checks a value against its record schema and returns a fresh record holding only the known
 * fields, in wire order. Throws MetadataRecordError.
 */
export function checkRecord(value: unknown): MetadataRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MetadataRecordError('a metadata record must be a JSON object');
  }
  const source = value as Record<string, unknown>;
  const type = source['type'];
  if (typeof type !== 'string' || !Object.hasOwn(SCHEMAS, type)) {
    throw new MetadataRecordError(`unknown metadata record type ${JSON.stringify(type)}`);
  }
  const out: Record<string, unknown> = { type };
  for (const [name, kind, optional] of SCHEMAS[type as MetadataRecordType]) {
    const field = source[name];
    if (field === undefined) {
      if (optional) continue;
      throw new MetadataRecordError(`${type} record is missing '${name}'`);
    }
    if (!fits(kind, field)) throw new MetadataRecordError(`${type} record has a bad '${name}': ${JSON.stringify(field)}`);
    out[name] = Array.isArray(field) ? [...(field as number[])] : field;
  }
  return out as unknown as MetadataRecord;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function frame(json: string): Uint8Array {
  const body = encoder.encode(json);
  const bytes = new Uint8Array(1 + body.length);
  bytes[0] = METADATA_RECORD_FORMAT;
  bytes.set(body, 1);
  return bytes;
}

function unframe(bytes: Uint8Array): unknown {
  if (bytes.length < 2) throw new MetadataRecordError(`a metadata record needs at least 2 bytes, got ${bytes.length}`);
  if (bytes[0] !== METADATA_RECORD_FORMAT) {
    throw new MetadataRecordError(`unknown metadata record format ${bytes[0]} (this code reads format ${METADATA_RECORD_FORMAT})`);
  }
  try {
    return JSON.parse(decoder.decode(bytes.subarray(1)));
  } catch (err) {
    throw new MetadataRecordError('a metadata record is not valid UTF-8 JSON', { cause: err });
  }
}

/** One record: the format byte, then canonical UTF-8 JSON. Throws MetadataRecordError on a malformed record. */
export function encodeMetadataRecord(record: MetadataRecord): Uint8Array {
  return frame(JSON.stringify(checkRecord(record)));
}

export function decodeMetadataRecord(bytes: Uint8Array): MetadataRecord {
  return checkRecord(unframe(bytes));
}

/** Several records that must commit together (one Raft entry): the format byte, then a JSON array. */
export function encodeMetadataEntry(records: readonly MetadataRecord[]): Uint8Array {
  return frame(JSON.stringify(records.map(checkRecord)));
}

/** Reads a batch; a single encoded record reads as a batch of one. */
export function decodeMetadataEntry(bytes: Uint8Array): MetadataRecord[] {
  const value = unframe(bytes);
  return Array.isArray(value) ? value.map(checkRecord) : [checkRecord(value)];
}
