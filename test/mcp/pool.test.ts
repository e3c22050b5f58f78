import { readFileSync } from 'node:fs';
import { fingerprint } from '../support/mcp-servers/index.js';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { Secret } from '../../src/crypto/index.js';
import { McpPool, resultText, type CallResult, type PoolServer } from '../../src/mcp/index.js';
import { startMcpHttpServer, stdioServerCommand, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { tempDir } from '../support/env.js';
import { freePort } from '../../src/redis/index.js';
import { NetGuard } from '../../src/net/index.js';
import { urlRefusalText } from '../../src/chat/words/net.js';
import { startDnsServer } from '../support/dns-server.js';
import { insideForms } from '../net/forms.js';

const log = pino({ level: 'silent' });
/** ONBEHALF_ALLOW_PRIVATE_URLS=true: the loopback test servers are reachable. */
const open = () => ({ net: new NetGuard({ allowPrivate: true }) });
const creds = (env: Record<string, string> = {}, headers: Record<string, string> = {}) => ({
  env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, new Secret(v)])),
  headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, new Secret(v)])),
});

let http: TestMcpHttpServer;
const tmp = tempDir('onbehalf-pool-');
const stdio: PoolServer = { id: 's-stdio', name: 'local', transport: 'stdio', url: null, ...stdioServerCommand };
let web: PoolServer;

beforeAll(async () => {
  http = await startMcpHttpServer();
  web = { id: 's-http', name: 'remote', transport: 'http', url: http.url, command: null, args: [] };
});
afterAll(async () => {
  await http.stop();
  tmp.cleanup();
});

describe('MCP client pool', () => {
  it("a stdio server's environment holds only its bound variables and the SDK's safe list, never the worker's own", async () => {
    process.env.ONBEHALF_KEYS = 'k1:WORKER-SEALING-KEY-CANARY';
    process.env.DATABASE_URL = 'file:/secret/worker.db';
    process.env.SLACK_BOT_TOKEN = 'xoxb-worker-canary';
    const pool = new McpPool(log, open());
    try {
      const r = await pool.call(
        stdio,
        creds({ GITHUB_TOKEN: 'gho_alice', ORG_KEY: 'org-key-1' }),
        'env_dump',
        {},
        20_000,
      );
      expect(r.kind).toBe('ok');
      const env = JSON.parse(resultText((r as Extract<typeof r, { kind: 'ok' }>).result)) as Record<string, string>;
      expect(env.GITHUB_TOKEN).toBe(fingerprint('gho_alice'));
      expect(env.ORG_KEY).toBe(fingerprint('org-key-1'));
      const allowed = new Set(['GITHUB_TOKEN', 'ORG_KEY', 'HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER']);
      // Node itself may define a few NODE_* variables for its children; nothing of ours.
      const extra = Object.keys(env).filter((k) => !allowed.has(k) && !/^(NODE_|TSX_)/.test(k));
      expect(extra).toEqual([]);
      expect(Object.values(env)).not.toContain(fingerprint('k1:WORKER-SEALING-KEY-CANARY'));
      expect(Object.values(env)).not.toContain(fingerprint('xoxb-worker-canary'));
      expect(env.DATABASE_URL).toBeUndefined();
    } finally {
      delete process.env.ONBEHALF_KEYS;
      delete process.env.DATABASE_URL;
      delete process.env.SLACK_BOT_TOKEN;
      await pool.close();
    }
  });

  it('an http server receives exactly the bound headers; each credential set gets its own client, reused while the same', async () => {
    const pool = new McpPool(log, open());
    try {
      const a1 = await pool.call(web, creds({}, { Authorization: 'Bearer alice-1' }), 'whoami', {}, 5000);
      const b1 = await pool.call(
        web,
        creds({}, { Authorization: 'Bearer bob-1', 'X-Org-Key': 'k' }),
        'whoami',
        {},
        5000,
      );
      const a2 = await pool.call(web, creds({}, { Authorization: 'Bearer alice-1' }), 'whoami', {}, 5000);
      const seen = [a1, b1, a2].map((r) => JSON.parse(resultText((r as Extract<typeof r, { kind: 'ok' }>).result)));
      expect(seen).toEqual([
        { authorization: fingerprint('Bearer alice-1') },
        { authorization: fingerprint('Bearer bob-1'), 'x-org-key': fingerprint('k') },
        { authorization: fingerprint('Bearer alice-1') },
      ]);
      expect(pool.size.clients).toBe(2);
      // A refreshed token is a new credential set: a new client, never the old headers.
      const a3 = await pool.call(web, creds({}, { Authorization: 'Bearer alice-2' }), 'whoami', {}, 5000);
      expect(resultText((a3 as Extract<typeof a3, { kind: 'ok' }>).result)).toContain(fingerprint('Bearer alice-2'));
      expect(pool.size.clients).toBe(3);
    } finally {
      await pool.close();
    }
  });

  it('a credential set the pool has keyed cannot be changed afterwards, so the client kept for it never serves other credentials', async () => {
    const pool = new McpPool(log, open());
    try {
      const set = creds({}, { Authorization: 'Bearer alice-1' });
      expect((await pool.tools(web, set)).kind).toBe('ok');
      expect(() => {
        set.headers.Authorization = new Secret('Bearer bob-1');
      }).toThrow(TypeError);
      const r = await pool.call(web, set, 'whoami', {}, 5000);
      expect(JSON.parse(resultText((r as Extract<typeof r, { kind: 'ok' }>).result))).toEqual({
        authorization: fingerprint('Bearer alice-1'),
      });
      expect(pool.size.clients).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('caps stdio processes with LRU eviction, closes idle ones, and restarts a crashed one', async () => {
    const pool = new McpPool(log, { maxProcesses: 2, idleMs: 2500, ...open() });
    try {
      for (const who of ['a', 'b', 'c'])
        expect((await pool.call(stdio, creds({ WHO: who }), 'echo', { text: who }, 20_000)).kind).toBe('ok');
      expect(pool.size.processes).toBe(2);
      const crash = await pool.call(stdio, creds({ WHO: 'c' }), 'crash', {}, 20_000);
      expect(crash.kind).toBe('ok');
      // The crashed process is seen gone (its entry dropped) before the next call for the same credentials.
      await vi.waitFor(() => expect(pool.size.processes).toBe(1), { timeout: 200, interval: 10 });
      const again = await pool.call(stdio, creds({ WHO: 'c' }), 'whoami', {}, 20_000);
      expect(again.kind).toBe('ok');
      expect(JSON.parse(resultText((again as Extract<typeof again, { kind: 'ok' }>).result)).WHO).toBe(
        fingerprint('c'),
      );
      await vi.waitFor(() => expect(pool.size.processes).toBe(0), { timeout: 4000, interval: 50 });
    } finally {
      await pool.close();
    }
  });

  it('a call past its deadline ends as timeout and the server is sent notifications/cancelled', async () => {
    const pool = new McpPool(log, open());
    const marker = path.join(tmp.dir, 'slow.marker');
    try {
      const t0 = Date.now();
      const r = await pool.call(stdio, creds({}), 'slow', { ms: 10_000, marker }, 600);
      expect(r.kind).toBe('timeout');
      expect(Date.now() - t0).toBeLessThan(3000);
      const h = await pool.call(web, creds({}, { Authorization: 'Bearer t' }), 'slow', { ms: 10_000 }, 300);
      expect(h.kind).toBe('timeout');
      await vi.waitFor(
        () => {
          expect(readFileSync(marker, 'utf8')).toContain('cancelled');
          expect(http.cancelled).toBeGreaterThanOrEqual(1);
        },
        { timeout: 300, interval: 10 },
      );
    } finally {
      await pool.close();
    }
  });

  it('a server that is down is unreachable and the request was never sent; 401 and 5xx are told apart', async () => {
    const pool = new McpPool(log, open());
    try {
      const down: PoolServer = { ...web, id: 'down', url: `http://127.0.0.1:${await freePort()}/mcp` };
      expect(await pool.call(down, creds({}), 'whoami', {}, 2000)).toEqual({
        kind: 'unreachable',
        sent: false,
        detail: 'ECONNREFUSED',
      });
      http.deny('revoked-token');
      expect(
        (await pool.call(web, creds({}, { Authorization: 'Bearer revoked-token' }), 'whoami', {}, 2000)).kind,
      ).toBe('unauthorized');
      const c = creds({}, { Authorization: 'Bearer fine' });
      expect((await pool.call(web, c, 'whoami', {}, 2000)).kind).toBe('ok');
      http.failNext(1, 502);
      expect(await pool.call(web, c, 'whoami', {}, 2000)).toEqual({
        kind: 'unreachable',
        sent: true,
        detail: 'HTTP 502',
      });
      const scoped = await pool.call(web, c, 'admin_op', {}, 2000);
      expect(scoped).toEqual({ kind: 'insufficient_scope', scopes: ['admin'] });
    } finally {
      await pool.close();
    }
  });

  it('a server answering in SSE streams works through the guarded fetch, one client reused across calls', async () => {
    const sse = await startMcpHttpServer({ sse: true });
    const pool = new McpPool(log, open());
    try {
      const s: PoolServer = { ...web, id: 's-sse', url: sse.url };
      const c = creds({}, { Authorization: 'Bearer sse-1' });
      expect((await pool.tools(s, c)).kind).toBe('ok');
      const r = await pool.call(s, c, 'echo', { text: 'streamed' }, 5000);
      expect(resultText((r as Extract<typeof r, { kind: 'ok' }>).result)).toContain('streamed');
      expect(
        JSON.parse(
          resultText(((await pool.call(s, c, 'whoami', {}, 5000)) as Extract<CallResult, { kind: 'ok' }>).result),
        ),
      ).toEqual({ authorization: fingerprint('Bearer sse-1') });
      expect(pool.size.clients).toBe(1);
    } finally {
      await pool.close();
      await sse.stop();
    }
  });

  it('a completed call is never followed by notifications/cancelled; a call past its deadline still is', async () => {
    const pool = new McpPool(log, open());
    try {
      const before = http.cancellations.length;
      const c = creds({}, { Authorization: 'Bearer done-call' });
      // Finishes well inside its 300 ms deadline.
      expect((await pool.call(web, c, 'echo', { text: 'hi' }, 300)).kind).toBe('ok');
      // Started after it, with a later deadline: once its cancellation arrives, the first call's deadline has long passed.
      expect((await pool.call(web, c, 'slow', { ms: 10_000 }, 900)).kind).toBe('timeout');
      const ids = http.callIds.slice(-2);
      expect(ids.map((x) => x.tool)).toEqual(['echo', 'slow']);
      await vi.waitFor(() => expect(http.cancellations.slice(before).map((x) => x.requestId)).toContain(ids[1]!.id), {
        timeout: 5000,
      });
      expect(http.cancellations.slice(before).map((x) => x.requestId)).toEqual([ids[1]!.id]);
    } finally {
      await pool.close();
    }
  });

  it('an admin-added http server on any inside address form is refused when the client opens, before any request; an operator one is not', async () => {
    const pool = new McpPool(log, { net: new NetGuard({ allowHttp: true }) });
    try {
      const before = http.requests;
      const port = Number(new URL(http.url).port);
      for (const url of [
        ...insideForms(port).map((u) => new URL('/mcp', u).href),
        http.url.replace('127.0.0.1', 'localhost'),
      ]) {
        const r = await pool.call({ ...web, id: url, url }, creds({}), 'whoami', {}, 2000);
        expect(r, url).toMatchObject({ kind: 'refused', server: 'remote', refusal: { code: 'private' } });
        if (r.kind !== 'refused') throw new Error('not refused');
        expect(urlRefusalText(r.refusal)).toMatch(/^.+ is a loopback, private or link-local address \(.+\)$/);
      }
      expect(http.requests).toBe(before);
      expect((await pool.call({ ...web, source: 'operator' }, creds({}), 'whoami', {}, 2000)).kind).toBe('ok');
    } finally {
      await pool.close();
    }
  });

  it('DNS rebinding: a server name that resolved to a public address when added and to 127.0.0.1 at call time is refused when the socket connects', async () => {
    const dns = await startDnsServer();
    dns.script('mcp.rebind.test', ['93.184.215.14', '127.0.0.1']);
    const net = new NetGuard({ allowHttp: true, resolve: dns.resolve });
    const pool = new McpPool(log, { net });
    try {
      const url = http.url.replace('127.0.0.1', 'mcp.rebind.test');
      // What `admin server add` sees: a public address.
      expect(await net.checkTarget(url)).toMatchObject({ ok: true });
      const before = http.requests;
      const r = await pool.call({ ...web, id: 'rebind', url }, creds({}), 'whoami', {}, 2000);
      expect(r).toEqual({ kind: 'refused', server: 'remote', refusal: { code: 'private', host: 'mcp.rebind.test' } });
      if (r.kind !== 'refused') throw new Error('not refused');
      expect(urlRefusalText(r.refusal)).toBe('mcp.rebind.test resolves to a loopback, private or link-local address');
      expect(dns.queries.filter((q) => q === 'mcp.rebind.test')).toHaveLength(2);
      expect(http.requests).toBe(before);
    } finally {
      await pool.close();
      net.close();
      await dns.stop();
    }
  });
});
