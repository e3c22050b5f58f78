import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { connectionOf } from './bed.js';
import { snowflake, type FakeDiscord } from '../support/discord-fake.js';
import { authorizeInBrowser, TestBrowser, type OAuthTestServer } from '../support/oauth-server.js';
import { discordWorld, type DiscordWorld } from '../support/discord-world.js';
import type { World } from '../support/world.js';

/** With DISCORD_CLIENT_SECRET, connect links ask Discord (`identify`) who the browser is first. */
describe('connect links with Discord sign-in', () => {
  let dw: DiscordWorld;
  let w: World;
  let fake: FakeDiscord;
  let vendor: OAuthTestServer;
  let t: TestApp;
  const guildId = snowflake();
  const people = {
    alice: { id: snowflake(), username: 'alice' },
    bob: { id: snowflake(), username: 'bob' },
    mallory: { id: snowflake(), username: 'mallory' },
  };
  const who = (name: keyof typeof people) => w.user(people[name].id);
  const row = async (name: keyof typeof people) => connectionOf(t.app.store, (await who(name)).id);
  const linkFor = async (name: keyof typeof people) =>
    t.app.oauth.connectLink((await who(name)).orgId, (await who(name)).id, 'github');

  beforeAll(async () => {
    const guild = { id: guildId, name: 'Acme', channels: [{ id: snowflake(), name: 'general' }] };
    dw = await discordWorld(guild, 'MTEx.consent-bot.' + 'w'.repeat(20), (fake) => ({
      users: Object.values(people).map((u) => u.id),
      displayNames: Object.fromEntries(Object.values(people).map((u) => [u.id, u.username])),
      provider: 'github',
      client: { id: 'gh', secret: 'gh-secret' },
      env: { DISCORD_CLIENT_SECRET: fake.clientSecret },
    }));
    ({ fake, w } = dw);
    ({ t, oauth: vendor } = w);
  });
  afterAll(async () => {
    await dw?.stop();
  });

  it("Bob opens Mallory's link signed in to Discord as himself: refused naming both, nothing stored, Mallory told by direct message", async () => {
    fake.signedInAs = people.bob;
    const authorizes = vendor.seen('/authorize').length;
    const r = await authorizeInBrowser(await linkFor('mallory'));
    expect(r).toMatchObject({ status: 403 });
    expect('body' in r && r.body).toContain('This link belongs to @mallory; you are signed in as @bob.');
    expect(vendor.seen('/authorize').length).toBe(authorizes);
    expect(await row('mallory')).toBeUndefined();
    expect((await t.app.audit.query((await who('mallory')).orgId)).some((e) => e.outcome === 'signin_mismatch')).toBe(
      true,
    );
    const dm = fake.dmChannelOf(people.mallory.id);
    await fake.waitForCall(
      (c) =>
        c.method === 'POST' &&
        c.path === `/channels/${dm}/messages` &&
        String((c.body as { content?: string }).content).includes('signed in to Discord as @bob'),
      10_000,
    );
  });

  it('Alice signed in as herself goes on to the provider (identify, PKCE) and a first connect is active at once', async () => {
    fake.signedInAs = people.alice;
    vendor.login = 'alice-gh';
    const browser = new TestBrowser();
    const step = await authorizeInBrowser(await linkFor('alice'), browser);
    if (!('callbackUrl' in step)) throw new Error(`stopped: ${step.status} ${step.body}`);
    const asked = new URLSearchParams(fake.calls.filter((c) => c.path === '/oauth2/authorize').at(-1)!.query);
    expect(Object.fromEntries(asked)).toMatchObject({
      client_id: fake.applicationId,
      scope: 'identify',
      code_challenge_method: 'S256',
    });
    expect((await browser.fetch(step.callbackUrl)).status).toBe(200);
    expect(await row('alice')).toMatchObject({ status: 'active', vendorLogin: '@alice-gh' });
  });
});
