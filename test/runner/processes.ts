import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import type { TestApp } from '../support/app.js';
import { childEnv } from '../support/cli.js';

const script = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

/** A worker process (the real app in `worker` mode) sharing the test's SQLite file and Redis. */
export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Stops it by its own pid: SIGTERM (graceful), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** The environment of a worker process sharing `t`'s database, Redis and keys, writing its notices to `noticeFile`. */
export function workerEnvOf(
  t: TestApp,
  noticeFile: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const { app } = t;
  return {
    REDIS_URL: app.redisUrl,
    DATABASE_URL: app.config.postgresUrl ?? `file:${app.config.databasePath}`,
    ONBEHALF_KEYS: app.config.keys!.join(','),
    ONBEHALF_DATA_DIR: t.dataDir,
    PUBLIC_URL: app.config.publicUrl,
    ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
    NOTICE_FILE: noticeFile,
    ...extra,
  };
}

/** Starts one worker process; resolves once its workers are listening. */
export function startWorker(env: Record<string, string>, timeoutMs = 30_000): Promise<WorkerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: childEnv({ NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker not ready in time:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d;
      if (/worker ready/.test(out)) {
        clearTimeout(timer);
        resolve({
          child,
          exited,
          output: () => out,
          async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(t);
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`worker exited before ready:\n${out}`));
    });
  });
}

/** The JSON-line notices worker processes wrote. */
export function readNotices(file: string): {
  kind: string;
  callId: string;
  outcome?: { kind: string; text?: string };
  text?: string;
  reason?: string;
  pid: number;
  target: { userId: string };
}[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
}

/** Waits (`vi.waitFor`, every 50 ms) until `check` returns true, or fails naming `what` after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: ms, interval: 50 },
  );
}
