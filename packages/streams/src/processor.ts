/**
 * The Processor API (Kafka's `org.apache.kafka.streams.processor.api`: `Processor`,
 * `ProcessorContext`, `Punctuator`, `PunctuationType`). A processor sees one typed record at a time
 * and forwards to its children synchronously; time reaches it only through its context.
 */
import type { RecordMetadata, StreamRecord } from './record.js';

export type PunctuationType = 'STREAM_TIME' | 'WALL_CLOCK_TIME';

export type Punctuator = (timestamp: number) => void;

export interface Cancellable {
  cancel(): void;
}

export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  readonly applicationId: string;
  /** `<subTopology>_<partition>`. */
  readonly taskId: string;
  /** Send a record to every child, or to the child named `childName`. */
  forward<K extends KOut, V extends VOut>(record: StreamRecord<K, V>, childName?: string): void;
  /** A store attached to this processor, or a global store. */
  getStateStore<S>(name: string): S;
  /**
   * Call `punctuator` every `intervalMs` of stream time (when processing moves stream time past the
   * next due time) or of wall-clock time (from the injected clock).
   */
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable;
  /** Where the record being processed came from; null inside a punctuator. */
  recordMetadata(): RecordMetadata | null;
  currentStreamTimeMs(): number;
  currentSystemTimeMs(): number;
  /** Count a record this processor drops (late, null key, ...): Kafka's dropped-records sensor. */
  recordDropped(reason: string): void;
}

export interface Processor<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> {
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: StreamRecord<KIn, VIn>): void;
  close?(): void;
}

export type ProcessorSupplier<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> = () => Processor<KIn, VIn, KOut, VOut>;
