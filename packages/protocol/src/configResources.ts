/**
 * The codes DescribeConfigs and IncrementalAlterConfigs carry on the wire, defined once for the
 * client, the CLI, brokers and controllers: Kafka's ConfigResource.Type and AlterConfigOp.OpType.
 */

/** Kafka's ConfigResource.Type values Samsa serves. */
export const ConfigResource = {
  TOPIC: 2,
  BROKER: 4,
} as const;

/** Kafka's AlterConfigOp.OpType values Samsa serves (APPEND 2 and SUBTRACT 3 are refused). */
export const ConfigOperation = {
  SET: 0,
  DELETE: 1,
} as const;

/** The resource kind a ConfigResource.Type code names, or undefined for one Samsa does not serve. */
export function configResourceKind(code: number): 'topic' | 'broker' | undefined {
  return code === ConfigResource.TOPIC ? 'topic' : code === ConfigResource.BROKER ? 'broker' : undefined;
}
