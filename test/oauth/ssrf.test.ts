import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { hostname } from 'node:os';
import { lookup } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import { newId } from '../../src/db/index.js';
import { eq } from 'drizzle-orm';
import { oauthBed, type Bed } from './bed.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { NetGuard } from '../../src/net/index.js';
import { ShellOutbound } from '../../src/platforms/shell/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startMcpHttpServer, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { ShellSession } from '../support/shell.js';
import { insideForms } from '../net/forms.js';
import { saidConnection, saidProvider } from '../support/said.js';

/** A loopback HTTP server that counts what reaches it. */
async function countingServer(handler?: http.RequestListener) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (handler) return handler(req, res);
    res.writeHead(401, { 'www-authenticate': 'Bearer resource_metadata="http://127.0.0.1:1/x"' }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    hits,
    port: (server.address() as AddressInfo).port,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('no request a tenant admin can aim reaches a private address unless the operator allows it', () => {
  let t: TestApp;
  let target: Awaited<ReturnType<typeof countingServer>>;
  let mcp: TestMcpHttpServer;
  let ada: ShellSession;
  beforeAll(async () => {
    t = await startTestApp({ ONBEHALF_ALLOW_PRIVATE_URLS: 'false', ONBEHALF_ADMINS: 'shell:local:ada' });
    t.app.outbound.register('shell', new ShellOutbound(() => ada?.stream));
    ada = new ShellSession(t.app.chat, 'ada');
    target = await countingServer();
    mcp = await startMcpHttpServer();
  });
  afterAll(async () => {
    await ada?.close();
    await target?.stop();
    await mcp?.stop();
    await t?.stop();
  });

  it('MCP authorization discovery and OIDC discovery of every inside address form are refused without any request being made', async () => {
    const { org } = await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: 'alice' });
    const urls = [
      `http://127.0.0.1:${target.port}/mcp`,
      `https://127.0.0.1:${target.port}/mcp`,
      `https://localhost:${target.port}/mcp`,
      `https://[::1]:${target.port}/mcp`,
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.1/mcp',
      'https://192.168.1.1/mcp',
      `https://[::ffff:127.0.0.1]:${target.port}/mcp`,
      ...insideForms(target.port).flatMap((u) => [u, u.replace('http:', 'https:')]),
    ];
    for (const [i, url] of urls.entries()) {
      const r = await t.app.oauth.ensureMcpProvider(org.id, { serverId: `s${i}`, serverName: `s${i}`, url });
      expect(r.kind, url).toBe('refused_url');
    }
    for (const form of insideForms(target.port)) {
      const p = await t.app.oauth.addProvider(org.id, {
        slug: 'corp',
        kind: 'oidc',
        clientId: 'c',
        issuer: form.replace('http:', 'https:'),
      });
      expect(saidProvider(p), form).toMatchObject({
        ok: false,
        code: 'bad_url',
        error: expect.stringMatching(
          /^--issuer .+ is a loopback, private or link-local address \(.+\); the operator can allow private addresses with ONBEHALF_ALLOW_PRIVATE_URLS=true\.$/,
        ),
      });
    }
    expect(target.hits).toEqual([]);
    expect(await t.app.oauth.listProviders(org.id)).toEqual([]);
  });

  it('admin server add and admin provider add refuse every inside address form in one line and store nothing', async () => {
    for (const form of insideForms(target.port)) {
      const server = await ada.send(`/onbehalf admin server add inside http ${form}`);
      expect(server.split('\n'), form).toHaveLength(1);
      expect(server, form).toMatch(
        /^onbehalf \(only you\): Server not added: .+ is a loopback, private or link-local address \(.+\); the operator can allow private addresses with ONBEHALF_ALLOW_PRIVATE_URLS=true\.$/,
      );
      const https = form.replace('http:', 'https:');
      for (const line of [
        `/onbehalf admin provider add inside oauth2 cid --authorize ${https} --token https://auth.example.com/token`,
        `/onbehalf admin provider add inside oauth2 cid --authorize https://auth.example.com/authorize --token ${https}`,
        `/onbehalf admin provider add inside oauth2 cid --authorize https://auth.example.com/authorize --token https://auth.example.com/token --revoke ${https}`,
        `/onbehalf admin provider add inside oidc cid --issuer ${https}`,
      ]) {
        const out = await ada.send(line);
        expect(out.split('\n'), line).toHaveLength(1);
        expect(out, line).toMatch(
          /is a loopback, private or link-local address \(.+\); the operator can allow private addresses with ONBEHALF_ALLOW_PRIVATE_URLS=true\.$/,
        );
      }
    }
    expect(await ada.send('/onbehalf admin server list')).toBe('onbehalf (only you): No MCP servers yet.');
    expect(await ada.send('/onbehalf admin provider list')).toMatch(/^onbehalf \(only you\): No providers yet/);
    expect(target.hits).toEqual([]);
  });

  it('a server stored with an inside address (before the guard, or by hand) is refused at call time and the MCP server sees nothing', async () => {
    const { org } = await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: 'ada' });
    const url = mcp.url.replace('127.0.0.1', '[::ffff:127.0.0.1]');
    await t.app.store.changes(
      t.app.store.db.insert(t.app.store.t.mcpServers).values({
        id: newId(),
        orgId: org.id,
        name: 'legacy',
        transport: 'http',
        url,
        timeoutMs: 5000,
        source: 'admin',
      }),
    );
    const from = ada.output.length;
    await ada.send('/onbehalf run legacy.whoami {}');
    await ada.waitFor(
      /`legacy\.whoami` failed: legacy: \[::ffff:7f00:1\]:\d+ is a loopback, private or link-local address \(IPv4-mapped IPv6\)/,
      from,
    );
    expect(mcp.requests).toBe(0);
  });

  it('a name is checked again at connect time: a host name resolving to a private address is refused before any request', async () => {
    const name = hostname();
    const addr = await lookup(name).catch(() => undefined);
    expect(addr, "this machine's host name resolves").toBeDefined();
    const guard = new NetGuard({ allowHttp: true });
    await expect(guard.fetch()(`http://${name}:${target.port}/`)).rejects.toMatchObject({ code: 'refused_url' });
    expect(target.hits).toEqual([]);
    guard.close();
  });

  it('every redirect hop is checked: a public hop redirecting to a private address is refused before the second request', async () => {
    const inner = await countingServer((_req, res) => res.end('secret'));
    const outer = await countingServer((_req, res) =>
      res.writeHead(302, { location: `http://127.0.0.2:${inner.port}/` }).end(),
    );
    // 127.0.0.1 plays a public address for this test so only the hop is private.
    const guard = new NetGuard({ allowHttp: true, allowAddresses: ['127.0.0.1'] });
    try {
      await expect(guard.fetch()(`http://127.0.0.1:${outer.port}/`)).rejects.toMatchObject({ code: 'refused_url' });
      expect(outer.hits).toHaveLength(1);
      expect(inner.hits).toEqual([]);
    } finally {
      guard.close();
      await inner.stop();
      await outer.stop();
    }
  });
});

describe('token, userinfo and revocation requests go through the guard at call time', () => {
  let bed: Bed;
  beforeAll(async () => {
    // The loopback OAuth server at 127.0.0.1 plays a public provider; every other inside address is refused.
    bed = await oauthBed({
      env: { ONBEHALF_ALLOW_PRIVATE_URLS: 'false' },
      app: { net: { allowAddresses: ['127.0.0.1'], allowHttp: true } },
    });
  });
  afterAll(async () => bed?.stop());

  it('a provider whose endpoints now name an inside address (stored before the guard) gets no refresh and no revocation request', async () => {
    await bed.connect();
    const inside = bed.server.issuer.replace('127.0.0.1', '[::ffff:127.0.0.1]');
    await bed.store.changes(
      bed.store.db
        .update(bed.store.t.oauthProviders)
        .set({ tokenUrl: `${inside}/token`, revokeUrl: `${inside}/revoke`, userinfoUrl: `${inside}/user` })
        .where(eq(bed.store.t.oauthProviders.slug, 'vendor')),
    );
    const tokensBefore = bed.server.seen('/token').length;
    expect(await bed.oauth.accessTokenFor(bed.org.id, bed.user.id, 'vendor', { forceRefresh: true })).toMatchObject({
      kind: 'unavailable',
    });
    expect(bed.server.seen('/token')).toHaveLength(tokensBefore);
    const r = await bed.oauth.disconnect(bed.org.id, bed.user.id, 'vendor');
    expect(saidConnection(r).ok && saidConnection(r).message).toContain('did not confirm');
    expect(bed.server.seen('/revoke')).toEqual([]);
  });

  it('a provider whose sign-in address now names an inside address does not send the browser there', async () => {
    const inside = bed.server.issuer.replace('127.0.0.1', '[::ffff:127.0.0.1]');
    await bed.store.changes(
      bed.store.db
        .update(bed.store.t.oauthProviders)
        .set({ authorizeUrl: `${inside}/authorize` })
        .where(eq(bed.store.t.oauthProviders.slug, 'vendor')),
    );
    const before = bed.server.seen('/authorize').length;
    const states = (await bed.states()).length;
    const step = await authorizeInBrowser(await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor'));
    expect(step).toMatchObject({ status: 400, body: expect.stringContaining('not a public https address') });
    expect(bed.server.seen('/authorize')).toHaveLength(before);
    expect(await bed.states()).toHaveLength(states);
  });
});
