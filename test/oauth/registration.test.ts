import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { Secret } from '../../src/crypto/index.js';
import { McpAuthServer, whoami } from '../support/mcp-auth-server.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { world, type World } from '../support/world.js';

const CIMD_URL = 'https://onbehalf.example.test/oauth/client.json';

/** Connects `alice` to the server's provider through the browser flow; what the MCP server then sees of her token. */
async function connectAlice(w: World, mcp: McpAuthServer, slug: string) {
  const oauth = w.t.app.oauth;
  const alice = await w.user('alice');
  const step = await authorizeInBrowser(await oauth.connectLink(alice.orgId, alice.id, slug));
  if (!('callbackUrl' in step)) throw new Error(`no redirect: ${step.status} ${step.body}`);
  expect((await step.browser.fetch(step.callbackUrl)).status).toBe(200);
  await oauth.confirmHeld(alice.orgId, alice.id, slug);
  const a = await oauth.accessTokenFor(alice.orgId, alice.id, slug);
  if (a.kind !== 'ok') throw new Error(a.kind);
  return { authorizeUrl: new URL(step.authorizeUrl), seen: await whoami(mcp.url, a.token.reveal()) };
}

describe('client ID metadata documents (CIMD)', () => {
  let w: World;
  let mcp: McpAuthServer;
  beforeAll(async () => {
    w = await world({ users: ['alice'], redis: false, shell: false, env: { ONBEHALF_CLIENT_METADATA_URL: CIMD_URL } });
    // The authorization server fetches the document behind the URL: here, the one onbehalf serves.
    const served = `${w.t.baseUrl}/oauth/client.json`;
    mcp = await McpAuthServer.start({
      metadata: { client_id_metadata_document_supported: true },
      metadataDocument: async (id) => {
        const doc = (await (await fetch(served)).json()) as OAuthClientInformationFull;
        return doc.client_id === id ? doc : undefined;
      },
    });
  });
  afterAll(async () => {
    await mcp?.stop();
    await w?.stop();
  });

  it('onbehalf serves its client metadata document: a public client with its redirect URI', async () => {
    const res = await fetch(`${w.t.baseUrl}/oauth/client.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      client_id: CIMD_URL,
      client_name: 'onbehalf',
      redirect_uris: [`${w.t.baseUrl}/oauth/callback`],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
  });

  it('where the server accepts metadata documents, the document URL is the client id and nothing is registered', async () => {
    const alice = await w.user('alice');
    const r = await w.t.app.oauth.ensureMcpProvider(alice.orgId, {
      serverId: 'srv-c',
      serverName: 'Cimd',
      url: mcp.url,
    });
    expect(r).toMatchObject({ kind: 'ok', providerSlug: 'mcp-cimd' });
    expect(mcp.registrations).toBe(0);
    const { authorizeUrl, seen } = await connectAlice(w, mcp, 'mcp-cimd');
    expect(authorizeUrl.searchParams.get('client_id')).toBe(CIMD_URL);
    expect(seen.clientId).toBe(CIMD_URL);
    const token = mcp.seen.filter((s) => s.side === 'as' && s.path === '/token');
    expect(token.every((s) => s.body['client_id'] === CIMD_URL && !s.body['client_secret'] && !s.authorization)).toBe(
      true,
    );
  });
});

describe('dynamic registration and pre-registered clients', () => {
  let w: World;
  beforeAll(async () => {
    w = await world({ users: ['alice'], redis: false, shell: false, env: { ONBEHALF_ADMINS: 'shell:local:alice' } });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('on an http PUBLIC_URL the metadata document cannot be a client id: DCR, sending application_type web', async () => {
    const mcp = await McpAuthServer.start({ metadata: { client_id_metadata_document_supported: true } });
    try {
      const alice = await w.user('alice');
      const r = await w.t.app.oauth.ensureMcpProvider(alice.orgId, {
        serverId: 'srv-d',
        serverName: 'Dcr',
        url: mcp.url,
      });
      expect(r).toMatchObject({ kind: 'ok', providerSlug: 'mcp-dcr' });
      expect(mcp.registrations).toBe(1);
      const reg = mcp.seen.find((s) => s.side === 'as' && s.path === '/register')!;
      expect(reg.body).toMatchObject({ application_type: 'web', redirect_uris: [`${w.t.baseUrl}/oauth/callback`] });
      const { seen } = await connectAlice(w, mcp, 'mcp-dcr');
      expect(seen.clientId).not.toMatch(/^https:/);
    } finally {
      await mcp.stop();
    }
  });

  it("an admin's client id and secret (given in chat, the secret in a private form) replace DCR, sent by HTTP Basic", async () => {
    const mcp = await McpAuthServer.start({
      metadata: { registration_endpoint: null, token_endpoint_auth_methods_supported: ['client_secret_basic'] },
      clients: [
        {
          client_id: 'pre-client',
          client_secret: 'pre-secret-canary',
          redirect_uris: [`${w.t.baseUrl}/oauth/callback`],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
    });
    try {
      const alice = await w.user('alice');
      const chat = w.t.app.chat;
      const target = alice.target();
      const added = await w.t.app.policy.addServer(alice.orgId, { name: 'Tracker', transport: 'http', url: mcp.url });
      if (!added.ok) throw new Error(JSON.stringify(added.error));
      const said = await chat.handle({
        kind: 'command',
        identity: alice.identity,
        target,
        text: 'admin server auth Tracker --client-id pre-client',
      });
      expect(said?.private?.text).toMatch(/Tracker will use this client id/);
      expect(said?.form?.formId).toBe('provider-secret:mcp-tracker');
      const stored = await chat.handle({
        kind: 'form_submit',
        identity: alice.identity,
        target,
        formId: said!.form!.formId,
        values: { value: new Secret('pre-secret-canary') },
      });
      expect(stored?.private?.text).toMatch(/saved \(sealed\)/);

      const server = (await w.t.app.policy.server(alice.orgId, 'Tracker'))!;
      const r = await w.t.app.oauth.ensureMcpProvider(alice.orgId, {
        serverId: server.id,
        serverName: 'Tracker',
        url: mcp.url,
      });
      expect(r).toMatchObject({ kind: 'ok', providerSlug: 'mcp-tracker' });
      expect(mcp.registrations).toBe(0);
      const { seen } = await connectAlice(w, mcp, 'mcp-tracker');
      expect(seen.clientId).toBe('pre-client');
      const token = mcp.seen.filter((s) => s.side === 'as' && s.path === '/token');
      expect(token.length).toBeGreaterThan(0);
      expect(token.every((s) => s.authorization?.startsWith('Basic '))).toBe(true);
      expect(w.t.logs.containing('pre-secret-canary')).toEqual([]);
    } finally {
      await mcp.stop();
    }
  });

  it('a pre-registered client of a server that lists only client_secret_post sends its secret in the body', async () => {
    const mcp = await McpAuthServer.start({
      metadata: { registration_endpoint: null },
      clients: [
        {
          client_id: 'post-client',
          client_secret: 'post-secret-canary',
          redirect_uris: [`${w.t.baseUrl}/oauth/callback`],
        },
      ],
    });
    try {
      const alice = await w.user('alice');
      const oauth = w.t.app.oauth;
      const server = { serverId: 'srv-p', serverName: 'Poster' };
      expect(await oauth.preRegisterMcpClient(alice.orgId, server, 'post-client')).toMatchObject({ ok: true });
      await oauth.setClientSecret(alice.orgId, 'mcp-poster', new Secret('post-secret-canary'));
      expect(await oauth.ensureMcpProvider(alice.orgId, { ...server, url: mcp.url })).toMatchObject({ kind: 'ok' });
      expect((await connectAlice(w, mcp, 'mcp-poster')).seen.clientId).toBe('post-client');
      const token = mcp.seen.filter((s) => s.side === 'as' && s.path === '/token');
      expect(token.every((s) => s.body['client_secret'] === 'post-secret-canary' && !s.authorization)).toBe(true);
    } finally {
      await mcp.stop();
    }
  });

  it('two servers behind one authorization server share one registration (kept per issuer)', async () => {
    const mcp = await McpAuthServer.start();
    try {
      const alice = await w.user('alice');
      const oauth = w.t.app.oauth;
      const one = await oauth.ensureMcpProvider(alice.orgId, { serverId: 'srv-1', serverName: 'One', url: mcp.url });
      const two = await oauth.ensureMcpProvider(alice.orgId, { serverId: 'srv-2', serverName: 'Two', url: mcp.url });
      expect([one.kind, two.kind]).toEqual(['ok', 'ok']);
      expect(mcp.registrations).toBe(1);
      const ids = await Promise.all(
        ['mcp-one', 'mcp-two'].map(async (slug) => (await oauth.providers.get(alice.orgId, slug))?.clientId),
      );
      expect(ids[0]).toBeTruthy();
      expect(ids[1]).toBe(ids[0]);
      expect((await connectAlice(w, mcp, 'mcp-two')).seen.clientId).toBe(ids[0]);
    } finally {
      await mcp.stop();
    }
  });

  it("a server now behind another authorization server gets that issuer's client; the old issuer's client is never sent there", async () => {
    const first = await McpAuthServer.start();
    const second = await McpAuthServer.start();
    try {
      const alice = await w.user('alice');
      const oauth = w.t.app.oauth;
      const ref = { serverId: 'srv-mover', serverName: 'Mover' };
      expect((await oauth.ensureMcpProvider(alice.orgId, { ...ref, url: first.url })).kind).toBe('ok');
      const before = (await oauth.providers.get(alice.orgId, 'mcp-mover'))!;
      expect(first.registrations).toBe(1);
      // The same server, found again where it now points at the second authorization server.
      const moved = await oauth.ensureMcpProvider(alice.orgId, { ...ref, url: second.url }, { recheck: true });
      expect(moved).toMatchObject({ kind: 'ok', providerSlug: 'mcp-mover', registered: true });
      const after = (await oauth.providers.get(alice.orgId, 'mcp-mover'))!;
      expect(second.registrations).toBe(1);
      expect(after.issuer).not.toBe(before.issuer);
      expect(after.clientId).not.toBe(before.clientId);
      const seen = await connectAlice(w, second, 'mcp-mover');
      expect(seen.authorizeUrl.searchParams.get('client_id')).toBe(after.clientId);
      expect(seen.seen.clientId).toBe(after.clientId);
      // Found again behind the same issuer: the client stays, nothing is registered.
      await w.t.app.redis.del(`onbehalf:oauth:mcp-recheck:${alice.orgId}:srv-mover`);
      const again = await oauth.ensureMcpProvider(alice.orgId, { ...ref, url: second.url }, { recheck: true });
      expect(again).toMatchObject({ kind: 'ok', registered: false });
      expect(second.registrations).toBe(1);
      expect((await oauth.providers.get(alice.orgId, 'mcp-mover'))!.clientId).toBe(after.clientId);
    } finally {
      await first.stop();
      await second.stop();
    }
  });

  it('refusals of admin server auth are one line each', async () => {
    const alice = await w.user('alice');
    const say = async (text: string) =>
      (await w.t.app.chat.handle({ kind: 'command', identity: alice.identity, target: alice.target(), text }))?.private
        ?.text;
    expect(await say('admin server auth Nowhere --client-id x')).toBe('There is no server named Nowhere.');
    expect(await say('admin server auth Tracker')).toMatch(/^Give the client id: /);
  });
});
