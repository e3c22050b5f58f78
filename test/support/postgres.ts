// A private Postgres server for one test file: `initdb` + `pg_ctl` in a temp dir, on a free
// loopback port, with no Unix socket. Run as the `postgres` OS user when the tests run as root
// (Postgres refuses to run as root). Stopped by its own postmaster PID, never by name.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/redis/index.js';
import { tempDir } from './env.js';

const run = promisify(execFile);

/** A running private Postgres server. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/onbehalf` (trust auth, loopback only). */
  url: string;
  /** The URL of another database on the same server, created on demand by `createDatabase`. */
  urlOf(database: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  port: number;
  /** The temp directory holding the data directory and the server log. */
  dir: string;
  /** PID of the postmaster. */
  pid: number;
  /** Stops the server (pg_ctl stop, then SIGKILL of the postmaster PID) and removes its directory. */
  stop(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: Debian's /usr/lib/postgresql/<newest>/bin. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(
      'no Postgres server found under /usr/lib/postgresql/*/bin (install: sudo apt-get install postgresql)',
    );
  return path.join(root, versions[0]!, 'bin');
}

/** uid/gid of the `postgres` OS user when we are root (Postgres refuses root); otherwise ourselves. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

/** Starts a private Postgres server with an empty `onbehalf` database. Stop it in afterAll. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const { dir, cleanup } = tempDir('onbehalf-pg-');
  const data = path.join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  const user = await runAs();
  if (user) for (const p of [dir, data]) chownSync(p, user.uid, user.gid);
  const as = { ...user, cwd: dir };
  const pgCtl = path.join(bin, 'pg_ctl');
  let pid = 0;
  try {
    await run(
      path.join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--no-locale'],
      as,
    );
    const port = await freePort();
    const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c full_page_writes=off`;
    await run(pgCtl, ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start'], as);
    pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const urlOf = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
    const createDatabase = async (name: string) => {
      await run(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name], as);
      return urlOf(name);
    };
    const url = await createDatabase('onbehalf');
    return {
      url,
      urlOf,
      createDatabase,
      port,
      dir,
      pid,
      async stop() {
        await run(pgCtl, ['-D', data, '-m', 'fast', '-w', '-t', '20', 'stop'], as).catch(() => killPid(pid));
        cleanup();
      },
    };
  } catch (err) {
    if (pid) killPid(pid);
    const log = path.join(dir, 'server.log');
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    cleanup();
    throw new Error(`private Postgres did not start: ${(err as Error).message}\n${tail}`);
  }
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
