import { describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/env.js';
import { alive, runCli, startCli } from '../support/cli.js';

async function serveAndStop(signal: 'SIGINT' | 'SIGTERM') {
  const { dir, cleanup } = tempDir();
  let child: import('node:child_process').ChildProcess | undefined;
  let redisPid = 0;
  let workerPids: number[] = [];
  try {
    // No environment beyond PATH and HOME: the embedded defaults (SQLite under ./data, private redis).
    const run = await startCli(['serve'], { cwd: dir, env: { PORT: '0' }, ready: /"port":(\d+),"publicUrl"/ });
    child = run.child;
    const port = Number(run.match[1]);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(existsSync(path.join(dir, 'data', 'onbehalf.db'))).toBe(true);
    redisPid = Number(run.output().match(/"pid":(\d+),"msg":"started private redis-server"/)![1]);
    expect(readFileSync(`/proc/${redisPid}/cmdline`, 'utf8')).toMatch(/^redis-server/);
    // Tool calls run in a worker process serve supervises (ONBEHALF_WORKERS, default 1), on the same Redis.
    workerPids = JSON.parse(run.output().match(/"pids":(\[[\d,]*\]),"msg":"tool worker processes started"/)![1]!);
    expect(workerPids).toHaveLength(1);
    expect(readFileSync(`/proc/${workerPids[0]}/cmdline`, 'utf8')).toMatch(/onbehalf\.js\0worker/);
    run.child.kill(signal);
    expect(await run.exited).toBe(0);
    expect(alive(redisPid)).toBe(false);
    for (const pid of workerPids) expect(alive(pid)).toBe(false);
    return run.output();
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (redisPid && alive(redisPid)) process.kill(redisPid, 'SIGKILL');
    for (const pid of workerPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    cleanup();
  }
}

describe('onbehalf serve', () => {
  it('starts on embedded defaults with one worker process, answers /healthz and /readyz, and Ctrl-C exits 0 leaving no redis-server or worker', async () => {
    const out = await serveAndStop('SIGINT');
    expect(out).toMatch(/ONBEHALF_KEYS is not set: using a development sealing key/);
  });

  it('SIGTERM also exits 0 and stops the private redis-server', async () => {
    await serveAndStop('SIGTERM');
  });

  it('a worker process of a serve that was SIGKILLed (no signal reaches it) stops on its own', async () => {
    const { dir, cleanup } = tempDir();
    const run = await startCli(['serve'], {
      cwd: dir,
      env: { PORT: '0' },
      ready: /"pids":\[(\d+)\],"msg":"tool worker processes started"/,
    });
    const worker = Number(run.match[1]);
    try {
      // Killed at once, maybe before the worker has even finished starting.
      run.child.kill('SIGKILL');
      await run.exited;
      await vi.waitFor(() => expect(alive(worker)).toBe(false), { timeout: 60_000, interval: 200 });
    } finally {
      if (alive(worker)) process.kill(worker, 'SIGKILL');
      cleanup();
    }
  }, 90_000);

  it('refuses to start in production without keys', async () => {
    const { dir, cleanup } = tempDir();
    const r = await runCli(['serve'], {
      cwd: dir,
      env: { NODE_ENV: 'production', PUBLIC_URL: 'https://ob.example.com' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^onbehalf: ONBEHALF_KEYS is required when NODE_ENV=production/);
    cleanup();
  });

  it('generates the development key once, mode 0600, and reuses it', async () => {
    const { dir, cleanup } = tempDir();
    await runCli(['keys', 'rotate'], { cwd: dir });
    const file = path.join(dir, 'data', 'dev.key');
    const { statSync } = await import('node:fs');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const first = readFileSync(file, 'utf8');
    const again = await runCli(['keys', 'rotate'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(first);
    expect(again.stdout + again.stderr).not.toContain(first.trim().split(':')[1]);
    cleanup();
  });

  it('unknown commands and unbuilt ones exit 2 with a clear line', async () => {
    const { dir, cleanup } = tempDir();
    const r = await runCli(['frobnicate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/unknown command "frobnicate"/);
    cleanup();
  });
});
