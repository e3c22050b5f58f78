import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { RedisStartError } from './errors.js';

/** Options for `startPrivateRedis`. */
export interface PrivateRedisOptions {
  /** Directory for the AOF and pid file. */
  dir: string;
  /** redis-server binary. Default `redis-server` from PATH. */
  binary?: string;
  /** Port; default a free loopback port. */
  port?: number;
  /** How long to wait for the server to accept connections. Default 10000 ms. */
  startTimeoutMs?: number;
}

/** A redis-server this process started and owns. */
export interface PrivateRedis {
  url: string;
  port: number;
  pid: number;
  /** Stops the server by its own PID (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port }, () => sock.write('PING\r\n'));
    sock.setTimeout(500);
    sock.on('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      sock.destroy();
    });
    sock.on('error', () => resolve(false));
    sock.on('timeout', () => {
      resolve(false);
      sock.destroy();
    });
  });
}

/** Kills a redis-server left behind by a crashed earlier run that used the same directory. */
function reapStale(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 1) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('redis-server')) globalThis.process.kill(pid, 'SIGTERM');
    } catch {
      /* not running */
    }
  }
  rmSync(pidFile, { force: true });
}

/**
 * Starts a private redis-server on loopback with AOF (`appendonly yes`, `appendfsync everysec`)
 * and `maxmemory-policy noeviction`, data under `dir`.
 */
export async function startPrivateRedis(opts: PrivateRedisOptions): Promise<PrivateRedis> {
  const binary = opts.binary ?? 'redis-server';
  mkdirSync(opts.dir, { recursive: true });
  const pidFile = path.join(opts.dir, 'redis.owner.pid');
  reapStale(pidFile);
  const port = opts.port ?? (await freePort());
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes',
    '--dir', opts.dir, '--appendonly', 'yes', '--appendfsync', 'everysec',
    '--appenddirname', 'appendonly', '--save', '', '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no', '--loglevel', 'warning', '--logfile', path.join(opts.dir, 'redis.log'),
  ];
  const child: ChildProcess = spawn(binary, args, { stdio: 'ignore', detached: false });
  const pid = child.pid;
  if (!pid) {
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    throw new RedisStartError(
      err.code === 'ENOENT'
        ? `${binary} was not found on PATH: install it (sudo apt-get install redis-server) or set REDIS_URL=redis://host:6379`
        : `${binary} could not be started (${err.code ?? err.message})`,
    );
  }
  writeFileSync(pidFile, String(pid));
  let exited = false;
  const exitedP = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  while (!(await ping(port))) {
    if (exited) throw new RedisStartError(`redis-server exited at start; see ${path.join(opts.dir, 'redis.log')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new RedisStartError(`redis-server did not answer on port ${port} within ${opts.startTimeoutMs ?? 10_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitedP;
        clearTimeout(timer);
      }
      rmSync(pidFile, { force: true });
    },
  };
}
