import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../support/mcp-servers/index.js';
import type { TestApp } from '../support/app.js';
import { McpAuthServer, whoami } from '../support/mcp-auth-server.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { world, type World } from '../support/world.js';

describe('MCP-spec OAuth (RFC 9728 + 8414 + 7591 + 8707)', () => {
  let w: World;
  let t: TestApp;
  let mcp: McpAuthServer;
  beforeAll(async () => {
    w = await world({
      users: ['alice', 'bob'],
      displayNames: { alice: 'Alice', bob: 'Bob' },
      workspaceName: 'Acme',
      redis: false,
      shell: false,
    });
    t = w.t;
    mcp = await McpAuthServer.start();
  });
  afterAll(async () => {
    await mcp?.stop();
    await w?.stop();
  });

  it("two users connect through a client registered once; each tool call runs with the caller's own token", async () => {
    const oauth = t.app.oauth;
    const alice = await t.app.identity.resolve((await w.user('alice')).identity);
    const bob = await t.app.identity.resolve((await w.user('bob')).identity);
    const org = alice.org.id;
    const server = { serverId: 'srv-1', serverName: 'Tracker', url: mcp.url };

    const [r1, r2] = await Promise.all([oauth.ensureMcpProvider(org, server), oauth.ensureMcpProvider(org, server)]);
    expect(r1).toMatchObject({ kind: 'ok', providerSlug: 'mcp-tracker' });
    expect(r2).toMatchObject({ kind: 'ok', providerSlug: 'mcp-tracker' });
    const provider = (await oauth.providers.get(org, 'mcp-tracker'))!;
    expect(provider).toMatchObject({ kind: 'mcp', resource: mcp.url, mcpServerId: 'srv-1' });
    expect(provider.clientSecretSealed).toBeTruthy();

    for (const [who, login] of [
      [alice.user, 'vendor-alice'],
      [bob.user, 'vendor-bob'],
    ] as const) {
      expect(await oauth.accessTokenFor(org, who.id, 'mcp-tracker')).toMatchObject({ kind: 'missing' });
      mcp.login = login;
      const step = await authorizeInBrowser(await oauth.connectLink(org, who.id, 'mcp-tracker'));
      if (!('callbackUrl' in step)) throw new Error(`no redirect: ${step.status} ${step.body}`);
      expect(new URL(step.authorizeUrl).searchParams.get('resource')).toBe(mcp.url);
      const page = await step.browser.fetch(step.callbackUrl);
      expect(page.status).toBe(200);
      expect(await oauth.confirmHeld(org, who.id, 'mcp-tracker')).toMatchObject({ ok: true });
    }
    // The registration happened once for two users.
    expect(mcp.registrations).toBe(1);
    expect((await oauth.ensureMcpProvider(org, server)).kind).toBe('ok');
    expect(mcp.registrations).toBe(1);
    // resource= on the token request too.
    const tokenReqs = mcp.seen.filter((s) => s.side === 'as' && s.path === '/token');
    expect(tokenReqs.length).toBeGreaterThanOrEqual(2);
    expect(tokenReqs.every((s) => s.body['resource'] === mcp.url)).toBe(true);

    const a = await oauth.accessTokenFor(org, alice.user.id, 'mcp-tracker');
    const b = await oauth.accessTokenFor(org, bob.user.id, 'mcp-tracker');
    if (a.kind !== 'ok' || b.kind !== 'ok') throw new Error('no tokens');
    expect(await whoami(mcp.url, a.token.reveal())).toMatchObject({
      subject: 'vendor-alice',
      token: fingerprint(a.token.reveal()),
    });
    expect(await whoami(mcp.url, b.token.reveal())).toMatchObject({
      subject: 'vendor-bob',
      token: fingerprint(b.token.reveal()),
    });

    // A forced refresh also carries resource=, and the new token works.
    const forced = await oauth.accessTokenFor(org, alice.user.id, 'mcp-tracker', { forceRefresh: true });
    if (forced.kind !== 'ok') throw new Error(forced.kind);
    expect(forced.token.reveal()).not.toBe(a.token.reveal());
    expect(
      mcp.seen
        .filter((s) => s.path === '/token' && s.body['grant_type'] === 'refresh_token')
        .every((s) => s.body['resource'] === mcp.url),
    ).toBe(true);
    expect((await whoami(mcp.url, forced.token.reveal())).subject).toBe('vendor-alice');
    expect(t.logs.containing(a.token.reveal(), b.token.reveal(), forced.token.reveal())).toEqual([]);
  });

  it('protected resource metadata naming another resource aborts, and nothing is registered', async () => {
    const other = await McpAuthServer.start({ metadataResource: 'http://127.0.0.1:9/elsewhere' });
    try {
      const { org } = await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: 'alice' });
      const r = await t.app.oauth.ensureMcpProvider(org.id, {
        serverId: 'srv-2',
        serverName: 'Other',
        url: other.url,
      });
      expect(r).toEqual({ kind: 'discovery_failed', cause: 'other_resource', detail: 'http://127.0.0.1:9/elsewhere' });
      expect(other.registrations).toBe(0);
    } finally {
      await other.stop();
    }
  });

  it('an authorization server without PKCE S256 is refused', async () => {
    const weak = await McpAuthServer.start({ s256: false });
    try {
      const { org } = await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: 'alice' });
      const r = await t.app.oauth.ensureMcpProvider(org.id, { serverId: 'srv-3', serverName: 'Weak', url: weak.url });
      expect(r).toMatchObject({ kind: 'no_pkce' });
      expect(weak.registrations).toBe(0);
    } finally {
      await weak.stop();
    }
  });

  it('a server that does not ask for a token is reported as not protected', async () => {
    const open = await (await import('../support/oauth-server.js')).OAuthTestServer.start();
    try {
      const { org } = await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: 'alice' });
      const r = await t.app.oauth.ensureMcpProvider(org.id, {
        serverId: 'srv-4',
        serverName: 'Open',
        url: `${open.issuer}/user-free`,
      });
      expect(r).toMatchObject({ kind: 'not_protected' });
    } finally {
      await open.stop();
    }
  });
});
