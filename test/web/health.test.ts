import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { startTestRedis } from '../support/redis.js';

describe('health, readiness and metrics', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startTestRedis();
    // The last test stops Redis: shutdown must then finish without it, within its bound.
    t = await startTestApp({ REDIS_URL: redis.url }, 'serve', { shutdownGraceMs: 1000 });
  });
  afterAll(async () => {
    await t?.stop();
    await redis?.stop();
  });

  it('/healthz answers while the process is up', async () => {
    const r = await fetch(`${t.baseUrl}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
  });

  it('/readyz answers 200 when the database and Redis answer', async () => {
    const r = await fetch(`${t.baseUrl}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true, checks: { database: 'ok', redis: 'ok' } });
  });

  it('/metrics serves Prometheus text with process metrics and our request counter', async () => {
    await fetch(`${t.baseUrl}/healthz`);
    const r = await fetch(`${t.baseUrl}/metrics`);
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    const body = await r.text();
    expect(body).toMatch(/onbehalf_process_resident_memory_bytes \d+/);
    expect(body).toMatch(/onbehalf_http_requests_total\{route="\/healthz",status="200"\} \d+/);
  });

  it('unknown routes are a plain 404, and no route takes a redirect parameter', async () => {
    const r = await fetch(`${t.baseUrl}/nope?next=https://evil.example.com`, { redirect: 'manual' });
    expect(r.status).toBe(404);
    expect(r.headers.get('location')).toBeNull();
  });

  it('warns at start when REDIS_URL points at a Redis that may evict', async () => {
    const { Redis } = await import('ioredis');
    const c = new Redis(redis.url);
    await c.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const other = await startTestApp({ REDIS_URL: redis.url });
    try {
      expect(other.logs.text()).toMatch(/maxmemory-policy is \\"allkeys-lru\\"; set it to noeviction/);
    } finally {
      await c.config('SET', 'maxmemory-policy', 'noeviction');
      c.disconnect();
      await other.stop();
    }
  });

  it('/readyz answers 503 naming Redis when Redis is down', async () => {
    await redis.stop();
    const r = await fetch(`${t.baseUrl}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ ok: false, checks: { database: 'ok', redis: 'unavailable' } });
  });
});
