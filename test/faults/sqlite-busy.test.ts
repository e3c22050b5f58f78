import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../support/cli.js';
import { tempDir } from '../support/env.js';
import { queuesIdle } from '../support/queues.js';
import { startTestRedis } from '../support/redis.js';
import type { ShellSession } from '../support/shell.js';
import { faultBed, until, type FaultBed } from './bed.js';

const locker = fileURLToPath(new URL('./fixtures/sqlite-locker.ts', import.meta.url));

/** Starts a process that holds the database's write lock for `holdMs`; resolves once it holds it. */
function holdWriteLock(dbFile: string, holdMs: number): Promise<{ released: Promise<number | null>; pid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', locker], {
    env: childEnv({ DB_FILE: dbFile, HOLD_MS: String(holdMs) }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const released = new Promise<number | null>((r) => child.once('exit', r));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => /locked/.test(String(d)) && resolve({ released, pid: child.pid! }));
    child.once('exit', (code) => reject(new Error(`locker exited (${code}) before taking the lock`)));
  });
}

describe('SQLite busy: another process holds a long write transaction', () => {
  const tmp = tempDir('onbehalf-drill-sqlite-');
  const dbFile = path.join(tmp.dir, 'onbehalf.db');
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let bed: FaultBed;
  let alice: ShellSession;

  beforeAll(async () => {
    redis = await startTestRedis();
    bed = await faultBed(
      { REDIS_URL: redis.url, DATABASE_URL: `file:${dbFile}` },
      { world: { servers: [{ name: 'web' }], shell: true } },
    );
    alice = bed.world.as('alice');
    expect(await alice.send('/onbehalf run web.echo {"text":"before"}')).toMatch(/Running `web\.echo` as you/);
  });

  afterAll(async () => {
    await bed?.stop();
    await redis?.stop();
    tmp.cleanup();
  });

  const answered = (text: string) => bed.notifier.notices.some((n) => n.kind === 'outcome' && n.text.includes(text));
  const waitAnswered = (text: string, ms: number) => until(() => answered(text), ms, `an outcome containing ${text}`);

  it('a lock shorter than the busy timeout (5 s): the command waits, is accepted, and its result arrives', async () => {
    await waitAnswered('before', 10_000);
    const lock = await holdWriteLock(dbFile, 2500);
    const t0 = Date.now();
    const out = await alice.send('/onbehalf run web.echo {"text":"waited"}', 15_000);
    const took = Date.now() - t0;
    expect(out).toMatch(/Running `web\.echo` as you/);
    expect(took).toBeGreaterThan(1000);
    expect(took).toBeLessThan(5000);
    expect(await lock.released).toBe(0);
    await waitAnswered('waited', 15_000);
  });

  it('a lock longer than the busy timeout: the command fails after ~5 s with a clear line, nothing crashes, and it works once released', async () => {
    const lock = await holdWriteLock(dbFile, 8000);
    const t0 = Date.now();
    const out = await alice.send('/onbehalf run web.echo {"text":"refused"}', 15_000);
    const took = Date.now() - t0;
    expect(out).toMatch(/^onbehalf: that did not work \(database is locked\)\. Try again\.$/);
    expect(took).toBeGreaterThan(4500);
    expect(took).toBeLessThan(7500);
    expect(await lock.released).toBe(0);
    // Still serving, and the refused command left nothing behind that could run later.
    expect((await fetch(`${bed.t.baseUrl}/healthz`)).status).toBe(200);
    expect(await alice.send('/onbehalf run web.echo {"text":"after"}')).toMatch(/Running `web\.echo` as you/);
    await waitAnswered('after', 15_000);
    await queuesIdle(redis.url, 500);
    expect(answered('refused')).toBe(false);
    expect((await bed.rows()).filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(bed.t.logs.lines.filter((l) => /unhandled|uncaught/i.test(l))).toEqual([]);
  });

  it('nothing is corrupted: PRAGMA integrity_check is ok', () => {
    const check = new Database(dbFile, { readonly: true });
    try {
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      check.close();
    }
  });
});
