import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/app-process.ts', import.meta.url));

/** Event-loop delay of a product process, in ms. */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/** A product process (worker or serve) the bench started; stopped by its own pid. */
export interface ProductProcess {
  child: ChildProcess;
  pid: number;
  /** The HTTP port of a `serve` process (null for a worker). */
  port: number | null;
  /** Called for every outcome the process's workers report (callId, kind, wall-clock ms). */
  onDone(fn: (d: { callId: string; kind: string; at: number }) => void): void;
  /** Called as the process's workers are about to send a call to its server (callId, wall-clock ms). */
  onStarted(fn: (d: { callId: string; at: number }) => void): void;
  /** RSS and heap in bytes after a full GC inside the process. */
  memory(): Promise<{ rss: number; heapUsed: number; gc: boolean }>;
  /** How late the process's event loop ran (p50, p99, max in ms) since the last call. */
  loopDelay(): Promise<LoopDelay>;
  /** CPU time (user + system, µs) the process has used since it started. */
  cpu(): Promise<number>;
  /** Confirms a user's held grant in this process, as their answer in chat does; resolves with whether one was held. */
  confirmHeld(orgId: string, userId: string, provider: string): Promise<boolean>;
  /** SIGTERM (graceful), SIGKILL after `graceMs` (default 10000). */
  stop(graceMs?: number): Promise<void>;
}

/** Starts one product process sharing `env` (REDIS_URL, DATABASE_URL, keys …); resolves once it is ready. */
export function startProductProcess(
  env: Record<string, string>,
  o: { mode: 'worker' | 'serve'; prefix: string; concurrency: number; timeoutMs?: number; cpuProfDir?: string },
): Promise<ProductProcess> {
  const child = fork(script, [], {
    execArgv: [
      '--expose-gc',
      ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : []),
      '--import',
      'tsx',
    ],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
      BENCH_MODE: o.mode,
      BENCH_PREFIX: o.prefix,
      BENCH_CONCURRENCY: String(o.concurrency),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const listeners: ((d: { callId: string; kind: string; at: number }) => void)[] = [];
  const starts: ((d: { callId: string; at: number }) => void)[] = [];
  let memWaiter: ((m: { rss: number; heapUsed: number; gc: boolean }) => void) | undefined;
  let loopWaiter: ((m: LoopDelay) => void) | undefined;
  let cpuWaiter: ((us: number) => void) | undefined;
  const confirmed = new Map<string, (ok: boolean) => void>();
  child.on(
    'message',
    (m: {
      t: string;
      callId: string;
      kind: string;
      at: number;
      rss: number;
      heapUsed: number;
      gc: boolean;
      user: number;
      system: number;
      userId: string;
      ok: boolean;
    }) => {
      if (m.t === 'done') for (const l of listeners) l(m);
      else if (m.t === 'cpu') cpuWaiter?.(m.user + m.system);
      else if (m.t === 'confirmed') confirmed.get(m.userId)?.(m.ok);
      else if (m.t === 'started') for (const l of starts) l(m);
      else if (m.t === 'mem') memWaiter?.(m);
      else if (m.t === 'loop') loopWaiter?.(m as unknown as LoopDelay);
    },
  );
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${o.mode} process not ready in time:\n${out}`));
    }, o.timeoutMs ?? 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${o.mode} process exited (${code}) before ready:\n${out}`));
    });
    child.on('message', (m: { t: string; port?: number | null }) => {
      if (m.t !== 'ready') return;
      clearTimeout(timer);
      resolve({
        child,
        pid: child.pid!,
        port: m.port ?? null,
        stop,
        onDone: (fn) => void listeners.push(fn),
        onStarted: (fn) => void starts.push(fn),
        memory: () =>
          new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error('no memory answer')), 10_000);
            memWaiter = (m) => {
              clearTimeout(t);
              memWaiter = undefined;
              res(m);
            };
            child.send({ t: 'mem' });
          }),
        loopDelay: () =>
          new Promise((res) => {
            loopWaiter = (m) => {
              loopWaiter = undefined;
              res(m);
            };
            child.send({ t: 'loop' });
          }),
        cpu: () =>
          new Promise((res) => {
            cpuWaiter = (us) => {
              cpuWaiter = undefined;
              res(us);
            };
            child.send({ t: 'cpu' });
          }),
        confirmHeld: (orgId, userId, provider) =>
          new Promise((res) => {
            confirmed.set(userId, (ok) => {
              confirmed.delete(userId);
              res(ok);
            });
            child.send({ t: 'confirm', orgId, userId, provider });
          }),
      });
    });
  });
}
