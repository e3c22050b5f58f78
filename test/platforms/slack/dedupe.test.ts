import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RecentEvents } from '../../../src/platforms/slack/dedupe.js';
import { ingressConnection, waitReady } from '../../../src/redis/index.js';
import { startTestRedis } from '../../support/redis.js';

describe('Slack retries deduplicated across replicas sharing Redis', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  const conns: Redis[] = [];
  let n = 0;
  /** One replica's deduper, on its own connection to the shared Redis. */
  const replica = async () => {
    const c = ingressConnection(redis.url);
    conns.push(c);
    await waitReady(c);
    return new RecentEvents({ redis: c, pollMs: 10 });
  };

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    await redis?.stop();
  });

  it('a first delivery that failed on one replica is run by the retry on another; after that, never again', async () => {
    const [a, b] = [await replica(), await replica()];
    const id = `T1:Ev${++n}`;
    const runs: string[] = [];
    await expect(
      a.once(id, async () => {
        runs.push('a');
        throw new Error('Redis is unavailable');
      }),
    ).rejects.toThrow('unavailable');
    expect(await b.once(id, async () => void runs.push('b'))).toBe(true);
    expect(await a.once(id, async () => void runs.push('a again'))).toBe(false);
    expect(runs).toEqual(['a', 'b']);
  });

  it('a retry while the first delivery is still running on another replica waits for it, and does not run', async () => {
    const [a, b] = [await replica(), await replica()];
    const id = `T1:Ev${++n}`;
    const order: string[] = [];
    let finish!: () => void;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const first = a.once(id, () => new Promise<void>((r) => ((finish = r), started()))).then((ran) => ran);
    await running;
    let released = false;
    const retry = b
      .once(id, async () => void order.push('retry ran'))
      .then((ran) => (order.push(released ? 'retry answered after the first' : 'retry answered early'), ran));
    setImmediate(() => ((released = true), finish()));
    expect(await retry).toBe(false);
    expect(await first).toBe(true);
    // The retry answered only after the first delivery was accepted: had it failed, the retry would have run it.
    expect(order).toEqual(['retry answered after the first']);
  });
});
