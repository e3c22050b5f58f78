import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { world, type World } from '../support/world.js';
import { eq } from 'drizzle-orm';
import type { TestApp } from '../support/app.js';
import { fingerprint, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import {
  authorizeInBrowser,
  continueFields,
  OAuthTestServer,
  pressContinue,
  TestBrowser,
} from '../support/oauth-server.js';

/**
 * The attacker's view of a connect link (issue 11 §1), without chat sign-in (the shell): Mallory
 * forwards her link, or gets hold of Alice's; link scanners prefetch; callbacks are replayed.
 */
describe("a forwarded connect link does not attach someone else's vendor account", () => {
  let w: World;
  let t: TestApp;
  let vendor: OAuthTestServer;
  let mcp: TestMcpHttpServer;
  const as = (user: string) => w.as(user);
  const userId = async (name: string) =>
    (await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: name, displayName: name })).user
      .id;
  const orgId = async () =>
    (await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: 'ada' })).org.id;
  const store = () => t.app.store;
  const row = async (name: string) => {
    const { connectedAccounts } = store().t;
    const id = await userId(name);
    return store().first(store().db.select().from(connectedAccounts).where(eq(connectedAccounts.userId, id)).limit(1));
  };
  const usedLink = (jti: string) => {
    const { usedLinks } = store().t;
    return store().first(store().db.select().from(usedLinks).where(eq(usedLinks.jti, jti)).limit(1));
  };
  const statesOf = async (userId?: string) => {
    const { oauthStates } = store().t;
    const q = store().db.select().from(oauthStates);
    return store().rows(userId === undefined ? q : q.where(eq(oauthStates.userId, userId)));
  };
  const linkFor = async (name: string) =>
    (await as(name).send('/onbehalf connect gh')).match(/→ Connect gh: (\S+)/)![1]!;
  const jtiOf = (link: string) =>
    JSON.parse(Buffer.from(new URL(link).searchParams.get('t')!.split('.')[1]!, 'base64url').toString()).jti as string;
  /** Opens `link` in `browser`, approves at the vendor as `login`, and opens the callback there. */
  const finish = async (link: string, login: string, browser = new TestBrowser()) => {
    vendor.login = login;
    const step = await authorizeInBrowser(link, browser);
    if (!('callbackUrl' in step)) throw new Error(`stopped: ${step.status} ${step.body}`);
    const res = await browser.fetch(step.callbackUrl);
    return { status: res.status, html: await res.text(), step };
  };
  const answerHeld = async (name: string, answer: 'confirm' | 'reject', from: number) => {
    const label = answer === 'confirm' ? "Yes, that's me" : 'No, disconnect';
    const [, cmd] = await as(name).waitFor(new RegExp(`${label}: /onbehalf (connect ${answer} gh)`), from);
    return as(name).send(`/onbehalf ${cmd}`);
  };

  beforeAll(async () => {
    w = await world({ env: { ONBEHALF_ADMINS: 'shell:local:ada' } });
    ({ t, oauth: vendor, mcp } = w);
    const e = vendor.endpoints;
    const ada = as('ada');
    await ada.send(
      `/onbehalf admin provider add gh oauth2 test-client --authorize ${e.authorizeUrl} --token ${e.tokenUrl} --userinfo ${e.userinfoUrl} --revoke ${e.revokeUrl} --scopes repo`,
    );
    expect(await ada.send('client-secret-canary-9')).toMatch(/saved/);
    expect(await ada.send(`/onbehalf admin server add tools http ${mcp.url}`)).toMatch(/tools/);
    await ada.send('/onbehalf admin bind tools header Authorization oauth:gh --template "Bearer {token}"');
    for (const who of ['alice', 'bob', 'mallory']) await as(who).send('/onbehalf whoami');
  });
  afterAll(async () => {
    await w?.stop();
  });

  it("a link scanner's GET changes nothing: the page names who and what, and the link still works after it", async () => {
    const link = await linkFor('bob');
    for (let i = 0; i < 3; i++) {
      const scan = await fetch(link, { redirect: 'manual' });
      expect(scan.status).toBe(200);
      expect(scan.headers.get('location')).toBeNull();
      expect(scan.headers.get('cache-control')).toBe('no-store');
      expect(scan.headers.get('content-security-policy')).toContain(
        `form-action 'self' ${new URL(vendor.issuer).origin}`,
      );
      const html = await scan.text();
      expect(html).toMatch(/connects a <strong>gh<\/strong> account for <strong>bob<\/strong>/);
      expect(html).toContain('<code>repo</code>');
      expect(html).toContain('<button type="submit">Continue</button>');
    }
    expect(await usedLink(jtiOf(link))).toBeUndefined();
    expect(await statesOf(await userId('bob'))).toEqual([]);
    // Bob's own first connect, from a browser onbehalf cannot check: held until he says it is his.
    const from = as('bob').output.length;
    const first = await finish(link, 'bob-gh');
    expect(first.status).toBe(200);
    expect(first.html).toContain('waiting for confirmation');
    expect((await row('bob'))!.status).toBe('held');
    expect(await answerHeld('bob', 'confirm', from)).toMatch(/Confirmed/);
    expect((await row('bob'))!.status).toBe('active');
    // A reconnect of the same vendor account is not held.
    const again = await finish(await linkFor('bob'), 'bob-gh');
    expect(again.html).toContain('is now connected for <strong>bob</strong>');
    expect((await row('bob'))!.status).toBe('active');
  });

  it("Continue without the page's CSRF field, with another link's, or posted from another site is refused and spends nothing", async () => {
    const link = await linkFor('mallory');
    const other = await linkFor('mallory');
    const browser = new TestBrowser();
    const html = await (await browser.fetch(link)).text();
    const otherCsrf = continueFields(await (await browser.fetch(other)).text())['csrf'];
    const states = (await statesOf()).length;
    for (const csrf of [undefined, '', otherCsrf, 'x'.repeat(43)]) {
      const res = await pressContinue(browser, link, html, { csrf });
      expect(res.status).toBe(403);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('did not come from the connect page');
    }
    const crossSite = await browser.fetch(new URL('start', link), {
      method: 'POST',
      body: new URLSearchParams(continueFields(html)).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
      },
    });
    expect(crossSite.status).toBe(403);
    expect((await statesOf()).length).toBe(states);
    expect(await usedLink(jtiOf(link))).toBeUndefined();
    const ok = await pressContinue(browser, link, html);
    expect(ok.status).toBe(303);
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith('onbehalf_flow='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/oauth/);
    expect(cookie).not.toMatch(/Secure/i); // PUBLIC_URL is http here.
  });

  it("Bob opens Mallory's link with his GitHub, already connected to him: refused, nothing stored, both told privately, audited", async () => {
    const bobBefore = (await row('bob'))!;
    const link = await linkFor('mallory');
    const [mFrom, bFrom] = [as('mallory').output.length, as('bob').output.length];
    const r = await finish(link, 'bob-gh');
    expect(r.status).toBe(409);
    expect(r.html).toContain('already connected for bob');
    expect(r.html).toContain('cannot also be connected for mallory');
    expect(r.html).toContain('Nothing was changed');
    expect(await row('mallory')).toBeUndefined();
    expect(await row('bob')).toEqual(bobBefore);
    await as('mallory').waitFor(
      /\(direct message\): A connect of gh account @bob-gh to you was refused: that account is already connected for bob/,
      mFrom,
    );
    await as('bob').waitFor(
      /\(direct message\): Someone opened a connect link of mallory and approved it with your gh account @bob-gh/,
      bFrom,
    );
    const mallory = await userId('mallory');
    expect(
      (await t.app.audit.query(await orgId())).some(
        (e) => e.action === 'connect' && e.outcome === 'vendor_account_taken' && e.onBehalfOfUserId === mallory,
      ),
    ).toBe(true);
  });

  it('a callback replayed from another cookie jar stores nothing, and the browser that pressed Continue still finishes', async () => {
    const link = await linkFor('mallory');
    const real = new TestBrowser();
    vendor.login = 'mallory-gh';
    const step = await authorizeInBrowser(link, real);
    if (!('callbackUrl' in step)) throw new Error('stopped');
    const tokens = vendor.seen('/token').length;
    for (const jar of [new TestBrowser(), undefined]) {
      const res = jar ? await jar.fetch(step.callbackUrl) : await fetch(step.callbackUrl, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('started in another browser');
    }
    expect(vendor.seen('/token').length).toBe(tokens);
    expect(await row('mallory')).toBeUndefined();
    const res = await real.fetch(step.callbackUrl);
    expect(res.status).toBe(200);
    expect((await row('mallory'))!.status).toBe('held');
    expect(await t.app.oauth.disconnect(await orgId(), await userId('mallory'), 'gh')).toMatchObject({ ok: true });
  });

  it('Alice\'s own link opened in Mallory\'s browser: held; her parked call waits; Mallory cannot confirm; "No" revokes at the provider; her own account runs the call after "Yes"', async () => {
    const alice = as('alice');
    const from = alice.output.length;
    await alice.send('/onbehalf run tools.whoami {}');
    const link = (await alice.waitFor(/→ Connect gh: (\S+)/, from))[1]!;
    const calls = mcp.calls.length;
    const leaked = await finish(link, 'mallory-gh', new TestBrowser());
    expect(leaked.status).toBe(200);
    expect(leaked.html).toContain('is on hold: onbehalf uses it only after alice confirms');
    expect(await row('alice')).toMatchObject({ status: 'held', vendorLogin: '@mallory-gh' });
    await alice.waitFor(/gh account @mallory-gh was connected to you/, from);
    expect(await t.app.oauth.accessTokenFor(await orgId(), await userId('alice'), 'gh')).toMatchObject({
      kind: 'missing',
    });
    // Mallory presses the button's command herself: she is not Alice, so there is nothing of hers to confirm.
    expect(await as('mallory').send('/onbehalf connect confirm gh')).toMatch(/no gh connection waiting/);
    expect((await row('alice'))!.status).toBe('held');
    expect(mcp.calls.length).toBe(calls);
    // Alice says no: revoked at the provider and deleted; the call still waits for her own account.
    const malloryRefresh = vendor.issuedRefreshTokens.at(-1)!;
    expect(await answerHeld('alice', 'reject', from)).toMatch(/revoked at the provider/);
    expect(vendor.revoked).toContain(malloryRefresh);
    expect(await row('alice')).toBeUndefined();
    expect(mcp.calls.length).toBe(calls);
    // Her own account, in her own browser, then "Yes": the parked call runs with her token.
    const link2 = await linkFor('alice');
    const from2 = alice.output.length;
    const mine = await finish(link2, 'alice-gh');
    expect(mine.status).toBe(200);
    expect(await answerHeld('alice', 'confirm', from2)).toMatch(/Confirmed/);
    await alice.waitFor(new RegExp(fingerprint(`Bearer ${vendor.issuedAccessTokens.at(-1)}`)), from2);
    expect(mcp.calls.at(-1)!.seen['authorization']).toBe(`Bearer ${vendor.issuedAccessTokens.at(-1)}`);
  });

  it('an admin may allow one vendor account for several people (a team service account)', async () => {
    expect(await as('ada').send('/onbehalf admin provider share gh on')).toMatch(
      /may now be connected for several people/,
    );
    const shared = await finish(await linkFor('mallory'), 'bob-gh');
    expect(shared.status).toBe(200);
    expect(await row('mallory')).toMatchObject({ status: 'held', vendorLogin: '@bob-gh' });
    expect(await t.app.oauth.disconnect(await orgId(), await userId('mallory'), 'gh')).toMatchObject({ ok: true });
    expect(await as('ada').send('/onbehalf admin provider share gh off')).toMatch(/one person only/);
    expect((await finish(await linkFor('mallory'), 'bob-gh')).status).toBe(409);
  });
});
