/**
 * What a leader refuses of a produced batch while transactions are not wired end to end
 * (README.md "Not done"): a control batch from a client (Kafka's INVALID_RECORD "clients are not
 * allowed to write control records"; markers come only from the transaction coordinator), and a
 * transactional batch (attributes bit 4), because without a coordinator nothing would ever commit
 * or abort it and read_committed readers would be blocked or misled. Before this, such batches
 * were appended as plain data.
 */
import { Attributes, BatchField, RECORD_BATCH_OVERHEAD, protocolError } from '@samsa/protocol';

/** Throws INVALID_RECORD for a control batch and INVALID_TXN_STATE for a transactional one; a short buffer is left to the batch validation. */
export function refuseTransactionalProduce(batch: Buffer, partition: string): void {
  if (batch.length < RECORD_BATCH_OVERHEAD) return;
  const attributes = batch.readInt16BE(BatchField.ATTRIBUTES);
  if ((attributes & Attributes.CONTROL) !== 0) {
    throw protocolError('INVALID_RECORD', `clients may not write control batches (transaction markers) to ${partition}`);
  }
  if ((attributes & Attributes.TRANSACTIONAL) !== 0) {
    throw protocolError(
      'INVALID_TXN_STATE',
      `transactional batches are refused on ${partition}: transactions are not supported yet (transactional.id is refused too)`,
    );
  }
}
