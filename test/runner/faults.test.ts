import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/crypto/index.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../src/redis/index.js';
import { startMcpHttpServer, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { queuesIdle } from '../support/queues.js';
import { startTestRedis } from '../support/redis.js';
import { tempDir, testKey } from '../support/env.js';
import { startHarness, type Harness } from './harness.js';
import { readNotices, startWorker, until, type WorkerProcess } from './processes.js';

describe('a worker killed mid-call', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let http: TestMcpHttpServer;
  let h: Harness;
  const tmp = tempDir('onbehalf-faults-');
  const key = testKey();
  const dbFile = path.join(tmp.dir, 'onbehalf.db');
  const noticeFile = path.join(tmp.dir, 'notices.jsonl');
  const workers: WorkerProcess[] = [];
  let env: Record<string, string>;
  const worker = async () => {
    const w = await startWorker(env);
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    http = await startMcpHttpServer();
    h = await startHarness(redis.url, { workers: false, dbFile, keys: [key] });
    await h.policy.addServer(h.org.id, { name: 'web', transport: 'http', url: http.url, timeoutMs: 20_000 });
    await h.policy.bind(h.org.id, 'web', 'header', 'Authorization', 'user_secret:token', 'Bearer {token}');
    await h.policy.setSecret(h.org.id, 'user', (await h.user('alice')).id, 'token', new Secret('alice-token'));
    env = {
      REDIS_URL: redis.url,
      DATABASE_URL: `file:${dbFile}`,
      ONBEHALF_KEYS: key,
      ONBEHALF_DATA_DIR: tmp.dir,
      NOTICE_FILE: noticeFile,
      LOCK_MS: '1500',
      STALLED_MS: '500',
      ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
    };
  });

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await h?.stop();
    await http?.stop();
    await redis?.stop();
    tmp.cleanup();
  });

  it('a read-only tool is recovered by another worker, re-run, and its reply posted once', async () => {
    const w1 = await worker();
    const id = await h.call('alice', 'web', 'read_notes', { delayMs: 3000 });
    await until(() => http.calls.some((c) => c.tool === 'read_notes'), 15_000, 'the first attempt to reach the server');
    w1.child.kill('SIGKILL');
    await w1.exited;
    const w2 = await worker();
    await until(() => readNotices(noticeFile).some((n) => n.callId === id), 30_000, 'the recovered call to finish');
    await queuesIdle(redis.url, 1500);
    const mine = readNotices(noticeFile).filter((n) => n.callId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ kind: 'outcome', pid: w2.child.pid, outcome: { kind: 'result' } });
    expect(http.calls.filter((c) => c.tool === 'read_notes')).toHaveLength(2);
    await w2.stop();
  });

  it('with the default lock (5 s, renewed as it runs) a call longer than the lock runs once and is answered once', async () => {
    for (const w of workers.splice(0)) await w.stop();
    const defaults = { ...env, LOCK_MS: '', STALLED_MS: '' };
    const [w1, w2] = [await startWorker(defaults), await startWorker(defaults)];
    workers.push(w1, w2);
    const before = http.calls.filter((c) => c.tool === 'read_notes').length;
    const id = await h.call('alice', 'web', 'read_notes', { delayMs: 12_000 });
    await until(() => readNotices(noticeFile).some((n) => n.callId === id), 30_000, 'the long call to finish');
    // Past two more stalled checks: a lapsed lock would have sent it to the other worker by now.
    await new Promise((r) => setTimeout(r, 4500));
    expect(readNotices(noticeFile).filter((n) => n.callId === id)).toMatchObject([{ outcome: { kind: 'result' } }]);
    expect(http.calls.filter((c) => c.tool === 'read_notes').length - before).toBe(1);
    for (const w of workers.splice(0)) await w.stop();
  }, 60_000);

  it('a tool that is not idempotent is not re-run blind: the caller is told it was interrupted and may have run', async () => {
    const w1 = await worker();
    const id = await h.call('alice', 'web', 'create_note', { text: 'pay invoice 42', delayMs: 3000 });
    await until(
      () => http.calls.some((c) => c.tool === 'create_note'),
      15_000,
      'the first attempt to reach the server',
    );
    w1.child.kill('SIGKILL');
    await w1.exited;
    await worker();
    await until(
      () => readNotices(noticeFile).some((n) => n.callId === id),
      30_000,
      'the interrupted call to be reported',
    );
    await queuesIdle(redis.url, 1500);
    const mine = readNotices(noticeFile).filter((n) => n.callId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.outcome).toMatchObject({ kind: 'interrupted', server: 'web', tool: 'create_note' });
    expect(mine[0]!.text).toMatch(/interrupted .* may have run on web/);
    expect(http.calls.filter((c) => c.tool === 'create_note')).toHaveLength(1);
    expect((await h.runner.executor.calls.get(id))!.status).toBe('interrupted');
  });

  it('SIGTERM closes a worker gracefully: the call it was running finishes first', async () => {
    for (const w of workers.splice(0)) await w.stop();
    const w = await worker();
    // Earlier tests called read_notes too: wait for this call's own request to reach the server.
    const before = http.calls.filter((c) => c.tool === 'read_notes').length;
    const id = await h.call('alice', 'web', 'read_notes', { delayMs: 800 });
    await until(() => http.calls.filter((c) => c.tool === 'read_notes').length > before, 15_000, 'the call to start');
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(readNotices(noticeFile).filter((n) => n.callId === id)).toMatchObject([{ outcome: { kind: 'result' } }]);
  });
});

describe('Redis restarted (AOF on) mid-run', () => {
  let redis: PrivateRedis;
  let http: TestMcpHttpServer;
  let h: Harness;
  const tmp = tempDir('onbehalf-aof-');

  beforeAll(async () => {
    const port = await freePort();
    redis = await startPrivateRedis({ dir: path.join(tmp.dir, 'redis'), port });
    http = await startMcpHttpServer();
    // A load drill: 60 calls per user in flight, past the default per-user cap of queued calls.
    h = await startHarness(redis.url, {
      tuning: { lockDurationMs: 2000, stalledIntervalMs: 1000, concurrency: 8, maxQueuedPerUser: 1000 },
    });
    await h.policy.addServer(h.org.id, { name: 'web', transport: 'http', url: http.url });
  });

  afterAll(async () => {
    await h?.stop();
    await http?.stop();
    await redis?.stop();
    tmp.cleanup();
  });

  it('loses no accepted call and posts each reply once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 120; i++)
      ids.push(await h.call(i % 2 ? 'alice' : 'bob', 'web', 'read_notes', { delayMs: 100 }));
    await until(() => h.notifier.notices.length >= 20, 20_000, 'some calls to finish');
    const port = redis.port;
    await redis.stop();
    redis = await startPrivateRedis({ dir: path.join(tmp.dir, 'redis'), port });
    await until(
      () => ids.every((id) => h.notifier.for(id).length > 0),
      60_000,
      'every accepted call to finish after the restart',
    );
    await queuesIdle(redis.url, 2500);
    for (const id of ids)
      expect(h.notifier.for(id).map((n) => n.kind === 'outcome' && n.outcome.kind)).toEqual(['result']);
  }, 90_000);
});
