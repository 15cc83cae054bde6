/**
 * The per-record checks a leader makes on a produced batch before appending it (Kafka's
 * LogValidator.validateRecord / processRecordErrors, KIP-467 for the per-record answer):
 *
 * - a compacted topic refuses a record without a key (INVALID_RECORD);
 * - with message.timestamp.type=CreateTime, a record whose timestamp lies further before or after
 *   the leader's clock than message.timestamp.before.max.ms / after.max.ms (KIP-937) is refused
 *   (INVALID_TIMESTAMP).
 *
 * Every refused record is listed with its index in the batch; the batch is refused whole
 * (RecordValidationError), so nothing of it is written. The records are decoded only when a check
 * needs them: a delete-policy topic with unbounded timestamps (the default) costs nothing here.
 */
import type { TopicConfig } from '@samsa/metadata';
import { ErrorCode, RecordValidationError, decodeRecordBatch, type RecordError } from '@samsa/protocol';

type RecordChecks = Pick<
  TopicConfig,
  'cleanup.policy' | 'message.timestamp.type' | 'message.timestamp.before.max.ms' | 'message.timestamp.after.max.ms'
>;

/** Whether any per-record check applies under `config` (else the records need not be decoded). */
export function recordChecksApply(config: RecordChecks): boolean {
  return config['cleanup.policy'] !== 'delete' || timestampBounded(config);
}

function timestampBounded(config: RecordChecks): boolean {
  return (
    config['message.timestamp.type'] === 'CreateTime' &&
    (config['message.timestamp.before.max.ms'] < Number.MAX_SAFE_INTEGER ||
      config['message.timestamp.after.max.ms'] < Number.MAX_SAFE_INTEGER)
  );
}

/**
 * Checks every record of the (already CRC-checked) batch; throws RecordValidationError naming
 * each refused record. INVALID_TIMESTAMP when any record's timestamp is out of range, else
 * INVALID_RECORD, as Kafka decides.
 */
export function validateRecords(batch: Buffer, partition: string, config: RecordChecks, nowMs: number): void {
  if (!recordChecksApply(config)) return;
  const compacted = config['cleanup.policy'] !== 'delete';
  const checkTime = timestampBounded(config);
  const now = BigInt(nowMs);
  const earliest = now - BigInt(config['message.timestamp.before.max.ms']);
  const latest = now + BigInt(config['message.timestamp.after.max.ms']);
  const { records } = decodeRecordBatch(batch, 0, { verifyCrc: false });
  const errors: RecordError[] = [];
  let badTimestamp = false;
  records.forEach((r, batchIndex) => {
    // One reason per record, the key first (Kafka's order).
    if (compacted && r.key === null) {
      errors.push({ batchIndex, message: `compacted topic ${partition} cannot accept a record without a key` });
    } else if (checkTime && (r.timestamp < earliest || r.timestamp > latest)) {
      badTimestamp = true;
      errors.push({
        batchIndex,
        message: `timestamp ${r.timestamp} of record ${batchIndex} is out of range: it must lie within [${earliest}, ${latest}] (message.timestamp.before.max.ms / after.max.ms)`,
      });
    }
  });
  if (errors.length === 0) return;
  const shown = errors
    .slice(0, 3)
    .map((e) => `#${e.batchIndex}: ${e.message}`)
    .join('; ');
  throw new RecordValidationError(
    badTimestamp ? ErrorCode.INVALID_TIMESTAMP : ErrorCode.INVALID_RECORD,
    `${errors.length} of ${records.length} record(s) refused in a batch for ${partition}, so none was written (first ${Math.min(errors.length, 3)}: ${shown})`,
    errors,
  );
}
