import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { queuesIdle } from '../support/queues.js';
import { startTestRedis } from '../support/redis.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';
import { SlackSigner } from '../support/slack-signing.js';
import { barrage, type BadRequest } from './barrage.js';

const SIGNING_SECRET = 'drill-signing-secret-0123456789';
const BOT_TOKEN = 'xoxb-drill-bot-token-canary-93e1';
const SEED = 20261123;
const COUNT = 10_000;

const gc = () => (globalThis as { gc?: () => void }).gc?.();
const settled = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
};

describe(`bad input barrage: ${COUNT} malformed Slack requests and OAuth query strings (seed ${SEED})`, () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let slack: SlackApi;
  let t: TestApp;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => void unhandled.push(e);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    redis = await startTestRedis();
    slack = await startSlackApi();
    t = await startTestApp({
      REDIS_URL: redis.url,
      LOG_LEVEL: 'warn',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: slack.url.replace(/\/$/, ''),
    });
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    await t?.stop();
    await slack?.stop();
    await redis?.stop();
  });

  it('no 5xx, no crash, no unhandled rejection, memory flat, within 60 s', async () => {
    expect(typeof (globalThis as { gc?: unknown }).gc, 'run with --expose-gc (vitest.faults.config.ts)').toBe(
      'function',
    );
    const signer = new SlackSigner(SIGNING_SECRET);
    const requests = barrage(SEED, COUNT, signer, 'T_DEFAULT');
    const statuses = new Map<string, number>();
    const fivexx: string[] = [];
    let done = 0;
    const send = async (req: BadRequest) => {
      const init: RequestInit = {
        method: req.method,
        headers: req.headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      };
      if (req.body !== undefined) init.body = req.body;
      const res = await fetch(`${t.baseUrl}${req.path}`, init);
      await res.arrayBuffer();
      statuses.set(`${req.kind} ${res.status}`, (statuses.get(`${req.kind} ${res.status}`) ?? 0) + 1);
      if (res.status >= 500)
        fivexx.push(`${res.status} ${req.method} ${req.path.slice(0, 120)} ${(req.body ?? '').slice(0, 200)}`);
    };
    const lanes = async (gen: Generator<BadRequest>, n: number) => {
      const lane = async () => {
        for (let i = 0; i < n; i++) {
          const r = gen.next();
          if (r.done) return;
          await send(r.value);
          done++;
          if (done % 500 === 0) slack.calls.splice(0); // the fake's own record is not the app's memory
        }
      };
      await Promise.all(Array.from({ length: 24 }, lane));
      slack.calls.splice(0);
    };
    // Warm-up at the same concurrency (another seed): caches, JIT, pools and sockets reach their working size first.
    await lanes(barrage(SEED + 1, 1000, signer, 'T_DEFAULT'), 1000);
    done = 0;
    const warm = await settled();
    const started = Date.now();
    await lanes(requests, COUNT);
    const took = Date.now() - started;
    await queuesIdle(redis.url, 1000); // the work the requests started (turns and their replies) has ended
    const end = await settled();
    const mib = (n: number) => (n / 2 ** 20).toFixed(0);

    const summary = [...statuses]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    console.log(
      `barrage: ${done} requests in ${took} ms; after GC: RSS ${mib(warm.rss)} → ${mib(end.rss)} MiB, heap ${mib(warm.heap)} → ${mib(end.heap)} MiB; ${summary}`,
    );
    expect(done).toBe(COUNT);
    const errors = [
      ...new Set(
        t.logs.lines
          .filter((l) => /"level":(50|60)/.test(l))
          .map((l) => l.replace(/"(time|reqId|requestId|pid)":[^,]*,/g, '')),
      ),
    ];
    expect({ fivexx: fivexx.slice(0, 5), errors: errors.slice(0, 8) }).toEqual({ fivexx: [], errors: [] });
    expect(unhandled).toEqual([]);
    expect(t.logs.lines.filter((l) => /unhandled|uncaught/i.test(l)).slice(0, 3)).toEqual([]);
    expect(t.logs.containing(BOT_TOKEN, SIGNING_SECRET)).toEqual([]);
    // Flat: after GC, the heap holds nothing per request and RSS stays within a working-set margin.
    expect(end.heap - warm.heap).toBeLessThan(24 * 2 ** 20);
    expect(end.rss - warm.rss).toBeLessThan(64 * 2 ** 20);
    expect(took).toBeLessThan(60_000);
    // Still serving, and readiness is intact.
    expect((await fetch(`${t.baseUrl}/readyz`)).status).toBe(200);
    // Some of the barrage was valid enough to be answered: the product was really exercised.
    expect([...statuses].filter(([k]) => /^command 200$/.test(k)).map(([, n]) => n)[0] ?? 0).toBeGreaterThan(100);
  }, 120_000);

  it('the shapes the barrage found are refused with a 400, signed or not, and never reach Bolt (they made 500s that Slack retries)', async () => {
    const signer = new SlackSigner(SIGNING_SECRET);
    const url = `${t.baseUrl}/slack/events`;
    const event = (e: unknown) =>
      signer.sign(
        JSON.stringify({
          token: 'x',
          team_id: 'T_DEFAULT',
          api_app_id: 'A_FAKE',
          type: 'event_callback',
          event_id: 'EvShape',
          event_time: 1,
          event: e,
        }),
        'json',
      );
    const found = [
      event(-257457987),
      event('provider 155610'),
      event({ add: {}, channel: true }),
      event({ type: 'app_mention', user: null, text: 'hi', channel: 'C1' }),
      signer.sign(JSON.stringify({ actions: [] }), 'json'),
      signer.interaction({
        type: 'shortcut',
        team: { id: 'T_DEFAULT' },
        user: { id: 'U1' },
        actions: 170545469,
        view: null,
      }),
      signer.command({ teamId: 'constructor', userId: 'U1', channelId: 'C4', text: 'help' }),
      signer.command({ teamId: '__proto__', userId: 'U1', channelId: 'C4', text: 'help' }),
    ];
    for (const req of found) expect((await signer.post(url, req)).status, req.body).toBe(400);
    // A well-formed command still works.
    expect(
      (await signer.post(url, signer.command({ teamId: 'T_DEFAULT', userId: 'U1', channelId: 'C4', text: 'help' })))
        .status,
    ).toBe(200);
  });
});
