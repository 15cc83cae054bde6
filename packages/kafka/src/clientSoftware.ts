/**
 * KIP-511: from ApiVersions v3 a client names its software; Kafka's ApiVersionsRequest.isValid
 * accepts a name and a version made of letters, digits, '-' and '.', starting and ending with a
 * letter or digit, and the broker answers anything else with INVALID_REQUEST (42).
 */
const SOFTWARE_FIELD = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export function isValidClientSoftware(name: string, version: string): boolean {
  return SOFTWARE_FIELD.test(name) && SOFTWARE_FIELD.test(version);
}
