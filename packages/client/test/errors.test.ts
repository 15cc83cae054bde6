import { ErrorCode, grpc } from '@samsa/protocol';
import { describe, expect, it } from 'vitest';
import {
  CorruptMessageError,
  MessageTooLargeError,
  NotLeaderOrFollowerError,
  OffsetOutOfRangeError,
  SamsaAggregateError,
  SamsaConnectionError,
  SamsaError,
  TopicAlreadyExistsError,
  UnknownTopicOrPartitionError,
  errorFromCode,
  errorFromGrpc,
  isRetriable,
  needsMetadataRefresh,
} from '../src/index.js';

describe('errorFromCode', () => {
  it('picks the dedicated class and carries code, table name, retriable and cause', () => {
    const cause = new Error('root');
    const e = errorFromCode(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'broker 2 is not the leader', cause, { topic: 't', partition: 3 });
    expect(e).toBeInstanceOf(NotLeaderOrFollowerError);
    expect(e).toBeInstanceOf(SamsaError);
    expect(e.name).toBe('NotLeaderOrFollowerError');
    expect(e.errorName).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(e.code).toBe(6);
    expect(e.retriable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.message).toBe('broker 2 is not the leader');
    expect([e.topic, e.partition]).toEqual(['t', 3]);
  });

  it('falls back to the table message and to SamsaError for codes without a class', () => {
    expect(errorFromCode(ErrorCode.OFFSET_OUT_OF_RANGE).message).toMatch(/not within the range/);
    expect(errorFromCode(ErrorCode.OFFSET_OUT_OF_RANGE)).toBeInstanceOf(OffsetOutOfRangeError);
    expect(errorFromCode(ErrorCode.TOPIC_ALREADY_EXISTS, '')).toBeInstanceOf(TopicAlreadyExistsError);
    const other = errorFromCode(ErrorCode.GROUP_ID_NOT_FOUND, 'no group');
    expect(other.constructor).toBe(SamsaError);
    expect(other.errorName).toBe('GROUP_ID_NOT_FOUND');
    const unknown = errorFromCode(4242, 'odd');
    expect(unknown.code).toBe(4242);
    expect(unknown.retriable).toBe(false);
  });

  it('marks retriable and metadata-staling errors', () => {
    expect(isRetriable(new MessageTooLargeError())).toBe(false);
    expect(isRetriable(new UnknownTopicOrPartitionError())).toBe(true);
    expect(isRetriable(new Error('plain'))).toBe(false);
    expect(needsMetadataRefresh(new NotLeaderOrFollowerError())).toBe(true);
    expect(needsMetadataRefresh(new SamsaConnectionError('down'))).toBe(true);
    expect(needsMetadataRefresh(new CorruptMessageError())).toBe(false);
  });

  it('aggregates several failures, each still typed', () => {
    const agg = new SamsaAggregateError([
      new TopicAlreadyExistsError('a exists', { topic: 'a' }),
      new UnknownTopicOrPartitionError('b', { topic: 'b' }),
    ]);
    expect(agg).toBeInstanceOf(SamsaError);
    expect(agg.errors.map((e) => e.topic)).toEqual(['a', 'b']);
    expect(agg.code).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    expect(agg.retriable).toBe(false);
  });
});

describe('errorFromGrpc', () => {
  const grpcError = (code: number, details: string): grpc.ServiceError =>
    Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });

  it('maps transport failures to retriable SamsaConnectionError with the gRPC error as cause', () => {
    const unavailable = grpcError(grpc.status.UNAVAILABLE, 'connect ECONNREFUSED');
    const e = errorFromGrpc(unavailable, 'h:1', 'Produce');
    expect(e).toBeInstanceOf(SamsaConnectionError);
    expect(e.errorName).toBe('NETWORK_EXCEPTION');
    expect(e.retriable).toBe(true);
    expect(e.cause).toBe(unavailable);
    expect((e as SamsaConnectionError).address).toBe('h:1');

    const timeout = errorFromGrpc(grpcError(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'), 'h:1', 'Fetch', 500);
    expect(timeout).toBeInstanceOf(SamsaConnectionError);
    expect(timeout.errorName).toBe('REQUEST_TIMED_OUT');
    expect(timeout.message).toMatch(/500 ms/);
  });

  it('maps oversized messages and refusals to non-retriable errors', () => {
    expect(errorFromGrpc(grpcError(grpc.status.RESOURCE_EXHAUSTED, 'too big'), 'h:1', 'Produce')).toBeInstanceOf(MessageTooLargeError);
    const refused = errorFromGrpc(grpcError(grpc.status.UNIMPLEMENTED, 'no such method'), 'h:1', 'Produce');
    expect(refused.retriable).toBe(false);
    expect(refused.errorName).toBe('INVALID_REQUEST');
  });
});
