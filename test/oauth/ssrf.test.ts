import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { hostname } from 'node:os';
import { lookup } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import { guardedFetch } from '../../src/oauth/index.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** A loopback HTTP server that counts what reaches it. */
async function countingServer(handler?: http.RequestListener) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (handler) return handler(req, res);
    res.writeHead(401, { 'www-authenticate': 'Bearer resource_metadata="http://127.0.0.1:1/x"' }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { hits, port: (server.address() as AddressInfo).port, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('discovery never reaches private addresses unless the operator allows it', () => {
  let t: TestApp;
  let target: Awaited<ReturnType<typeof countingServer>>;
  beforeAll(async () => {
    t = await startTestApp({ ONBEHALF_ALLOW_PRIVATE_URLS: 'false' });
    target = await countingServer();
  });
  afterAll(async () => {
    await target?.stop();
    await t?.stop();
  });

  it('loopback, metadata and 10/8 URLs are refused without any request being made', async () => {
    const { org } = t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: 'alice' });
    const urls = [
      `http://127.0.0.1:${target.port}/mcp`,
      `https://127.0.0.1:${target.port}/mcp`,
      `https://localhost:${target.port}/mcp`,
      `https://[::1]:${target.port}/mcp`,
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.1/mcp',
      'https://192.168.1.1/mcp',
      `https://[::ffff:127.0.0.1]:${target.port}/mcp`,
    ];
    for (const [i, url] of urls.entries()) {
      const r = await t.app.oauth!.ensureMcpProvider(org.id, { serverId: `s${i}`, serverName: `s${i}`, url });
      expect(r.kind, url).toBe('refused_url');
    }
    // An OIDC issuer is discovery too.
    const p = await t.app.oauth!.addProvider(org.id, { slug: 'corp', kind: 'oidc', clientId: 'c', issuer: `http://127.0.0.1:${target.port}` });
    expect(p.ok).toBe(false);
    expect(target.hits).toEqual([]);
    expect(await t.app.oauth!.listProviders(org.id)).toEqual([]);
  });

  it('a name is checked again at connect time: a host name resolving to a private address is refused before any request', async () => {
    const name = hostname();
    const addr = await lookup(name).catch(() => undefined);
    expect(addr, 'this machine\'s host name resolves').toBeDefined();
    const f = guardedFetch({ allowPrivate: false, allowHttp: true });
    await expect(f(`http://${name}:${target.port}/`)).rejects.toMatchObject({ code: 'refused_url' });
    expect(target.hits).toEqual([]);
  });

  it('every redirect hop is checked: a public hop redirecting to a private address is refused before the second request', async () => {
    const inner = await countingServer((_req, res) => res.end('secret'));
    const outer = await countingServer((_req, res) => res.writeHead(302, { location: `http://127.0.0.2:${inner.port}/` }).end());
    try {
      // Treat 127.0.0.1 as "public" for this test so only the hop is private.
      const f = guardedFetch({ allowPrivate: false, allowHttp: true, isPrivate: (a) => a !== '127.0.0.1' });
      await expect(f(`http://127.0.0.1:${outer.port}/`)).rejects.toMatchObject({ code: 'refused_url' });
      expect(outer.hits).toHaveLength(1);
      expect(inner.hits).toEqual([]);
    } finally {
      await inner.stop();
      await outer.stop();
    }
  });
});
