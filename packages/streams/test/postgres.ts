/**
 * A throwaway PostgreSQL cluster for oracle tests: Debian's server binaries
 * (/usr/lib/postgresql/<ver>/bin, installed by scripts/ci-deps.sh), initdb + pg_ctl in a temp dir,
 * listening on a free 127.0.0.1 port only. Postgres refuses to run as root, so under root the
 * cluster runs as the `postgres` user over a temp dir chowned to it. `stop()` always runs.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Postgres {
  port: number;
  /** Run SQL (a script; may contain COPY ... FROM STDIN data) and return psql's unaligned output rows. */
  query(sql: string): string[];
  stop(): void;
}

function binDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/ci-deps.sh');
  versions.sort((a, b) => Number(b) - Number(a));
  return join(base, versions[0]!, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<Postgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'samsa-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[], input?: string): string => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    return execFileSync(file, argv, {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  let started = false;
  const stop = (): void => {
    if (started) {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop']);
      } catch {
        // already down
      }
      started = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    started = true;
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  } catch (err) {
    stop();
    throw err;
  }
  return {
    port,
    query(sql) {
      const out = run(
        'psql',
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          'postgres',
          '-d',
          'postgres',
          '-X',
          '-q',
          '-A',
          '-t',
          '-F',
          '|',
          '-v',
          'ON_ERROR_STOP=1',
          '-f',
          '-',
        ],
        sql,
      );
      return out.split('\n').filter((l) => l.length > 0);
    },
    stop,
  };
}
