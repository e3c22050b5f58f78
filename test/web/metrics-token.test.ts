import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

const METRICS_TOKEN = 'metrics-token-canary-5e1b9c0d';

describe('/metrics behind METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN });
  });
  afterAll(async () => t?.stop());

  const scrape = (authorization?: string) =>
    fetch(`${t.baseUrl}/metrics`, authorization ? { headers: { authorization } } : {});

  it('a scraper without the token, or with a wrong one, gets 401 and no metrics', async () => {
    for (const auth of [
      undefined,
      'Bearer wrong-token',
      `Bearer ${METRICS_TOKEN}x`,
      `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
      `Basic ${METRICS_TOKEN}`,
      METRICS_TOKEN,
      'Bearer ',
    ]) {
      const r = await scrape(auth);
      expect(r.status, String(auth)).toBe(401);
      const body = await r.text();
      expect(body).not.toMatch(/onbehalf_/);
    }
  });

  it('the right token gets the Prometheus text', async () => {
    const r = await scrape(`Bearer ${METRICS_TOKEN}`);
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/onbehalf_http_requests_total/);
    expect(t.logs.containing(METRICS_TOKEN)).toEqual([]);
  });

  it('health and readiness stay open', async () => {
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
  });
});
