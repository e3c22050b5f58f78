import { describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startPrivateRedis, RedisStartError } from '../../src/redis/index.js';
import { isOurRedis } from '../../src/redis/private.js';
import { tempDir } from '../support/env.js';
import { alive } from '../support/cli.js';

describe('private redis-server', () => {
  it('runs on loopback with AOF and noeviction, and is gone after stop', async () => {
    const { dir, cleanup } = tempDir();
    const r = await startPrivateRedis({ dir: path.join(dir, 'redis') });
    try {
      expect(r.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      const c = new Redis(r.url);
      expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await c.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
      expect(await c.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await c.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      c.disconnect();
    } finally {
      await r.stop();
    }
    expect(alive(r.pid)).toBe(false);
    cleanup();
  });

  it('a missing binary is one line saying how to install it or set REDIS_URL', async () => {
    const { dir, cleanup } = tempDir();
    const err = await startPrivateRedis({ dir, binary: 'redis-server-not-installed' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisStartError);
    expect((err as Error).message).toMatch(
      /not found on PATH: install it \(sudo apt-get install redis-server\) or set REDIS_URL=/,
    );
    expect((err as Error).message).not.toContain('\n');
    cleanup();
  });

  it('keeps data across a restart (AOF)', async () => {
    const { dir, cleanup } = tempDir();
    const first = await startPrivateRedis({ dir });
    const c = new Redis(first.url);
    await c.set('k', 'survives');
    await c.bgrewriteaof(); // force the AOF to disk rather than waiting for everysec
    await vi.waitFor(
      async () => {
        const info = await c.info('persistence');
        expect(info).toMatch(/aof_rewrite_in_progress:0/);
        expect(info).toMatch(/aof_rewrite_scheduled:0/);
        expect(info).toMatch(/aof_rewrites:[1-9]/);
      },
      { timeout: 10_000, interval: 50 },
    );
    c.disconnect();
    await first.stop();
    const second = await startPrivateRedis({ dir, port: first.port });
    const c2 = new Redis(second.url);
    expect(await c2.get('k')).toBe('survives');
    c2.disconnect();
    await second.stop();
    cleanup();
  });
});

describe('a private redis-server never outlives its owner', () => {
  it('is stopped by its watchdog when the owning process is SIGKILLed', async () => {
    const { dir, cleanup } = tempDir();
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const mod = fileURLToPath(new URL('../../src/redis/index.ts', import.meta.url));
    const script = `const { startPrivateRedis } = await import(${JSON.stringify(mod)}); const r = await startPrivateRedis({ dir: ${JSON.stringify(dir)} }); console.log('pid=' + r.pid); setInterval(() => {}, 1000);`;
    const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    owner.stdout.on('data', (d) => (out += d));
    try {
      await vi.waitFor(() => expect(out).toMatch(/pid=\d+/), { timeout: 20_000 });
      const pid = Number(out.match(/pid=(\d+)/)![1]);
      expect(alive(pid)).toBe(true);
      owner.kill('SIGKILL');
      await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 10_000 });
    } finally {
      if (owner.exitCode === null) owner.kill('SIGKILL');
      cleanup();
    }
  });

  it('one left behind (owner and watchdog gone) is reaped by the next start on the same directory', async () => {
    const { dir, cleanup } = tempDir();
    const first = await startPrivateRedis({ dir });
    process.kill(first.watchdogPid!, 'SIGKILL'); // as if the owner died with its watchdog
    await vi.waitFor(() => expect(alive(first.watchdogPid!)).toBe(false));
    expect(alive(first.pid)).toBe(true);
    const second = await startPrivateRedis({ dir });
    try {
      await vi.waitFor(() => expect(alive(first.pid)).toBe(false));
      expect(second.pid).not.toBe(first.pid);
    } finally {
      await second.stop();
      if (alive(first.pid)) process.kill(first.pid, 'SIGKILL');
      cleanup();
    }
  });

  it('a pid file naming some other process is not signalled', async () => {
    const { dir, cleanup } = tempDir();
    const { spawn } = await import('node:child_process');
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    writeFileSync(path.join(dir, 'redis.owner.pid'), String(other.pid));
    expect(isOurRedis(other.pid!, dir)).toBe(false);
    const r = await startPrivateRedis({ dir });
    try {
      expect(alive(other.pid!)).toBe(true);
      expect(isOurRedis(r.pid, dir)).toBe(true);
    } finally {
      await r.stop();
      other.kill('SIGKILL');
      cleanup();
    }
  });
});
