/**
 * `samsa connectors` over a Connect worker's REST API (what people do with curl against Kafka
 * Connect): --list, --create (from a properties or JSON file), --status, --pause, --resume,
 * --restart, --delete. A REST error prints its message and exits non-zero.
 */
import { readFileSync } from 'node:fs';
import { parseProperties } from '@samsa/connect';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface ConnectorsOptions {
  url: string;
  list?: boolean;
  create?: string;
  status?: string;
  pause?: string;
  resume?: string;
  restart?: string;
  delete?: string;
}

class RestError extends Error {
  override name = 'ConnectRestError';
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${url.replace(/\/$/, '')}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const json: unknown = text === '' ? undefined : JSON.parse(text);
  if (!res.ok) throw new RestError(`${res.status}: ${(json as { message?: string } | undefined)?.message ?? text}`);
  return json;
}

export function registerConnectors(program: Command): void {
  program
    .command('connectors')
    .description("manage connectors through a Connect worker's REST API")
    .option('--url <url>', "the worker's REST address", 'http://127.0.0.1:8083')
    .option('--list', 'connector names with their states')
    .option('--create <file>', 'create a connector from a .properties file (with name=) or a {name, config} JSON file')
    .option('--status <name>', "the connector's and its tasks' states")
    .option('--pause <name>', 'pause a connector')
    .option('--resume <name>', 'resume a connector')
    .option('--restart <name>', 'restart a connector and its failed tasks')
    .option('--delete <name>', 'delete a connector')
    .action(async (opts: ConnectorsOptions) => {
      const chosen = [opts.list, opts.create, opts.status, opts.pause, opts.resume, opts.restart, opts.delete].filter(
        (x) => x !== undefined,
      );
      if (chosen.length !== 1)
        throw new UsageError('give exactly one of --list, --create, --status, --pause, --resume, --restart, --delete');
      if (opts.list) {
        const all = (await call(opts.url, 'GET', '/connectors?expand=status')) as Record<
          string,
          { status: { connector: { state: string }; tasks: unknown[]; type: string } }
        >;
        for (const [name, { status }] of Object.entries(all)) {
          process.stdout.write(`${name}\t${status.type}\t${status.connector.state}\ttasks=${status.tasks.length}\n`);
        }
      } else if (opts.create) {
        const text = readFileSync(opts.create, 'utf8');
        const body = opts.create.endsWith('.json')
          ? (JSON.parse(text) as { name: string; config: Record<string, string> })
          : (() => {
              const config = parseProperties(text);
              if (!config.name) throw new UsageError(`${opts.create} has no name=`);
              return { name: config.name, config };
            })();
        await call(opts.url, 'POST', '/connectors', body);
        process.stdout.write(`Created connector ${body.name}.\n`);
      } else if (opts.status) {
        process.stdout.write(
          `${JSON.stringify(await call(opts.url, 'GET', `/connectors/${encodeURIComponent(opts.status)}/status`), null, 2)}\n`,
        );
      } else if (opts.pause || opts.resume) {
        const name = (opts.pause ?? opts.resume)!;
        await call(opts.url, 'PUT', `/connectors/${encodeURIComponent(name)}/${opts.pause ? 'pause' : 'resume'}`);
        process.stdout.write(`${opts.pause ? 'Paused' : 'Resumed'} connector ${name}.\n`);
      } else if (opts.restart) {
        await call(opts.url, 'POST', `/connectors/${encodeURIComponent(opts.restart)}/restart?includeTasks=true&onlyFailed=true`);
        process.stdout.write(`Restarted connector ${opts.restart}.\n`);
      } else if (opts.delete) {
        await call(opts.url, 'DELETE', `/connectors/${encodeURIComponent(opts.delete)}`);
        process.stdout.write(`Deleted connector ${opts.delete}.\n`);
      }
    });
}
