import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { McpAuthServer, type McpAuthServerOptions, whoami } from '../support/mcp-auth-server.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { world, type World } from '../support/world.js';

let w: World;
let t: TestApp;
const started: McpAuthServer[] = [];
let n = 0;

beforeAll(async () => {
  w = await world({ users: ['alice'], redis: false, shell: false });
  t = w.t;
});
afterAll(async () => {
  for (const s of started) await s.stop();
  await w?.stop();
});

/** A protected server as `opts` shapes it, registered for Alice's org; the provider found for it. */
async function discovered(opts: McpAuthServerOptions, before?: (s: McpAuthServer) => void) {
  const mcp = await McpAuthServer.start(opts);
  started.push(mcp);
  before?.(mcp);
  const org = (await t.app.identity.resolve((await w.user('alice')).identity)).org.id;
  const name = `srv${++n}`;
  const r = await t.app.oauth.ensureMcpProvider(org, { serverId: `id-${name}`, serverName: name, url: mcp.url });
  return { mcp, org, r, slug: `mcp-${name}` };
}

/** Alice follows her connect link as far as the authorization server's redirect back to us. */
async function authorize(org: string, slug: string) {
  const alice = (await t.app.identity.resolve((await w.user('alice')).identity)).user;
  const step = await authorizeInBrowser(await t.app.oauth.connectLink(org, alice.id, slug));
  if (!('callbackUrl' in step)) throw new Error(`no redirect: ${step.status} ${step.body}`);
  return { ...step, alice, asked: new URL(step.authorizeUrl).searchParams };
}

describe('MCP authorization discovery and scope selection', () => {
  it("the first authorization asks for the scope of the server's 401, plus offline_access the authorization server lists", async () => {
    const { org, r, slug } = await discovered({ asScopes: ['mcp:read', 'offline_access'] }, (s) => {
      s.requiredScopes = ['mcp:read'];
    });
    expect(r).toMatchObject({ kind: 'ok', providerSlug: slug });
    const { asked } = await authorize(org, slug);
    // Not the resource metadata's scopes_supported (mcp:tools).
    expect(asked.get('scope')).toBe('mcp:read offline_access');
  });

  it('offline_access is not asked for when the authorization server does not list it', async () => {
    const { org, r, slug } = await discovered({ asScopes: ['mcp:read', 'mcp:tools'] }, (s) => {
      s.requiredScopes = ['mcp:read'];
    });
    expect(r.kind).toBe('ok');
    expect((await authorize(org, slug)).asked.get('scope')).toBe('mcp:read');
  });

  it("without a challenge scope, the resource's scopes_supported; without either, no scope parameter", async () => {
    const listed = await discovered({});
    expect(listed.r.kind).toBe('ok');
    expect((await authorize(listed.org, listed.slug)).asked.get('scope')).toBe('mcp:tools');

    // The authorization server's own scopes_supported is not a source, and offline_access alone is not asked for.
    const none = await discovered({ prmScopes: null, asScopes: ['mcp:tools', 'offline_access'] });
    expect(none.r.kind).toBe('ok');
    expect((await authorize(none.org, none.slug)).asked.has('scope')).toBe(false);
  });

  it('a server that answers initialize without a token but protects what follows is found protected', async () => {
    const { mcp, r } = await discovered({ openInitialize: true });
    expect(r).toMatchObject({ kind: 'ok' });
    expect(mcp.registrations).toBe(1);
  });

  it('a 2025-03-26 server without resource metadata: its origin serves the authorization server metadata', async () => {
    const { mcp, org, r, slug } = await discovered({ legacy: 'metadata' });
    expect(r).toMatchObject({ kind: 'ok', registered: true });
    const provider = (await t.app.oauth.providers.get(org, slug))!;
    expect(provider).toMatchObject({ resource: null, authorizeUrl: `${new URL(mcp.url).origin}/authorize` });
    const step = await authorize(org, slug);
    expect(step.asked.has('resource')).toBe(false);
    expect((await step.browser.fetch(step.callbackUrl)).status).toBe(200);
    expect(await t.app.oauth.confirmHeld(org, step.alice.id, slug)).toMatchObject({ ok: true });
    const tok = await t.app.oauth.accessTokenFor(org, step.alice.id, slug);
    if (tok.kind !== 'ok') throw new Error(tok.kind);
    expect((await whoami(mcp.url, tok.token.reveal())).subject).toBe('vendor-alice');
  });

  it('a 2025-03-26 server without any metadata: the default /authorize, /token and /register at its origin', async () => {
    const { mcp, org, r, slug } = await discovered({ legacy: 'defaults' });
    expect(r).toMatchObject({ kind: 'ok', registered: true });
    const origin = new URL(mcp.url).origin;
    expect(await t.app.oauth.providers.get(org, slug)).toMatchObject({
      authorizeUrl: `${origin}/authorize`,
      tokenUrl: `${origin}/token`,
    });
    expect(mcp.seen.some((s) => s.method === 'POST' && s.path === '/register')).toBe(true);
    const step = await authorize(org, slug);
    expect((await step.browser.fetch(step.callbackUrl)).status).toBe(200);
    expect(mcp.seen.some((s) => s.method === 'POST' && s.path === '/token')).toBe(true);
  });

  it('RFC 9207: an iss that differs from the issuer only by a trailing slash is refused', async () => {
    const { mcp, org, r, slug } = await discovered({ iss: 'pending' });
    expect(r.kind).toBe('ok');
    const issuer = (await t.app.oauth.providers.get(org, slug))!.issuer!;
    expect(issuer.endsWith('/')).toBe(true);
    mcp.provider.iss = issuer.replace(/\/$/, '');
    const wrong = await authorize(org, slug);
    expect((await wrong.browser.fetch(wrong.callbackUrl)).status).toBe(400);
    mcp.provider.iss = issuer;
    const right = await authorize(org, slug);
    expect((await right.browser.fetch(right.callbackUrl)).status).toBe(200);
  });
});
