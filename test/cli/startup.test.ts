import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/env.js';
import { alive, runCli, startCli } from '../support/cli.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../src/redis/index.js';
import { CLI_COMMANDS, readmeRow } from '../../src/cli-usage.js';

const ready = /"port":(\d+),"publicUrl"/;
const redisPidIn = (out: string) => Number(out.match(/"pid":(\d+),"msg":"started private redis-server"/)?.[1] ?? 0);

// Everything a test starts, stopped by its own pid afterwards whatever the outcome.
const children: ChildProcess[] = [];
const pids: number[] = [];
const redises: PrivateRedis[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const r of redises.splice(0)) await r.stop();
  for (const c of cleanups.splice(0)) c();
});

function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

async function serve(cwd: string, env: Record<string, string> = {}) {
  const run = await startCli(['serve'], { cwd, env: { PORT: '0', ...env }, ready, timeoutMs: 30_000 });
  children.push(run.child);
  const redisPid = redisPidIn(run.output());
  if (redisPid) pids.push(redisPid);
  return { ...run, port: Number(run.match[1]), redisPid };
}

describe('--help', () => {
  const cases = [[], ['help'], ...CLI_COMMANDS.filter((c) => c.name !== 'help').map((c) => c.name.split(' '))];
  it.each(cases.map((words) => [words.join(' ') || '(top level)', words]))(
    'onbehalf %s --help prints its usage and does nothing else',
    async (_label, words) => {
      const cwd = dir();
      const port = await freePort();
      const r = await runCli([...(words as string[]), '--help'], { cwd, env: { PORT: String(port) } });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const name = (words as string[]).filter((w) => w !== 'help').join(' ');
      const c = CLI_COMMANDS.find((x) => x.name === name);
      expect(r.stdout.split('\n')[0]).toBe(
        c ? `Usage: onbehalf ${c.name}${c.args ? ' ' + c.args : ''}` : 'Usage: onbehalf <command> [options]',
      );
      // Nothing started: no data directory (no key, no database, no migration, no redis-server).
      expect(readdirSync(cwd)).toEqual([]);
    },
  );

  it('the top-level usage lists every command, and README shows each row from the same table', async () => {
    const r = await runCli(['--help'], { cwd: dir() });
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    for (const c of CLI_COMMANDS) {
      expect(r.stdout).toContain(`  ${c.name}${c.args ? ' ' + c.args : ''} `);
      expect(readme).toContain(readmeRow(c));
    }
  });
});

describe('one data directory, one process', () => {
  it('a second serve on the same data directory says who holds it, touches nothing, and exits 2', async () => {
    const cwd = dir();
    const first = await serve(cwd);
    expect(first.redisPid).toBeGreaterThan(0);
    const lock = readFileSync(path.join(cwd, 'data', 'onbehalf.lock'), 'utf8');
    expect(lock.split('\n')[0]).toBe(String(first.child.pid));

    const second = await runCli(['serve'], { cwd, env: { PORT: '0' } });
    expect(second.code).toBe(2);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `onbehalf: the data directory ${path.join(cwd, 'data')} is in use by process ${first.child.pid} (onbehalf serve): stop that process, or set ONBEHALF_DATA_DIR to another directory`,
    );
    expect(second.stdout).not.toMatch(/started private redis-server/);
    // The first one is untouched: its redis-server, its lock, its readiness.
    expect(alive(first.redisPid)).toBe(true);
    expect(readFileSync(path.join(cwd, 'data', 'onbehalf.lock'), 'utf8')).toBe(lock);
    expect((await fetch(`http://127.0.0.1:${first.port}/readyz`)).status).toBe(200);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.output().trim().split('\n').at(-1)).toMatch(/"signal":"SIGINT","msg":"onbehalf stopped"/);
    expect(existsSync(path.join(cwd, 'data', 'onbehalf.lock'))).toBe(false);
    expect(alive(first.redisPid)).toBe(false);
  });

  it(
    'after a SIGKILLed serve, the next start takes over its lock and its redis-server is gone',
    { timeout: 90_000 },
    async () => {
      const cwd = dir();
      const first = await serve(cwd);
      first.child.kill('SIGKILL');
      await first.exited;
      const again = await serve(cwd);
      expect(again.redisPid).not.toBe(first.redisPid);
      await vi.waitFor(() => expect(alive(first.redisPid)).toBe(false), { timeout: 10_000 });
      expect(readFileSync(path.join(cwd, 'data', 'onbehalf.lock'), 'utf8').split('\n')[0]).toBe(
        String(again.child.pid),
      );
      expect((await fetch(`http://127.0.0.1:${again.port}/readyz`)).status).toBe(200);
      again.child.kill('SIGINT');
      expect(await again.exited).toBe(0);
      expect(alive(again.redisPid)).toBe(false);
    },
  );

  it('a port in use is one line naming PORT, exit 2, and leaves no redis-server or lock behind', async () => {
    const cwd = dir();
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '0.0.0.0', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['serve'], { cwd, env: { PORT: String(port) } });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `onbehalf: port ${port} is already in use (PORT=${port}): stop the process listening there, or set PORT to a free port\n`,
      );
      const redisPid = redisPidIn(r.stdout);
      expect(redisPid).toBeGreaterThan(0);
      pids.push(redisPid);
      await vi.waitFor(() => expect(alive(redisPid)).toBe(false), { timeout: 10_000 });
      expect(existsSync(path.join(cwd, 'data', 'onbehalf.lock'))).toBe(false);
    } finally {
      taken.close();
    }
  });
});

describe('npm start', () => {
  /** `npm start` in its own process group on a fresh data directory; `onOutput` sees all it printed so far. */
  const npmStart = async (onOutput: (out: string, group: number) => void) => {
    const cwd = dir();
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    const { spawn } = await import('node:child_process');
    const npm = spawn('npm', ['start'], {
      cwd: repo,
      detached: true,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        PORT: '0',
        ONBEHALF_DATA_DIR: path.join(cwd, 'data'),
      },
    });
    children.push(npm);
    const run = {
      out: '',
      pid: npm.pid!,
      exited: new Promise<number | null>((r) => npm.on('exit', (code) => r(code))),
    };
    const seen = (d: Buffer) => {
      run.out += d;
      onOutput(run.out, npm.pid!);
    };
    npm.stdout.on('data', seen);
    npm.stderr.on('data', seen);
    return run;
  };

  it(
    'Ctrl-C (SIGINT to the whole process group, as a terminal sends it) ends with a stopped line and exit 0, no npm error',
    { timeout: 60_000 },
    async () => {
      const run = await npmStart(() => undefined);
      await vi.waitFor(() => expect(run.out).toMatch(/"msg":"onbehalf is listening"/), {
        timeout: 45_000,
        interval: 100,
      });
      const redisPid = redisPidIn(run.out);
      pids.push(redisPid);
      process.kill(-run.pid, 'SIGINT');
      expect(await run.exited).toBe(0);
      expect(run.out.trim().split('\n').at(-1)).toMatch(/"signal":"SIGINT","msg":"onbehalf stopped"/);
      expect(run.out).not.toMatch(/npm error|ERR!/);
      expect(alive(redisPid)).toBe(false);
    },
  );

  it(
    'Ctrl-C as soon as its private Redis is up (still starting): it finishes starting, stops cleanly, exit 0, its Redis gone',
    { timeout: 60_000 },
    async () => {
      let sent = false;
      // The first moment of start-up it can be seen in: before its workers and HTTP are up.
      const run = await npmStart((out, group) => {
        if (sent || !/"msg":"started private redis-server"/.test(out)) return;
        sent = true;
        process.kill(-group, 'SIGINT');
      });
      const code = await run.exited;
      expect(sent).toBe(true);
      expect(code).toBe(0);
      expect(run.out.trim().split('\n').at(-1)).toMatch(/"signal":"SIGINT","msg":"onbehalf stopped"/);
      const redisPid = redisPidIn(run.out);
      pids.push(redisPid);
      expect(alive(redisPid)).toBe(false);
    },
  );
});

describe('REDIS_URL unreachable', () => {
  it('HTTP opens at once, /readyz is 503 naming redis, one masked log line, and it recovers when Redis appears', async () => {
    const cwd = dir();
    const port = await freePort();
    const run = await serve(cwd, { REDIS_URL: `redis://:hunter2secret@127.0.0.1:${port}` });
    const res = await fetch(`http://127.0.0.1:${run.port}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ok: false, checks: { redis: 'unavailable', database: 'ok' } });
    await vi.waitFor(() =>
      expect(run.output()).toContain(
        `cannot reach Redis at REDIS_URL=redis://:***@127.0.0.1:${port} — connect ECONNREFUSED 127.0.0.1:${port}`,
      ),
    );

    const redis = await startPrivateRedis({ dir: path.join(cwd, 'redis'), port });
    redises.push(redis);
    await vi.waitFor(async () => expect((await fetch(`http://127.0.0.1:${run.port}/readyz`)).status).toBe(200), {
      timeout: 15_000,
      interval: 200,
    });
    await vi.waitFor(() => expect(run.output()).toMatch(/"msg":"tool workers started"/), { timeout: 15_000 });
    const out = run.output();
    expect(out).toContain(`Redis at REDIS_URL=redis://:***@127.0.0.1:${port} is reachable again`);
    expect(out.match(/cannot reach Redis/g)).toHaveLength(1);
    expect(out).not.toContain('hunter2secret');
    expect(out).not.toMatch(/CONFIG GET refused|queue connection error|worker error|redis connection error/);

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  });
});
