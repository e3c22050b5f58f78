import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/crypto/index.js';
import { presets } from '../../src/oauth/index.js';
import type { ChatOAuth } from '../../src/chat/services.js';
import { authorizeInBrowser, continueFlow, OAuthTestServer } from '../support/oauth-server.js';
import { oauthBed, type Bed } from './bed.js';
import { saidProvider } from '../support/said.js';

describe('providers an admin registers', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await oauthBed();
  });
  afterAll(async () => bed?.stop());

  it('is what the chat core expects (ChatOAuth)', () => {
    const seam: ChatOAuth = bed.oauth;
    expect(seam.redirectUri()).toBe(bed.oauth.redirectUri());
  });

  it('shows the exact redirect URI and lists providers without secrets', async () => {
    expect(bed.oauth.redirectUri()).toBe(`${bed.t.app.config.publicUrl}/oauth/callback`);
    const list = await bed.oauth.listProviders(bed.org.id);
    expect(list).toEqual([expect.objectContaining({ slug: 'vendor', kind: 'oauth2', hasClientSecret: true })]);
    expect(JSON.stringify(list)).not.toContain('client-secret-canary');
  });

  it('every preset registers with its vendor endpoints', async () => {
    for (const kind of ['github', 'google', 'slack', 'atlassian', 'microsoft', 'gitlab']) {
      const r = await bed.oauth.addProvider(bed.org.id, {
        slug: `p-${kind}`,
        kind,
        clientId: 'id',
        clientSecret: new Secret('s'),
      });
      expect(r.ok, kind).toBe(true);
      if (r.ok && r.value.kind === 'provider_added')
        expect(r.value.provider.authorizeUrl).toBe(presets[kind]!.authorizeUrl);
      else expect.unreachable(kind);
    }
    const link = await bed.oauth.connectLink(bed.org.id, bed.user.id, 'p-slack');
    const { res: start } = await continueFlow(link);
    const to = new URL(start.headers.get('location')!);
    expect(to.origin + to.pathname).toBe('https://slack.com/oauth/v2/authorize');
    expect(to.searchParams.get('user_scope')).toBe('users:read');
    expect(to.searchParams.get('redirect_uri')).toBe(bed.oauth.redirectUri());
  });

  it('mistakes are values with a one-line message: unknown preset, missing endpoint, bad URL, duplicate slug', async () => {
    const org = bed.org.id;
    // The refusal in the words the chat says it (its kind kept as `code`).
    const addProvider = async (...a: Parameters<Bed['oauth']['addProvider']>) =>
      saidProvider(await bed.oauth.addProvider(...a));
    expect(await addProvider(org, { slug: 'x1', kind: 'bitbucket', clientId: 'id' })).toMatchObject({
      ok: false,
      code: 'unknown_preset',
    });
    expect(
      await addProvider(org, {
        slug: 'x2',
        kind: 'oauth2',
        clientId: 'id',
        authorizeUrl: 'https://a.example/authorize',
      }),
    ).toMatchObject({ ok: false, code: 'missing_endpoint' });
    expect(
      await addProvider(org, {
        slug: 'x3',
        kind: 'oauth2',
        clientId: 'id',
        authorizeUrl: 'not a url',
        tokenUrl: 'https://a.example/t',
      }),
    ).toMatchObject({ ok: false, code: 'bad_url' });
    expect(
      await addProvider(org, {
        slug: 'x4',
        kind: 'oauth2',
        clientId: 'id',
        authorizeUrl: 'javascript:alert(1)',
        tokenUrl: 'https://a.example/t',
      }),
    ).toMatchObject({ ok: false, code: 'bad_url' });
    expect(await addProvider(org, { slug: 'x5', kind: 'oidc', clientId: 'id' })).toMatchObject({
      ok: false,
      code: 'missing_endpoint',
    });
    expect(await addProvider(org, { slug: 'vendor', kind: 'github', clientId: 'id' })).toMatchObject({
      ok: false,
      code: 'exists',
    });
    expect(await addProvider(org, { slug: 'Bad Slug', kind: 'github', clientId: 'id' })).toMatchObject({
      ok: false,
      code: 'bad_slug',
    });
    const r = await addProvider(org, { slug: 'x6', kind: 'nope', clientId: 'id' });
    expect(!r.ok && r.error.split('\n')).toHaveLength(1);
  });

  it('an oidc provider discovers its endpoints from the issuer and connects, naming the account from userinfo', async () => {
    const r = await bed.oauth.addProvider(bed.org.id, {
      slug: 'corp',
      kind: 'oidc',
      clientId: 'oidc-client',
      issuer: bed.server.issuer,
    });
    expect(r).toMatchObject({ ok: true });
    const p = (await bed.oauth.providers.get(bed.org.id, 'corp'))!;
    expect(p.tokenUrl).toBe(`${bed.server.issuer}/token`);
    expect(p.scopes).toContain('openid');
    const step = await authorizeInBrowser(await bed.oauth.connectLink(bed.org.id, bed.user.id, 'corp'));
    if (!('callbackUrl' in step)) throw new Error('no redirect');
    const page = await step.browser.fetch(step.callbackUrl);
    expect(page.status).toBe(200);
    // A first connect from an unproven browser waits for the user's confirmation.
    expect(await bed.oauth.confirmHeld(bed.org.id, bed.user.id, 'corp')).toMatchObject({ ok: true });
    const conns = await bed.oauth.listConnections(bed.org.id, bed.user.id);
    expect(conns.find((c) => c.providerSlug === 'corp')).toMatchObject({ status: 'active', vendorLogin: 'johndoe' });
  });

  it('an oidc issuer whose metadata does not list S256 in code_challenge_methods_supported (absent, or plain only) is refused at add in one line', async () => {
    let methods: string[] | undefined;
    const issuer = http.createServer((_req, res) => {
      const base = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          ...(methods ? { code_challenge_methods_supported: methods } : {}),
        }),
      );
    });
    await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
    try {
      for (const [m, why] of [
        [undefined, 'does not list code_challenge_methods_supported'],
        [['plain'], 'lists only plain'],
        [[], 'does not list code_challenge_methods_supported'],
      ] as const) {
        methods = m ? [...m] : undefined;
        const r = await bed.oauth.addProvider(bed.org.id, { slug: 'nopkce', kind: 'oidc', clientId: 'c', issuer: url });
        expect(saidProvider(r)).toEqual({
          ok: false,
          code: 'no_pkce',
          error: `The issuer's OpenID configuration ${why}, so PKCE S256 is not guaranteed; use an issuer that supports S256.`,
        });
      }
      expect((await bed.oauth.listProviders(bed.org.id)).map((p) => p.slug)).not.toContain('nopkce');
      methods = ['plain', 'S256'];
      expect(
        await bed.oauth.addProvider(bed.org.id, { slug: 'nopkce', kind: 'oidc', clientId: 'c', issuer: url }),
      ).toMatchObject({ ok: true });
      await bed.oauth.removeProvider(bed.org.id, 'nopkce');
    } finally {
      issuer.closeAllConnections();
      await new Promise<void>((r) => issuer.close(() => r()));
    }
  });

  it('an issuer that advertises the RFC 9207 iss parameter: a callback without iss is discarded, nothing stored, no code exchanged', async () => {
    // The authorization server itself never sends iss; its discovery document says it always does.
    const vendor = await OAuthTestServer.start({ issParameter: false });
    const discovery = http.createServer((_req, res) => {
      const base = `http://127.0.0.1:${(discovery.address() as AddressInfo).port}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer: base,
          authorization_endpoint: `${vendor.issuer}/authorize`,
          token_endpoint: `${vendor.issuer}/token`,
          userinfo_endpoint: `${vendor.issuer}/user`,
          code_challenge_methods_supported: ['S256'],
          authorization_response_iss_parameter_supported: true,
        }),
      );
    });
    await new Promise<void>((r) => discovery.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(discovery.address() as AddressInfo).port}`;
      expect(
        await bed.oauth.addProvider(bed.org.id, { slug: 'issy', kind: 'oidc', clientId: 'c-iss', issuer: url }),
      ).toMatchObject({ ok: true });
      const step = await authorizeInBrowser(await bed.oauth.connectLink(bed.org.id, bed.user.id, 'issy'));
      if (!('callbackUrl' in step)) throw new Error('no redirect');
      expect(new URL(step.callbackUrl).searchParams.has('iss')).toBe(false);
      const page = await step.browser.fetch(step.callbackUrl);
      expect(page.status).toBe(400);
      const html = await page.text();
      expect(html).toContain('Wrong authorization server');
      expect(html).toContain('Nothing was changed');
      expect(vendor.seen('/token')).toHaveLength(0);
      expect((await bed.oauth.listConnections(bed.org.id, bed.user.id)).map((c) => c.providerSlug)).not.toContain(
        'issy',
      );
      await bed.oauth.removeProvider(bed.org.id, 'issy');
    } finally {
      discovery.closeAllConnections();
      await new Promise<void>((r) => discovery.close(() => r()));
      await vendor.stop();
    }
  });

  it('a client secret can be replaced or cleared, and removing a provider removes its connections', async () => {
    expect(await bed.oauth.setClientSecret(bed.org.id, 'corp', new Secret('new'))).toMatchObject({ ok: true });
    expect((await bed.oauth.listProviders(bed.org.id)).find((p) => p.slug === 'corp')?.hasClientSecret).toBe(true);
    expect(await bed.oauth.setClientSecret(bed.org.id, 'corp', undefined)).toMatchObject({ ok: true });
    expect(await bed.oauth.removeProvider(bed.org.id, 'corp')).toMatchObject({ ok: true });
    expect((await bed.oauth.listConnections(bed.org.id, bed.user.id)).some((c) => c.providerSlug === 'corp')).toBe(
      false,
    );
    expect(await bed.oauth.removeProvider(bed.org.id, 'corp')).toMatchObject({ ok: false });
  });
});
