import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
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
  /** The watchdog that stops the server if this process dies without calling `stop`. */
  watchdogPid: number | undefined;
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

/**
 * Whether `pid` is a redis-server serving `dir`: its command is redis-server and its working
 * directory is `dir` (redis-server changes into its `--dir`). A reused pid never matches.
 */
export function isOurRedis(pid: number, dir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.startsWith('redis-server') && readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dir);
  } catch {
    return false;
  }
}

/**
 * The URL of the private redis-server a running `serve` or `worker` owns under `dir`, read from its
 * pid file and command line (for `onbehalf status` on the same host), or undefined when none runs.
 */
export function runningPrivateRedisUrl(dir: string): string | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, 'redis.owner.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1 || !isOurRedis(pid, dir)) return undefined;
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const port = Number(args[args.indexOf('--port') + 1]);
    return Number.isInteger(port) && port > 0 ? `redis://127.0.0.1:${port}` : undefined;
  } catch {
    return undefined;
  }
}

const gone = (pid: number) => {
  try {
    globalThis.process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

/**
 * Stops a redis-server left behind by an earlier owner of the same directory that died without
 * stopping it (SIGKILL, a crash), and waits until it is gone so its port and AOF are free.
 */
async function reapStale(pidFile: string, dir: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 1 && isOurRedis(pid, dir)) {
    globalThis.process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (!gone(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (!gone(pid) && isOurRedis(pid, dir)) globalThis.process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
}

/**
 * A `sh` that waits on a pipe from this process and stops the redis-server when the pipe closes,
 * which happens however this process ends (SIGKILL included). It checks the pid is still our
 * redis-server for `dir` before signalling it.
 */
function watchdog(pid: number, dir: string): ChildProcess {
  const script = 'read _; [ "$(readlink /proc/$1/cwd 2>/dev/null)" = "$2" ] && kill -TERM "$1" 2>/dev/null; exit 0';
  const dog = spawn('sh', ['-c', script, 'onbehalf-redis-watchdog', String(pid), realpathSync(dir)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  dog.on('error', () => undefined);
  dog.stdin?.on('error', () => undefined);
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return dog;
}

/** redis-server's command line: loopback only, AOF every second, no eviction, logs under `dir`. */
function serverArgs(port: number, dir: string): string[] {
  return [
    ['--port', String(port)],
    ['--bind', '127.0.0.1'],
    ['--protected-mode', 'yes'],
    ['--dir', dir],
    ['--appendonly', 'yes'],
    ['--appendfsync', 'everysec'],
    ['--appenddirname', 'appendonly'],
    ['--save', ''],
    ['--maxmemory-policy', 'noeviction'],
    ['--daemonize', 'no'],
    ['--loglevel', 'warning'],
    ['--logfile', path.join(dir, 'redis.log')],
  ].flat();
}

/**
 * Starts a private redis-server on loopback with AOF (`appendonly yes`, `appendfsync everysec`)
 * and `maxmemory-policy noeviction`, data under `dir`.
 */
export async function startPrivateRedis(opts: PrivateRedisOptions): Promise<PrivateRedis> {
  const binary = opts.binary ?? 'redis-server';
  mkdirSync(opts.dir, { recursive: true });
  const pidFile = path.join(opts.dir, 'redis.owner.pid');
  await reapStale(pidFile, opts.dir);
  const port = opts.port ?? (await freePort());
  const args = serverArgs(port, opts.dir);
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
  const dog = watchdog(pid, opts.dir);
  let exited = false;
  const exitedP = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  while (!(await ping(port))) {
    if (exited) {
      dog.kill('SIGKILL');
      throw new RedisStartError(`redis-server exited at start; see ${path.join(opts.dir, 'redis.log')}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      dog.kill('SIGKILL');
      throw new RedisStartError(
        `redis-server did not answer on port ${port} within ${opts.startTimeoutMs ?? 10_000} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid,
    watchdogPid: dog.pid,
    async stop() {
      dog.kill('SIGKILL');
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
