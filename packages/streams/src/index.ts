// The public surface of @samsa/streams.
export { StreamsBuilder, InternalBuilder } from './dsl/builder.js';
export type { Consumed, Materialized, StreamsBuilderOptions } from './dsl/builder.js';
export { KStream, BranchedKStream, GlobalKTable } from './dsl/kstream.js';
export type { Named, Produced, Repartitioned, ValueJoiner } from './dsl/kstream.js';
export { KTable, Suppressed, timestamped } from './dsl/ktable.js';
export type { ValueGetterSupplier } from './dsl/ktable.js';
export { KGroupedStream, TimeWindowedKStream, SessionWindowedKStream } from './dsl/grouped.js';
export type { Aggregator, Grouped, Initializer, Merger, Reducer } from './dsl/grouped.js';
export { JoinError } from './dsl/joins.js';
export type { StreamJoined } from './dsl/joins.js';
export { JoinWindows, SessionWindows, SlidingWindows, TimeWindows, WindowsError } from './dsl/windows.js';
export type { Cancellable, Processor, ProcessorContext, ProcessorSupplier, Punctuator, PunctuationType } from './processor.js';
export type { Change, Headers, RecordMetadata, StreamRecord, Window, Windowed } from './record.js';
export { SerializationError, streamsSerdes } from './serdes.js';
export { InvalidStateStoreError, KeyValueStore, SessionStore, Stores, WindowStore } from './stores.js';
export { PersistentKeyValueStore, persistentKeyValueStore } from './persistentStore.js';
export type {
  ChangelogWriter,
  KeyValue,
  SessionStoreOptions,
  StateStore,
  StoreBuilder,
  StoreKind,
  WindowStoreEntry,
  WindowStoreOptions,
} from './stores.js';
export { StreamTask, StreamsError } from './task.js';
export type { DeserializationHandler, RecordCollector, TaskConfig } from './task.js';
export { TestInputTopic, TestOutputTopic, TopologyTestDriver } from './testDriver.js';
export type { TestDriverOptions, TestRecord } from './testDriver.js';
export { Topology, TopologyError } from './topology.js';
export type {
  GlobalStoreDef,
  InternalTopicDef,
  ProcessorNode,
  SinkNode,
  SourceNode,
  StreamPartitioner,
  SubTopology,
  TopicNameExtractor,
  TopologyNode,
} from './topology.js';
export { SamsaStreams } from './runtime/samsaStreams.js';
export type { ProcessingGuarantee, StreamsConfig, StreamsState, TaskCommitter } from './runtime/samsaStreams.js';
export { EosCommitMachine } from './runtime/eosMachine.js';
export type { EosErrorKind, EosEvent, EosPhase, EosStep } from './runtime/eosMachine.js';
export { CopartitionError, placeTasks, streamsAssignor, tasksFor } from './runtime/assignor.js';
export type { SubTopologySources, TaskSpec } from './runtime/assignor.js';
export { planInternalTopics } from './runtime/internalTopics.js';
export type { InternalTopicPlan, PlannedTopic } from './runtime/internalTopics.js';
export { ProducerCollector } from './runtime/collector.js';
export type { CollectorProducer, ProductionHandler } from './runtime/collector.js';
