/**
 * The real transport: a grpc-js client for service samsa.v1.Samsa at one address, created on the
 * first request and reused (HTTP/2 multiplexes concurrent requests over its one channel). Produce
 * and Fetch, the hot paths, are pipelined over one long-lived stream each (ProduceStream and
 * FetchStream, proto/samsa/v1/pipeline.proto), falling back to the unary methods against a broker
 * without them; the rest are unary calls. Every call carries a deadline; gRPC failures are mapped
 * to typed client errors.
 */
import { CHANNEL_OPTIONS, ERROR_CODE_METADATA_KEY, ErrorCode, PipelinedClient, clientProto, grpc, replicationProto } from '@samsa/protocol';
import type { ReplicationClient, SamsaClient } from '@samsa/protocol';
import { InvalidRequestError, MessageTooLargeError, SamsaConnectionError, UnknownServerError, errorFromCode } from '../errors.js';
import {
  type ConnectionSecurity,
  SaslSession,
  type SaslRpc,
  channelCredentials,
  saslExchange,
  securityChannelOptions,
} from './security.js';
import type { SamsaError } from '../errors.js';
import type { BrokerConnection, ConnectionFactory, RequestOptions } from './connection.js';
import type {
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  FetchRequest,
  FetchResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
  ListPartitionReassignmentsRequest,
  ListPartitionReassignmentsResponse,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  DescribeAclsRequest,
  DescribeAclsResponse,
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
  ListTransactionsRequest,
  ListTransactionsResponse,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  EndTxnRequest,
  EndTxnResponse,
  DescribeProducersRequest,
  DescribeProducersResponse,
  WriteTxnMarkersRequest,
  WriteTxnMarkersResponse,
} from '../wire.js';

type Method =
  | 'Metadata'
  | 'CreateTopics'
  | 'DeleteTopics'
  | 'CreatePartitions'
  | 'AlterPartitionReassignments'
  | 'ListPartitionReassignments'
  | 'DeleteRecords'
  | 'Produce'
  | 'Fetch'
  | 'ListOffsets'
  | 'OffsetForLeaderEpoch'
  | 'IncrementalAlterConfigs'
  | 'DescribeConfigs'
  | 'ElectLeaders'
  | 'InitProducerId'
  | 'ListTransactions'
  | 'DescribeTransactions'
  | 'AddPartitionsToTxn'
  | 'AddOffsetsToTxn'
  | 'EndTxn'
  | 'DescribeProducers'
  | 'DescribeAcls'
  | 'CreateAcls'
  | 'DeleteAcls';
type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: Callback<Res>,
) => grpc.ClientUnaryCall;

export interface GrpcConnectionOptions {
  /** Default deadline of a request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Sent as the `x-client-id` header and in the user agent. */
  clientId?: string;
  /** Merged over CHANNEL_OPTIONS. */
  channelOptions?: grpc.ChannelOptions;
  /** TLS and SASL (security.ts); default plaintext, unauthenticated. */
  security?: ConnectionSecurity;
}

export class GrpcConnection implements BrokerConnection {
  /** One channel (one HTTP/2 connection) for both services: a SASL session belongs to the connection. */
  private channel: grpc.Channel | undefined;
  private client: SamsaClient | undefined;
  private replication: ReplicationClient | undefined;
  private produces: PipelinedClient<ProduceRequest, ProduceResponse> | undefined;
  private fetches: PipelinedClient<FetchRequest, FetchResponse> | undefined;
  /** The broker answered UNIMPLEMENTED to a stream: unary calls from now on. */
  private unaryOnly = false;
  private readonly requestTimeoutMs: number;
  private readonly metadataHeaders: grpc.Metadata;
  private readonly sasl: SaslSession | undefined;

  constructor(
    readonly address: string,
    private readonly options: GrpcConnectionOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.metadataHeaders = new grpc.Metadata();
    if (options.clientId) this.metadataHeaders.set('x-client-id', options.clientId);
    const sasl = options.security?.sasl;
    if (sasl) {
      this.sasl = new SaslSession(
        () => {
          const at = { address: this.address, timeoutMs: this.requestTimeoutMs };
          return saslExchange(samsaSaslRpc(this.grpcClient(), this.metadataHeaders, at), sasl, this.address);
        },
        // A failed exchange leaves the broker's session FAILED: the next try needs a new connection.
        () => this.close(),
      );
    }
  }

  metadata(request: MetadataRequest, options?: RequestOptions): Promise<MetadataResponse> {
    return this.call('Metadata', request, options);
  }
  createTopics(request: CreateTopicsRequest, options?: RequestOptions): Promise<CreateTopicsResponse> {
    return this.call('CreateTopics', request, options);
  }
  deleteTopics(request: DeleteTopicsRequest, options?: RequestOptions): Promise<DeleteTopicsResponse> {
    return this.call('DeleteTopics', request, options);
  }
  createPartitions(request: CreatePartitionsRequest, options?: RequestOptions): Promise<CreatePartitionsResponse> {
    return this.call('CreatePartitions', request, options);
  }
  alterPartitionReassignments(
    request: AlterPartitionReassignmentsRequest,
    options?: RequestOptions,
  ): Promise<AlterPartitionReassignmentsResponse> {
    return this.call('AlterPartitionReassignments', request, options);
  }
  listPartitionReassignments(
    request: ListPartitionReassignmentsRequest,
    options?: RequestOptions,
  ): Promise<ListPartitionReassignmentsResponse> {
    return this.call('ListPartitionReassignments', request, options);
  }
  deleteRecords(request: DeleteRecordsRequest, options?: RequestOptions): Promise<DeleteRecordsResponse> {
    return this.call('DeleteRecords', request, options);
  }
  produce(request: ProduceRequest, options?: RequestOptions): Promise<ProduceResponse> {
    if (this.sasl) return this.sasl.run(() => this.produceNow(request, options));
    return this.produceNow(request, options);
  }
  private produceNow(request: ProduceRequest, options?: RequestOptions): Promise<ProduceResponse> {
    if (this.unaryOnly) return this.call('Produce', request, options);
    this.produces ??= new PipelinedClient(() => this.grpcClient().ProduceStream(this.metadataHeaders), 'client.Produce');
    return this.pipelined(this.produces, 'Produce', request, options);
  }
  fetch(request: FetchRequest, options?: RequestOptions): Promise<FetchResponse> {
    if (this.sasl) return this.sasl.run(() => this.fetchNow(request, options));
    return this.fetchNow(request, options);
  }
  private fetchNow(request: FetchRequest, options?: RequestOptions): Promise<FetchResponse> {
    if (this.unaryOnly) return this.call('Fetch', request, options);
    this.fetches ??= new PipelinedClient(() => this.grpcClient().FetchStream(this.metadataHeaders), 'client.Fetch');
    return this.pipelined(this.fetches, 'Fetch', request, options);
  }
  listOffsets(request: ListOffsetsRequest, options?: RequestOptions): Promise<ListOffsetsResponse> {
    return this.call('ListOffsets', request, options);
  }

  offsetForLeaderEpoch(request: OffsetForLeaderEpochRequest, options?: RequestOptions): Promise<OffsetForLeaderEpochResponse> {
    return this.call('OffsetForLeaderEpoch', request, options);
  }
  incrementalAlterConfigs(request: IncrementalAlterConfigsRequest, options?: RequestOptions): Promise<IncrementalAlterConfigsResponse> {
    return this.call('IncrementalAlterConfigs', request, options);
  }
  describeConfigs(request: DescribeConfigsRequest, options?: RequestOptions): Promise<DescribeConfigsResponse> {
    return this.call('DescribeConfigs', request, options);
  }
  electLeaders(request: ElectLeadersRequest, options?: RequestOptions): Promise<ElectLeadersResponse> {
    return this.call('ElectLeaders', request, options);
  }

  initProducerId(request: InitProducerIdRequest, options?: RequestOptions): Promise<InitProducerIdResponse> {
    return this.call('InitProducerId', request, options);
  }

  describeAcls(request: DescribeAclsRequest, options?: RequestOptions): Promise<DescribeAclsResponse> {
    return this.call('DescribeAcls', request, options);
  }
  createAcls(request: CreateAclsRequest, options?: RequestOptions): Promise<CreateAclsResponse> {
    return this.call('CreateAcls', request, options);
  }
  deleteAcls(request: DeleteAclsRequest, options?: RequestOptions): Promise<DeleteAclsResponse> {
    return this.call('DeleteAcls', request, options);
  }

  listTransactions(request: ListTransactionsRequest, options?: RequestOptions): Promise<ListTransactionsResponse> {
    return this.call('ListTransactions', request, options);
  }
  describeTransactions(request: DescribeTransactionsRequest, options?: RequestOptions): Promise<DescribeTransactionsResponse> {
    return this.call('DescribeTransactions', request, options);
  }

  addPartitionsToTxn(request: AddPartitionsToTxnRequest, options?: RequestOptions): Promise<AddPartitionsToTxnResponse> {
    return this.call('AddPartitionsToTxn', request, options);
  }
  addOffsetsToTxn(request: AddOffsetsToTxnRequest, options?: RequestOptions): Promise<AddOffsetsToTxnResponse> {
    return this.call('AddOffsetsToTxn', request, options);
  }
  endTxn(request: EndTxnRequest, options?: RequestOptions): Promise<EndTxnResponse> {
    return this.call('EndTxn', request, options);
  }
  describeProducers(request: DescribeProducersRequest, options?: RequestOptions): Promise<DescribeProducersResponse> {
    return this.call('DescribeProducers', request, options);
  }
  writeTxnMarkers(request: WriteTxnMarkersRequest, options?: RequestOptions): Promise<WriteTxnMarkersResponse> {
    if (options?.signal?.aborted) return Promise.reject(options.signal.reason);
    if (this.sasl) return this.sasl.run(() => this.writeTxnMarkersNow(request, options));
    return this.writeTxnMarkersNow(request, options);
  }
  private writeTxnMarkersNow(request: WriteTxnMarkersRequest, options?: RequestOptions): Promise<WriteTxnMarkersResponse> {
    // The Replication service listens on the same address, on the same connection; its client is made on first use.
    this.replication ??= new (replicationProto().samsa.v1.Replication)(this.address, grpc.credentials.createInsecure(), {
      channelOverride: this.grpcChannel(),
    });
    const client = this.replication;
    return unaryCall(
      (client.WriteTxnMarkers as unknown as UnaryMethod<WriteTxnMarkersRequest, WriteTxnMarkersResponse>).bind(client),
      request,
      this.metadataHeaders,
      { address: this.address, method: 'WriteTxnMarkers', timeoutMs: options?.timeoutMs ?? this.requestTimeoutMs, signal: options?.signal },
    );
  }

  /**
   * Closes the connection; a later call opens a new one (that is how a failed SASL exchange starts
   * over). Calls nothing on `this`: the instrumented proxy would count a helper as a request.
   */
  close(): void {
    this.produces?.close();
    this.fetches?.close();
    this.produces = undefined;
    this.fetches = undefined;
    this.client = undefined;
    this.replication = undefined;
    this.channel?.close();
    this.channel = undefined;
  }

  private grpcChannel(): grpc.Channel {
    if (!this.channel) {
      const security = this.options.security ?? {};
      const channelOptions: grpc.ChannelOptions = {
        ...CHANNEL_OPTIONS,
        ...this.options.channelOptions,
        ...securityChannelOptions(security),
      };
      if (this.options.clientId) channelOptions['grpc.primary_user_agent'] = `samsa-client/${this.options.clientId}`;
      this.channel = new grpc.Channel(this.address, channelCredentials(security.ssl), channelOptions);
    }
    return this.channel;
  }

  private async pipelined<Req, Res>(
    pipe: PipelinedClient<Req, Res>,
    method: 'Produce' | 'Fetch',
    request: Req,
    options: RequestOptions = {},
  ): Promise<Res> {
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    try {
      return await pipe.call(request, { timeoutMs, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const e = error as grpc.ServiceError;
      if (e.code === grpc.status.UNIMPLEMENTED) {
        // A broker from before the streams: nothing was done; unary from now on.
        this.unaryOnly = true;
        return this.call(method, request, options);
      }
      throw errorFromGrpc(e, this.address, method, timeoutMs);
    }
  }

  private grpcClient(): SamsaClient {
    if (!this.client) {
      const Samsa = clientProto().samsa.v1.Samsa;
      this.client = new Samsa(this.address, grpc.credentials.createInsecure(), { channelOverride: this.grpcChannel() });
    }
    return this.client;
  }

  private call<Req, Res>(method: Method, request: Req, options: RequestOptions = {}): Promise<Res> {
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (this.sasl) return this.sasl.run(() => this.callNow(method, request, options));
    return this.callNow(method, request, options);
  }

  private callNow<Req, Res>(method: Method, request: Req, options: RequestOptions): Promise<Res> {
    const client = this.grpcClient();
    return unaryCall((client[method] as unknown as UnaryMethod<Req, Res>).bind(client), request, this.metadataHeaders, {
      address: this.address,
      method,
      timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
      signal: options.signal,
    });
  }
}

/** A Samsa service client's two SASL calls, as saslExchange makes them (one per connection). */
export function samsaSaslRpc(client: SamsaClient, metadata: grpc.Metadata, at: { address: string; timeoutMs: number }): SaslRpc {
  return {
    handshake: (mechanism) =>
      unaryCall(client.SaslHandshake.bind(client) as never, { mechanism }, metadata, { ...at, method: 'SaslHandshake' }),
    authenticate: (authBytes) =>
      unaryCall(client.SaslAuthenticate.bind(client) as never, { authBytes }, metadata, { ...at, method: 'SaslAuthenticate' }),
  };
}

/**
 * One unary gRPC call with a deadline, cancelled when `signal` aborts (rejecting with its reason);
 * other failures become the client's typed errors (errorFromGrpc). Shared by every connection.
 */
export function unaryCall<Req, Res>(
  fn: UnaryMethod<Req, Res>,
  request: Req,
  metadata: grpc.Metadata,
  at: { address: string; method: string; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<Res> {
  const { signal, timeoutMs } = at;
  return new Promise<Res>((resolve, reject) => {
    let onAbort: (() => void) | undefined;
    const call = fn(request, metadata, { deadline: Date.now() + timeoutMs }, (error, value) => {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
      if (error) reject(signal?.aborted ? signal.reason : errorFromGrpc(error, at.address, at.method, timeoutMs));
      else resolve(value as Res);
    });
    if (signal) {
      onAbort = () => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

/** A ConnectionFactory making GrpcConnections with shared options. */
export function grpcConnectionFactory(options: GrpcConnectionOptions = {}): ConnectionFactory {
  return (address) => new GrpcConnection(address, options);
}

/**
 * Maps a failed gRPC call onto the client's typed errors. Transport trouble (unreachable, dropped,
 * deadline) becomes a retriable SamsaConnectionError; the rest are not retried.
 */
export function errorFromGrpc(error: grpc.ServiceError, address: string, method: string, timeoutMs?: number): SamsaError {
  const context = { cause: error, address, grpcCode: error.code };
  const what = `${method} to ${address}`;
  switch (error.code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.CANCELLED:
    case grpc.status.ABORTED:
      return new SamsaConnectionError(`${what} failed: ${error.details || 'broker unavailable'}`, {
        ...context,
        code: ErrorCode.NETWORK_EXCEPTION,
      });
    case grpc.status.DEADLINE_EXCEEDED:
      return new SamsaConnectionError(`${what} timed out${timeoutMs === undefined ? '' : ` after ${timeoutMs} ms`}`, {
        ...context,
        code: ErrorCode.REQUEST_TIMED_OUT,
      });
    case grpc.status.RESOURCE_EXHAUSTED:
      // grpc-js reports oversized messages (max_send/receive_message_length) this way.
      return new MessageTooLargeError(`${what} failed: ${error.details}`, { cause: error });
    case grpc.status.UNAUTHENTICATED: {
      // A SASL listener's refusal: the error table's code rides in the trailers (ILLEGAL_SASL_STATE
      // before authentication, SASL_AUTHENTICATION_FAILED after a failed one).
      const code = Number(error.metadata?.get(ERROR_CODE_METADATA_KEY)?.[0] ?? ErrorCode.SASL_AUTHENTICATION_FAILED);
      return errorFromCode(code, `${what} was refused: ${error.details}`, error);
    }
    case grpc.status.INVALID_ARGUMENT:
      return new InvalidRequestError(`${what} was refused: ${error.details}`, { cause: error });
    case grpc.status.UNIMPLEMENTED:
      // Typically a controller's port given as a broker's: say so instead of "method not implemented".
      return new InvalidRequestError(
        `${address} does not serve ${method} of Samsa's client API (is it a controller's port, or not a Samsa broker?); ` +
          "connect to a broker's address",
        { cause: error },
      );
    default:
      return new UnknownServerError(`${what} failed: ${grpc.status[error.code] ?? error.code} ${error.details ?? ''}`.trim(), {
        cause: error,
      });
  }
}
