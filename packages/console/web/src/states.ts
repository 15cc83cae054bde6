/**
 * The page's error states, from what the console server answered: the cluster does not answer (a
 * broker or the whole cluster down: 5xx, retriable), the console server itself does not answer,
 * no permission (Kafka's *_AUTHORIZATION_FAILED codes, HTTP 403: the brokers' ACLs refused), not
 * found (404: UNKNOWN_TOPIC_OR_PARTITION, GROUP_ID_NOT_FOUND), or a refusal of the request itself.
 * Pure, so test/table.test.ts checks it without a browser.
 */

/** TOPIC_, GROUP_, CLUSTER_ and TRANSACTIONAL_ID_AUTHORIZATION_FAILED in Kafka's error table. */
const AUTHORIZATION_CODES = new Set([29, 30, 31, 53]);

export type FailureKind = 'down' | 'console-down' | 'forbidden' | 'not-found' | 'refused';

/** `status` is the HTTP status (0 when the console server did not answer), `code` Kafka's error code. */
export function failureKind(e: { status: number; code: number }): FailureKind {
  if (e.status === 0) return 'console-down';
  if (e.status === 403 || AUTHORIZATION_CODES.has(e.code)) return 'forbidden';
  if (e.status === 404) return 'not-found';
  // 501 is "not available" (no CreatePartitions, no registry configured): a refusal, not an outage.
  if (e.status >= 500 && e.status !== 501) return 'down';
  return 'refused';
}
