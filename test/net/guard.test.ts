import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { urlRefusalText } from '../../src/chat/words/net.js';
import { NetGuard, nonPublicReason, refusalOf, RefusedUrlError } from '../../src/net/index.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { insideForms } from './forms.js';

/** A loopback HTTP server that records what reaches it. */
async function peer(handler: http.RequestListener = (_q, r) => void r.end('inside'), host = '127.0.0.1') {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    hits,
    port: (server.address() as AddressInfo).port,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('the network guard', () => {
  let inside: Awaited<ReturnType<typeof peer>>;
  let dns: TestDnsServer;
  beforeAll(async () => {
    inside = await peer();
    dns = await startDnsServer();
  });
  afterAll(async () => {
    await inside?.stop();
    await dns?.stop();
  });

  it('every spelling of a private, loopback, link-local or special address is refused when parsed and when fetched, and nothing arrives', async () => {
    const guard = new NetGuard({ allowHttp: true });
    for (const url of insideForms(inside.port)) {
      const c = guard.checkUrl(url);
      expect(c, url).toMatchObject({
        ok: false,
        code: 'private',
        class: expect.any(String),
      });
      if (c.ok) throw new Error('not refused');
      expect(urlRefusalText(refusalOf(c)), url).toMatch(/is a loopback, private or link-local address \(.+\)$/);
      expect((await guard.checkTarget(url)).ok, url).toBe(false);
      await expect(guard.fetch()(url), url).rejects.toMatchObject({ code: 'refused_url' });
    }
    expect(inside.hits).toEqual([]);
    guard.close();
  });

  it('names which addresses are not public, and lets public ones (also inside NAT64 and 6to4) through', () => {
    const named = (a: string) => urlRefusalText({ code: 'private', host: 'h', class: nonPublicReason(a) });
    expect(named('198.18.0.1')).toMatch(/\(benchmarking/);
    expect(named('100.64.0.1')).toMatch(/\(carrier-grade NAT/);
    expect(named('::ffff:7f00:1')).toBe('h is a loopback, private or link-local address (IPv4-mapped IPv6)');
    expect(named('::7f00:1')).toMatch(/\(IPv4-compatible IPv6\)$/);
    expect(named('64:ff9b::a00:1')).toMatch(/\(NAT64 of a private address\)$/);
    expect(named('2002:a9fe:a9fe::1')).toMatch(/\(6to4 of a link-local address\)$/);
    expect(named('2001:0:4136:e378:8000:63bf:80ff:fffe')).toMatch(/\(Teredo of a loopback address\)$/);
    expect(named('fec0::1')).toMatch(/\(reserved\)$/);
    expect(named('not-an-ip')).toMatch(/\(not an IP address\)$/);
    expect(urlRefusalText(refusalOf(new NetGuard().checkUrl('https://db.internal/') as never))).toBe(
      'db.internal is a loopback, private or link-local address (private name)',
    );
    for (const a of ['93.184.215.14', '8.8.8.8', '2606:4700::1111', '64:ff9b::808:808', '2002:808:808::1'])
      expect(nonPublicReason(a), a).toBeUndefined();
  });

  it('plain http is refused unless allowed, and URLs carrying credentials always are', () => {
    const guard = new NetGuard();
    const plain = guard.checkUrl('http://mcp.example.com/mcp');
    expect(plain).toEqual({ ok: false, code: 'scheme', host: 'mcp.example.com', protocol: 'http:' });
    expect(urlRefusalText(refusalOf(plain as Extract<typeof plain, { ok: false }>))).toBe(
      'mcp.example.com must use https',
    );
    const file = guard.checkUrl('file:///etc/passwd');
    expect(urlRefusalText(refusalOf(file as Extract<typeof file, { ok: false }>))).toBe(
      'is a file: URL; it must use https',
    );
    expect(guard.checkUrl('https://user:pw@mcp.example.com/mcp')).toMatchObject({ ok: false, code: 'credentials' });
    expect(guard.checkUrl('file:///etc/passwd')).toMatchObject({ ok: false, code: 'scheme' });
    expect(guard.checkUrl('https://mcp.example.com/mcp')).toMatchObject({ ok: true });
    expect(new NetGuard({ allowPrivate: true }).checkUrl(`http://127.0.0.1:${inside.port}/`)).toMatchObject({
      ok: true,
    });
  });

  it('DNS rebinding: a name that answers a public address first and 127.0.0.1 next passes the add-time check and is refused when the socket connects', async () => {
    dns.script('rebind.test', ['93.184.215.14', '127.0.0.1']);
    const guard = new NetGuard({ allowHttp: true, resolve: dns.resolve });
    const url = `http://rebind.test:${inside.port}/secret`;
    expect(await guard.checkTarget(url)).toMatchObject({ ok: true });
    const err = await guard
      .fetch()(url)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'refused_url', refusal: { code: 'private', host: 'rebind.test' } });
    expect(urlRefusalText((err as RefusedUrlError).refusal)).toBe(
      'rebind.test resolves to a loopback, private or link-local address',
    );
    expect(dns.queries.filter((q) => q === 'rebind.test')).toHaveLength(2);
    expect(inside.hits).toEqual([]);
    guard.close();
  });

  it('a name resolving to a private address is refused at add time too', async () => {
    dns.script('corp.test', ['10.1.2.3']);
    const guard = new NetGuard({ resolve: dns.resolve });
    const c = await guard.checkTarget('https://corp.test/mcp');
    expect(c).toEqual({ ok: false, code: 'private', host: 'corp.test' });
    expect(urlRefusalText(refusalOf(c as Extract<typeof c, { ok: false }>))).toBe(
      'corp.test resolves to a loopback, private or link-local address',
    );
  });

  it('every redirect hop is checked: a hop allowed as public redirecting inside is refused before the second request', async () => {
    dns.script('inside.test', ['127.0.0.1']);
    const targets = [
      `http://127.0.0.2:${inside.port}/`,
      `http://[::ffff:127.0.0.1]:${inside.port}/`,
      `http://inside.test:${inside.port}/`,
      'http://169.254.169.254/',
    ];
    let next = 0;
    const outer = await peer((_q, res) => void res.writeHead(302, { location: targets[next++]! }).end(), '127.0.0.3');
    // 127.0.0.3 plays a public host, so only the hop it redirects to is inside.
    const guard = new NetGuard({
      allowHttp: true,
      allowAddresses: ['127.0.0.3'],
      resolve: async (h) => (h === 'outer.test' ? [{ address: '127.0.0.3', family: 4 }] : dns.resolve(h)),
    });
    try {
      for (const target of targets)
        await expect(guard.fetch()(`http://outer.test:${outer.port}/start`), target).rejects.toMatchObject({
          code: 'refused_url',
        });
      expect(outer.hits).toHaveLength(targets.length);
      expect(inside.hits).toEqual([]);
    } finally {
      guard.close();
      await outer.stop();
    }
  });

  it('with ONBEHALF_ALLOW_PRIVATE_URLS=true the same loopback peer is reached, redirects included', async () => {
    const outer = await peer(
      (_q, res) => void res.writeHead(302, { location: `http://127.0.0.1:${inside.port}/after` }).end(),
    );
    const guard = new NetGuard({ allowPrivate: true });
    try {
      const res = await guard.fetch()(`http://localhost:${outer.port}/`);
      expect(await res.text()).toBe('inside');
      expect(inside.hits).toEqual(['/after']);
      inside.hits.length = 0;
    } finally {
      guard.close();
      await outer.stop();
    }
  });

  it('answers are bounded: too large a body and too slow an answer are cut off', async () => {
    const big = await peer((_q, res) => void res.end('x'.repeat(4096)));
    const slow = await peer(() => undefined);
    const guard = new NetGuard({ allowPrivate: true });
    try {
      const res = await guard.fetch({ maxBytes: 1000 })(`http://127.0.0.1:${big.port}/`);
      await expect(res.text()).rejects.toMatchObject({ code: 'refused_url' });
      const t0 = Date.now();
      await expect(guard.fetch({ timeoutMs: 300 })(`http://127.0.0.1:${slow.port}/`)).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      guard.close();
      await big.stop();
      await slow.stop();
    }
  });
});
