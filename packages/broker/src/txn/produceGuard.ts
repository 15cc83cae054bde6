/**
 * What a leader refuses of a produced batch: a control batch from a client (Kafka's
 * INVALID_RECORD "clients are not allowed to write control records"). Markers come only from the
 * transaction coordinator, through WriteTxnMarkers (Partition.appendTxnMarkerToLeader).
 * Transactional batches (attributes bit 4) are accepted and tracked by the partition's
 * ProducerTxnState.
 */
import { Attributes, BatchField, RECORD_BATCH_OVERHEAD, protocolError } from '@samsa/protocol';

/** Throws INVALID_RECORD for a control batch; a short buffer is left to the batch validation. */
export function refuseClientControlBatch(batch: Buffer, partition: string): void {
  if (batch.length < RECORD_BATCH_OVERHEAD) return;
  const attributes = batch.readInt16BE(BatchField.ATTRIBUTES);
  if ((attributes & Attributes.CONTROL) !== 0) {
    throw protocolError('INVALID_RECORD', `clients may not write control batches (transaction markers) to ${partition}`);
  }
}
