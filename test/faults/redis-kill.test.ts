import { sql } from 'drizzle-orm';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../src/redis/index.js';
import { tempDir } from '../support/env.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { queuesIdle } from '../support/queues.js';
import { faultBed, until, type FaultBed, type Sent } from './bed.js';

describe('Redis SIGKILLed and restarted (same port, AOF) while users keep running tools', () => {
  const tmp = tempDir('onbehalf-drill-redis-');
  const redisDir = path.join(tmp.dir, 'redis');
  let redis: PrivateRedis;
  let mcp: TestMcpHttpServer;
  let bed: FaultBed;

  beforeAll(async () => {
    redis = await startPrivateRedis({ dir: redisDir, port: await freePort() });
    bed = await faultBed(
      { REDIS_URL: redis.url },
      {
        tuning: { lockDurationMs: 2000, stalledIntervalMs: 1000, concurrency: 8, maxQueuedPerUser: 1000 },
        world: { servers: [{ name: 'web' }] },
      },
    );
    mcp = bed.mcp;
  });

  afterAll(async () => {
    await bed?.stop();
    await redis?.stop();
    tmp.cleanup();
  });

  it('every accepted call is answered exactly once; every refused one is refused to its user and runs once when retried', async () => {
    // Errors go to our logs, not to stderr around them (BullMQ prints to console.error when nobody listens).
    const stderr: unknown[][] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void stderr.push(a));
    // Four users' worth of commands keep arriving until Redis has been back a while.
    const sent: Sent[] = [];
    let next = 0;
    let stop = false;
    const sender = async () => {
      while (!stop) {
        const i = next++;
        sent.push(await bed.send(i % 2 ? 'alice' : 'bob', `run web.echo {"text":"drill-${i}"}`, `drill-ev-${i}`));
        await new Promise((r) => setTimeout(r, 4));
      }
    };
    const load = Promise.all([sender(), sender(), sender(), sender()]);
    await until(() => bed.notifier.notices.length >= 40, 20_000, 'some calls to finish before the kill');
    process.kill(redis.pid, 'SIGKILL');
    // Down until a sender has seen it: a command refused to its user.
    await until(() => sent.some((s) => !s.ok), 10_000, 'a command refused while Redis is gone');
    redis = await startPrivateRedis({ dir: redisDir, port: redis.port });
    await until(() => bed.app.redis.status === 'ready', 20_000, 'the ingress connection to reconnect');
    // Up until commands sent after the restart are accepted again.
    const restartedAt = sent.length;
    await until(() => sent.slice(restartedAt).some((s) => s.ok), 10_000, 'a command accepted after the restart');
    stop = true;
    await load;
    spy.mockRestore();
    expect(stderr.map((a) => String(a[0]).slice(0, 120))).toEqual([]);
    const total = sent.length;

    const accepted = sent.filter((s) => s.ok);
    const refused = sent.filter((s): s is Extract<Sent, { ok: false }> => !s.ok);
    expect(accepted.length).toBeGreaterThanOrEqual(40);
    // The outage was real: some commands were refused while Redis was gone (the platform shows the error; Slack retries on the 500).
    expect(refused.length).toBeGreaterThan(0);
    for (const s of accepted) expect(s.reply).toMatch(/Running `web\.echo` as you/);

    // Slack redelivers each refused command with the same event id (after a minute or so): Redis is back by then.
    const retried: Sent[] = [];
    for (const s of refused) {
      const i = Number(s.requestId.replace('drill-ev-', ''));
      retried.push(await bed.send(i % 2 ? 'alice' : 'bob', `run web.echo {"text":"drill-${i}"}`, s.requestId));
    }
    expect(retried.filter((s) => !s.ok)).toEqual([]);

    const ids = sent.map((s) => s.requestId);
    await until(() => ids.every((id) => bed.noticesFor(id).length > 0), 60_000, 'every call to be answered').catch(
      async (err) => {
        const missing = new Set(ids.filter((id) => bed.noticesFor(id).length === 0));
        throw new Error(
          `${(err as Error).message}; unanswered: ${JSON.stringify(
            (await bed.rows()).filter((r) => missing.has(r.request_id)).slice(0, 5),
          )} (${missing.size} in all; ${refused.length} refused first)`,
        );
      },
    );
    await queuesIdle(redis.url, 2500); // a duplicate would come from a job still pending
    for (const id of ids) {
      const mine = bed.noticesFor(id);
      expect(mine, id).toHaveLength(1);
      expect(mine[0]).toMatchObject({ kind: 'outcome', outcome: { kind: 'result', isError: false } });
      const i = id.replace('drill-ev-', '');
      expect(mine[0]!.kind === 'outcome' && mine[0]!.text).toContain(`drill-${i}`);
      // What the MCP server saw: the call ran (a read-only tool may run twice if its completion was lost with Redis).
      const seen = mcp.calls.filter((c) => c.tool === 'echo' && c.args['text'] === `drill-${i}`).length;
      expect(seen, id).toBeGreaterThanOrEqual(1);
      expect(seen, id).toBeLessThanOrEqual(2);
    }
    // Nothing stuck in SQLite: one row per call, all final.
    const rows = await bed.rows();
    expect(rows).toHaveLength(total);
    expect(rows.filter((r) => !['succeeded'].includes(r.status)).map((r) => `${r.request_id}:${r.status}`)).toEqual([]);
  }, 120_000);

  it('the rare case the drill hit, made deterministic: a redelivery whose first job already ran (its acceptance was lost) still runs, once', async () => {
    const first = await bed.send('alice', 'run web.echo {"text":"ghost"}', 'drill-ev-ghost');
    expect(first.ok).toBe(true);
    await until(() => bed.noticesFor('drill-ev-ghost').length === 1, 10_000, 'the first job to finish');
    // What the ingress does when `add` throws although the job reached Redis: it forgets the row and reports the error.
    await bed.app.store.execute(sql`delete from tool_calls where request_id = ${'drill-ev-ghost'}`);
    const redelivered = await bed.send('alice', 'run web.echo {"text":"ghost"}', 'drill-ev-ghost');
    expect(redelivered.ok).toBe(true);
    await until(() => bed.noticesFor('drill-ev-ghost').length === 2, 10_000, 'the redelivered call to run');
    await queuesIdle(redis.url, 500);
    expect(bed.noticesFor('drill-ev-ghost')).toHaveLength(2);
    expect((await bed.rows()).filter((r) => r.request_id === 'drill-ev-ghost').map((r) => r.status)).toEqual([
      'succeeded',
    ]);
  });
});
