import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Secret } from '../../src/crypto/index.js';
import { launchChromium, screenshotShowsText } from '../support/browser.js';
import { world, type World } from '../support/world.js';

const wait = { timeout: 15_000, interval: 50 };

/** The "Manage in browser" link `/onbehalf connections` gives `name` in chat. */
async function manageLink(w: World, name: string): Promise<string> {
  const reply = await w.as(name).send('/onbehalf connections');
  const m = reply.match(/→ Manage in browser: (\S+)/);
  if (!m) throw new Error(`no manage link in: ${reply}`);
  return m[1]!;
}

/** Opens a manage link in `ctx` and presses its one button; resolves on the list page. */
async function openMine(ctx: BrowserContext, link: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(link);
  await page.getByRole('button', { name: 'Show my connections' }).click();
  await page.waitForURL((u) => u.pathname === '/me' && u.search === '');
  return page;
}

const rowOf = (page: Page, slug: string) => page.locator(`tr[data-provider="${slug}"]`);

describe('my connections, in a real browser', () => {
  let w: World;
  let browser: Browser;
  // Without Chromium every test fails with one line naming what to install (never skipped).
  let missing: Error | undefined;
  const ready = () => {
    if (missing) throw missing;
  };
  beforeAll(async () => {
    try {
      browser = await launchChromium();
    } catch (err) {
      missing = err as Error;
      return;
    }
    w = await world({
      users: ['alice', 'bob'],
      provider: 'vendor',
      connect: true,
      servers: [{ name: 'web', grant: true }],
    });
    // A second provider at the same loopback vendor, so Alice has two accounts to tell apart.
    const added = await w.app.oauth.addProvider(w.org.id, {
      slug: 'tracker',
      kind: 'oauth2',
      clientId: 'client-2',
      clientSecret: new Secret('client-secret-canary-tracker'),
      scopes: ['issues:read'],
      issuer: w.oauth.issuer,
      ...w.oauth.endpoints,
    });
    if (!added.ok) throw new Error(JSON.stringify(added.error));
    await w.connect('alice', { slug: 'tracker' });
    // Alice uses her vendor account once, so its "last used" has a time.
    const alice = w.as('alice');
    const from = alice.output.length;
    await alice.send('/onbehalf run web.whoami {}');
    await alice.waitFor(/fp:/, from);
  });
  afterAll(async () => {
    await browser?.close();
    await w?.stop();
  });

  it('Alice opens her link from chat, sees both her accounts, disconnects one: revoked at the provider, told in chat', async () => {
    ready();
    const ctx = await browser.newContext();
    const link = await manageLink(w, 'alice');
    const first = await ctx.newPage();
    const opened = await first.goto(link);
    // The link page names whose connections it opens and spends nothing (a scanner's GET changes nothing).
    await expect.poll(() => first.locator('main').innerText()).toContain('This opens the connected accounts of alice');
    const csp = opened!.headers()['content-security-policy']!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(opened!.headers()['referrer-policy']).toBe('no-referrer');
    await screenshotShowsText(browser, first, 'me-link');
    await first.close();

    const page = await openMine(ctx, link);
    const [cookie] = await ctx.cookies();
    expect(cookie).toMatchObject({ name: 'onbehalf_me', httpOnly: true, sameSite: 'Strict', path: '/me' });
    const vendor = rowOf(page, 'vendor');
    await expect.poll(() => vendor.innerText()).toMatch(/alice-at-vendor[\s\S]*repo[\s\S]*active[\s\S]*UTC[\s\S]*UTC/);
    const tracker = rowOf(page, 'tracker');
    await expect
      .poll(() => tracker.innerText())
      .toMatch(/alice-at-vendor[\s\S]*issues:read[\s\S]*active[\s\S]*not yet/);
    await screenshotShowsText(browser, page, 'me-list');

    const revokes = w.oauth.seen('/revoke').length;
    const chat = w.as('alice');
    const from = chat.output.length;
    await vendor.getByRole('button', { name: 'Disconnect' }).click();
    await expect
      .poll(() => page.locator('main').innerText())
      .toMatch(/Disconnected vendor \(@?alice-at-vendor\): revoked at the provider/);
    await screenshotShowsText(browser, page, 'me-disconnected');
    expect(w.oauth.seen('/revoke').length).toBe(revokes + 1);
    await chat.waitFor(/From your browser: Disconnected vendor \(@?alice-at-vendor\): revoked at the provider/, from);
    const conns = await w.app.oauth.listConnections(w.org.id, (await w.user('alice')).id);
    expect(conns.map((c) => c.providerSlug)).toEqual(['tracker']);

    await page.getByRole('link', { name: 'Back to your connections' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    expect(await page.locator('main').innerText()).not.toContain('vendor (');
    await ctx.close();
  });

  it('a reused link and an expired link each show a clear page and open no session', async () => {
    ready();
    const link = await manageLink(w, 'bob');
    const ctx = await browser.newContext();
    await (await openMine(ctx, link)).close();
    const again = await browser.newContext();
    const page = await again.newPage();
    await page.goto(link);
    await expect.poll(() => page.locator('h1').innerText()).toBe('This link was already used');
    expect(await page.locator('main').innerText()).toContain('Ask for a new one with `/onbehalf connections` in chat.');
    await screenshotShowsText(browser, page, 'me-link-used');

    const bob = await w.user('bob');
    const expired = await w.app.links.sign('me-link', { o: bob.orgId, u: bob.id }, -60);
    await page.goto(`${w.app.config.publicUrl}/me?t=${expired}`);
    await expect.poll(() => page.locator('h1').innerText()).toBe('This link has expired');
    await screenshotShowsText(browser, page, 'me-link-expired');

    await page.goto(`${w.app.config.publicUrl}/me`);
    await expect.poll(() => page.locator('h1').innerText()).toBe('Your session has ended');
    expect(await page.locator('main').innerText()).not.toContain('bob-at-vendor');
    await screenshotShowsText(browser, page, 'me-no-session');
    expect(await again.cookies()).toEqual([]);
    await ctx.close();
    await again.close();
  });

  it("Bob's cookie shows nothing of Alice's, and Alice's form field does not act for Bob's session", async () => {
    ready();
    const alicePage = await openMine(await browser.newContext(), await manageLink(w, 'alice'));
    const aliceCsrf = await alicePage.locator('tr[data-provider="tracker"] input[name="csrf"]').first().inputValue();
    const bobCtx = await browser.newContext();
    const bobPage = await openMine(bobCtx, await manageLink(w, 'bob'));
    const text = await bobPage.locator('main').innerText();
    expect(text).toContain('Connected accounts of bob');
    expect(text).toContain('bob-at-vendor');
    expect(text).not.toMatch(/alice/);
    expect(await bobPage.content()).not.toContain(aliceCsrf);

    // Bob's session, Alice's CSRF field: refused, and nobody's grant changes.
    const revokes = w.oauth.seen('/revoke').length;
    const r = await bobPage.request.post(`${w.app.config.publicUrl}/me/disconnect`, {
      form: { csrf: aliceCsrf, provider: 'vendor' },
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(r.status()).toBe(403);
    expect(await r.text()).not.toMatch(/alice/);
    expect(w.oauth.seen('/revoke').length).toBe(revokes);
    expect(await w.app.oauth.listConnections(w.org.id, (await w.user('bob')).id)).toHaveLength(1);
    await bobCtx.close();
    await alicePage.context().close();
  });

  it('a Disconnect without its CSRF field, or posted from another site, is refused and changes nothing', async () => {
    ready();
    const page = await openMine(await browser.newContext(), await manageLink(w, 'alice'));
    const row = rowOf(page, 'tracker');
    await row.locator('form[action="/me/disconnect"] input[name="csrf"]').evaluate((e) => e.remove());
    const revokes = w.oauth.seen('/revoke').length;
    await row.getByRole('button', { name: 'Disconnect' }).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('Use the buttons of your page');
    expect(await page.locator('main').innerText()).toContain('Nothing was changed.');
    await screenshotShowsText(browser, page, 'me-csrf-refused');
    // With its CSRF field but posted from another site: refused too.
    await page.goBack();
    const csrf = await row.locator('form[action="/me/reconnect"] input[name="csrf"]').inputValue();
    const cross = await page.request.post(`${w.app.config.publicUrl}/me/disconnect`, {
      form: { csrf, provider: 'tracker' },
      headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    });
    expect(cross.status()).toBe(403);
    expect(w.oauth.seen('/revoke').length).toBe(revokes);
    const conns = await w.app.oauth.listConnections(w.org.id, (await w.user('alice')).id);
    expect(conns.map((c) => c.providerSlug)).toEqual(['tracker']);
    await page.context().close();
  });

  it("Reconnect goes through the connect link's consent page and ends on the connected page, both in the page style", async () => {
    ready();
    const page = await openMine(await browser.newContext(), await manageLink(w, 'alice'));
    await rowOf(page, 'tracker').getByRole('button', { name: 'Reconnect' }).click();
    await page.waitForURL((u) => u.pathname === '/oauth/start');
    await expect.poll(() => page.locator('main').innerText()).toContain('This connects a tracker account for alice');
    expect(await page.locator('header').innerText()).toBe('onbehalf');
    await screenshotShowsText(browser, page, 'oauth-consent');
    const tokens = w.oauth.issuedAccessTokens.length;
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((u) => u.pathname === '/oauth/callback');
    await expect.poll(() => page.locator('h1').innerText()).toBe('Connected');
    expect(await page.locator('main').innerText()).toMatch(/tracker @?alice-at-vendor is now connected for alice/);
    // The page's script dropped code and state from the address bar.
    await vi.waitFor(() => expect(new URL(page.url()).search).toBe(''), wait);
    await screenshotShowsText(browser, page, 'oauth-connected');
    expect(w.oauth.issuedAccessTokens.length).toBe(tokens + 1);
    await page.context().close();
  });
});
