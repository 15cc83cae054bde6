/**
 * `samsa quorum --describe` (kafka-metadata-quorum describe --status / --replication): the
 * controller quorum's leader, epoch and high watermark, and per voter its log end offset and lag.
 * Asks a broker (--bootstrap-server, which forwards to the active controller) or a controller
 * directly (--bootstrap-controller).
 */
import { CHANNEL_OPTIONS, clientProto, controllerProto, errorInfo, grpc, type DescribeQuorumResponse__Output } from '@samsa/protocol';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseBootstrap } from '../options.js';
import { formatTable } from '../cluster/table.js';

interface QuorumOptions {
  describe?: boolean;
  bootstrapServer?: string;
  bootstrapController?: string;
}

type DescribeClient = grpc.Client & {
  DescribeQuorum(
    req: object,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: DescribeQuorumResponse__Output) => void,
  ): void;
};

export async function describeAt(address: string, viaController: boolean, timeoutMs = 5_000): Promise<DescribeQuorumResponse__Output> {
  const Ctor = viaController ? controllerProto().samsa.v1.Controller : clientProto().samsa.v1.Samsa;
  const client = new Ctor(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as DescribeClient;
  try {
    return await new Promise((resolve, reject) =>
      client.DescribeQuorum({}, { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(new Error(`${address}: ${err.details || err.message}`)) : resolve(res!),
      ),
    );
  } finally {
    client.close();
  }
}

export function registerQuorum(program: Command): void {
  program
    .command('quorum')
    .description('describe the controller quorum (kafka-metadata-quorum)')
    .option('--describe', "print the leader, epoch, high watermark and each voter's log end offset and lag")
    .option('--bootstrap-server <host:port>', 'a broker to ask (it forwards to the active controller)')
    .option('--bootstrap-controller <host:port>', 'a controller to ask directly')
    .action(async (opts: QuorumOptions) => {
      if (!opts.describe) throw new UsageError('--describe is required');
      if (!opts.bootstrapServer === !opts.bootstrapController)
        throw new UsageError('give exactly one of --bootstrap-server or --bootstrap-controller');
      const viaController = Boolean(opts.bootstrapController);
      const addresses = parseBootstrap(opts.bootstrapController ?? opts.bootstrapServer);
      let answer: DescribeQuorumResponse__Output | undefined;
      let lastError: unknown;
      for (const address of addresses) {
        try {
          const res = await describeAt(address, viaController);
          if (res.errorCode === 0) {
            answer = res;
            break;
          }
          lastError = new Error(`${errorInfo(res.errorCode).name}: ${res.errorMessage || errorInfo(res.errorCode).message}`);
        } catch (err) {
          lastError = err;
        }
      }
      if (!answer) throw lastError instanceof Error ? lastError : new Error(String(lastError));
      process.stdout.write(
        `LeaderId:       ${answer.leaderId}\nLeaderEpoch:    ${answer.leaderEpoch}\nHighWatermark:  ${answer.highWatermark}\n`,
      );
      process.stdout.write(`CurrentVoters:  [${answer.voters.map((v) => v.voterId).join(',')}]\n\n`);
      process.stdout.write(
        formatTable([
          ['NodeId', 'LogEndOffset', 'Lag', 'Status'],
          ...answer.voters.map((v) => [String(v.voterId), v.logEndOffset, v.lag, v.voterId === answer!.leaderId ? 'Leader' : 'Follower']),
        ]),
      );
    });
}
