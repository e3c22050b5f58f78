import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { Secret } from '../../src/crypto/index.js';
import { authorizeInBrowser, OAuthTestServer, pressContinue, TestBrowser } from '../support/oauth-server.js';
import { oauthBed, type Bed } from './bed.js';
import { sealedTables } from '../../src/db/sealed.js';

/** Every forgery must leave the user's connection exactly as it was. */
describe('replays and forgeries fail and change nothing', () => {
  let bed: Bed;
  let other: OAuthTestServer;
  let version: number;
  beforeAll(async () => {
    bed = await oauthBed();
    other = await OAuthTestServer.start();
    const added = await bed.oauth.addProvider(bed.org.id, {
      slug: 'other',
      kind: 'oauth2',
      clientId: 'client-2',
      issuer: other.issuer,
      ...other.endpoints,
    });
    if (!added.ok) throw new Error(JSON.stringify(added.error));
    await bed.connect();
    version = (await bed.connection())!.version;
  });
  afterAll(async () => {
    await other?.stop();
    await bed?.stop();
  });
  const unchanged = async () => {
    expect((await bed.connection())!.version).toBe(version);
    expect((await bed.states()).every((s) => s.userId === bed.user.id)).toBe(true);
  };

  it('a reused start link is refused and creates no second state', async () => {
    const link = await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor');
    const browser = new TestBrowser();
    const page = await (await browser.fetch(link)).text();
    expect((await pressContinue(browser, link, page)).status).toBe(303);
    const states = (await bed.states()).length;
    const again = await pressContinue(browser, link, page);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('already used');
    expect((await bed.states()).length).toBe(states);
    // The state is stored hashed, with a sealed verifier, for 10 minutes.
    const stored = (await bed.states()).at(-1)!;
    expect(stored.stateHash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.expiresAt - stored.createdAt).toBeGreaterThan(595_000);
    expect(stored.expiresAt - stored.createdAt).toBeLessThanOrEqual(601_000);
    await unchanged();
  });

  it('one start link Continued 20 times at once: one goes on to the provider, 19 are told it was used, one state', async () => {
    const link = await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor');
    const browser = new TestBrowser();
    const page = await (await browser.fetch(link)).text();
    const states = (await bed.states()).length;
    const answers = await Promise.all(Array.from({ length: 20 }, () => pressContinue(browser, link, page)));
    expect(answers.filter((r) => r.status === 303)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 400)).toHaveLength(19);
    expect((await bed.states()).length).toBe(states + 1);
  });

  it('a tampered or expired start link is refused and stores no state', async () => {
    const states = (await bed.states()).length;
    const link = await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor');
    const t = new URL(link).searchParams.get('t')!;
    const [h, p, s] = t.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, u: 'someone-else' })).toString('base64url')}.${s}`;
    const res = await fetch(`${bed.t.baseUrl}/oauth/start?t=${forged}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('not valid');
    const expired = await bed.t.app.links.sign('oauth-start', { o: bed.org.id, u: bed.user.id, p: 'vendor' }, -10);
    const res2 = await fetch(`${bed.t.baseUrl}/oauth/start?t=${expired}`, { redirect: 'manual' });
    expect(res2.status).toBe(400);
    expect(await res2.text()).toContain('expired');
    expect((await bed.states()).length).toBe(states);
    await unchanged();
  });

  it('a reused state is refused the second time', async () => {
    const first = await bed.connect();
    expect(first.res.status).toBe(200);
    version = (await bed.connection())!.version;
    const again = await first.browser.fetch(first.callbackUrl);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('already');
    await unchanged();
  });

  it('an unknown, missing or expired state is refused', async () => {
    expect((await fetch(`${bed.t.baseUrl}/oauth/callback?state=made-up&code=x`)).status).toBe(400);
    expect((await fetch(`${bed.t.baseUrl}/oauth/callback?code=x`)).status).toBe(400);
    const step = await authorizeInBrowser(await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor'));
    if (!('callbackUrl' in step)) throw new Error('no redirect');
    const hashOf = (await import('node:crypto'))
      .createHash('sha256')
      .update(new URL(step.callbackUrl).searchParams.get('state')!)
      .digest('hex');
    await bed.store.changes(
      bed.store.db
        .update(bed.store.t.oauthStates)
        .set({ expiresAt: Date.now() - 1000 })
        .where(eq(bed.store.t.oauthStates.stateHash, hashOf)),
    );
    const res = await step.browser.fetch(step.callbackUrl);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('expired');
    await unchanged();
  });

  it('a state from one provider with the answer of another is discarded without showing its error fields', async () => {
    const mine = await authorizeInBrowser(await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor'));
    const theirs = await authorizeInBrowser(await bed.oauth.connectLink(bed.org.id, bed.user.id, 'other'));
    if (!('callbackUrl' in mine) || !('callbackUrl' in theirs)) throw new Error('no redirect');
    const mixed = new URL(theirs.callbackUrl);
    mixed.searchParams.set('state', new URL(mine.callbackUrl).searchParams.get('state')!);
    mixed.searchParams.set('error', 'access_denied');
    mixed.searchParams.set('error_description', 'INJECTED-TEXT');
    const res = await mine.browser.fetch(mixed);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('different authorization server');
    expect(html).not.toContain('INJECTED-TEXT');
    const otherProvider = (await bed.oauth.providers.get(bed.org.id, 'other'))!;
    expect((await bed.connection(bed.user.id))!.providerId).not.toBe(otherProvider.id);
    expect(other.seen('/token')).toHaveLength(0);
    await unchanged();
  });

  it('a missing code is refused', async () => {
    const step = await authorizeInBrowser(await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor'));
    if (!('callbackUrl' in step)) throw new Error('no redirect');
    const u = new URL(step.callbackUrl);
    u.searchParams.delete('code');
    const res = await step.browser.fetch(u);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('no authorization code');
    await unchanged();
  });

  it('a wrong PKCE verifier is refused by the provider and nothing is stored', async () => {
    const tokenCalls = bed.server.seen('/token').length;
    const step = await authorizeInBrowser(await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor'));
    if (!('callbackUrl' in step)) throw new Error('no redirect');
    const hashOf = (await import('node:crypto'))
      .createHash('sha256')
      .update(new URL(step.callbackUrl).searchParams.get('state')!)
      .digest('hex');
    const { oauthStates } = bed.store.t;
    const row = (await bed.store.first(
      bed.store.db.select().from(oauthStates).where(eq(oauthStates.stateHash, hashOf)),
    ))!;
    const wrong = new Secret('w'.repeat(64));
    await bed.store.changes(
      bed.store.db
        .update(oauthStates)
        .set({
          codeVerifierSealed: bed.t.app.keyring.seal(
            wrong.reveal(),
            sealedTables.oauthStates.ctx(row, 'codeVerifierSealed'),
          ),
        })
        .where(eq(oauthStates.id, row.id)),
    );
    const res = await step.browser.fetch(step.callbackUrl);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('Nothing was changed');
    expect(bed.server.seen('/token').length).toBe(tokenCalls + 1);
    await unchanged();
  });
});
