import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startPrivateRedis, RedisStartError } from '../../src/redis/index.js';
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
    expect((err as Error).message).toMatch(/not found on PATH: install it \(sudo apt-get install redis-server\) or set REDIS_URL=/);
    expect((err as Error).message).not.toContain('\n');
    cleanup();
  });

  it('keeps data across a restart (AOF)', async () => {
    const { dir, cleanup } = tempDir();
    const first = await startPrivateRedis({ dir });
    const c = new Redis(first.url);
    await c.set('k', 'survives');
    await c.bgrewriteaof(); // force the AOF to disk rather than waiting for everysec
    await new Promise((r) => setTimeout(r, 1200));
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
