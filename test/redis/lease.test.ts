import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/log.js';
import { ingressConnection, RedisLease, waitReady } from '../../src/redis/index.js';
import { LogCapture } from '../support/logs.js';
import { startTestRedis } from '../support/redis.js';

const FAST = { ttlMs: 600, renewMs: 150, retryMs: 100 };

describe('a lease in Redis: one holder among processes', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  const conns: Redis[] = [];
  const log = createLogger('warn', new LogCapture());
  let n = 0;
  /** The most holders ever running at once. */
  let most = 0;
  /** The fail-fast connection a `serve` process has, once it answers. */
  const conn = async () => {
    const c = ingressConnection(redis.url);
    conns.push(c);
    await waitReady(c);
    return c;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    await redis?.stop();
  });

  /** A holder whose work is a flag: how many of them run at once is what the lease must keep to one. */
  const contender = async (key: string, running: Set<string>, name: string) => {
    const lease = new RedisLease(await conn(), key, log, FAST);
    const starts: number[] = [];
    const holder = {
      onHeld: async () => {
        running.add(name);
        starts.push(Date.now());
        most = Math.max(most, running.size);
      },
      onLost: async () => void running.delete(name),
    };
    return { lease, starts, start: () => lease.start(holder) };
  };

  it('two contenders: one runs; stopped, it hands over at once; never both at the same moment', async () => {
    const key = `test:lease:${++n}`;
    const running = new Set<string>();
    most = 0;
    const a = await contender(key, running, 'a');
    const b = await contender(key, running, 'b');
    await a.start();
    await b.start();
    expect([...running]).toEqual(['a']);
    await a.lease.stop();
    await vi.waitFor(() => expect([...running]).toEqual(['b']), { timeout: 2000, interval: 10 });
    await b.lease.stop();
    expect(most).toBe(1);
    expect(await (await conn()).exists(key)).toBe(0);
  });

  it('a holder that stops renewing (as if killed) is replaced once its lease expires, not before', async () => {
    const key = `test:lease:${++n}`;
    const running = new Set<string>();
    const dead = new Redis(redis.url);
    conns.push(dead);
    expect(await dead.set(key, 'a-dead-holder', 'PX', FAST.ttlMs, 'NX')).toBe('OK');
    const takenAt = Date.now();
    const b = await contender(key, running, 'b');
    await b.start();
    expect(running.size).toBe(0);
    await vi.waitFor(() => expect([...running]).toEqual(['b']), { timeout: 3000, interval: 10 });
    expect(b.starts[0]! - takenAt).toBeGreaterThanOrEqual(FAST.ttlMs - 20);
    await b.lease.stop();
  });

  it('a holder whose lease was taken over stops its work, and its stop does not free the new holder’s lease', async () => {
    const key = `test:lease:${++n}`;
    const running = new Set<string>();
    const a = await contender(key, running, 'a');
    await a.start();
    // Another owner now (as after a partition outlasted the lease): a's next renewal finds it.
    await (await conn()).set(key, 'someone-else', 'PX', 10_000);
    await vi.waitFor(() => expect(running.has('a')).toBe(false), { timeout: 2000, interval: 10 });
    await a.lease.stop();
    expect(await (await conn()).get(key)).toBe('someone-else');
  });

  it('a holder that cannot reach Redis stops its work before its lease could expire', async () => {
    const key = `test:lease:${++n}`;
    const running = new Set<string>();
    const own = await conn();
    const lease = new RedisLease(own, key, log, FAST);
    let stoppedAt = 0;
    await lease.start({
      onHeld: async () => void running.add('a'),
      onLost: async () => {
        running.delete('a');
        stoppedAt = Date.now();
      },
    });
    const pttl = await (await conn()).pttl(key);
    const expiresAt = Date.now() + pttl;
    own.disconnect(); // its renewals fail from now on; the key lives out its TTL
    await vi.waitFor(() => expect(running.size).toBe(0), { timeout: 3000, interval: 10 });
    expect(stoppedAt).toBeLessThan(expiresAt);
    await lease.stop();
  });
});
