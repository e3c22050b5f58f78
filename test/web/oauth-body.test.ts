import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

/** Streams a form body of `total` bytes to POST /oauth/start; resolves with the answer and how much was sent by then. */
function postHuge(baseUrl: string, total: number, withLength: boolean) {
  return new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
    const u = new URL('/oauth/start', baseUrl);
    const headers: Record<string, string | number> = {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'same-origin',
    };
    if (withLength) headers['content-length'] = total;
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers });
    let sent = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sent });
      });
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('POST /oauth/start with an oversized body', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({});
  });
  afterAll(async () => t?.stop());

  it('is refused with 413 while it streams in, not buffered whole (chunked)', async () => {
    const r = await postHuge(t.baseUrl, 512 * 1024 * 1024, false);
    expect(r.status).toBe(413);
    expect(r.body).toContain('The form sent is too large.');
    expect(r.body).toContain('Nothing was changed.');
    // The server answered long before the half gigabyte was sent.
    expect(r.sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('is refused from its Content-Length alone', async () => {
    const r = await postHuge(t.baseUrl, 512 * 1024 * 1024, true);
    expect(r.status).toBe(413);
    expect(r.sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('a form of normal size still gets its ordinary answer', async () => {
    const r = await fetch(`${t.baseUrl}/oauth/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: 'csrf=x',
    });
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('This form is missing its link.');
  });
});
