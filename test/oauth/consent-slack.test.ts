import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { connectionOf } from './bed.js';
import { authorizeInBrowser, TestBrowser, type OAuthTestServer } from '../support/oauth-server.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';
import { world, type World } from '../support/world.js';

const TEAM = 'TACME';

/** With Sign in with Slack configured (beside a single-workspace bot token), the browser must be the link's Slack user. */
describe('connect links with Sign in with Slack', () => {
  let w: World;
  let slack: SlackApi;
  let vendor: OAuthTestServer;
  let t: TestApp;
  /** Slack user ids of the people of Acme. */
  const ids: Record<string, string> = { alice: 'UALICE', bob: 'UBOB', mallory: 'UMAL' };
  const who = (name: string) => w.user(ids[name]!);
  const row = async (name: string) => connectionOf(t.app.store, (await who(name)).id);
  const linkFor = async (name: string) =>
    t.app.oauth.connectLink((await who(name)).orgId, (await who(name)).id, 'github');

  beforeAll(async () => {
    slack = await startSlackApi();
    w = await world({
      platform: 'slack',
      workspace: TEAM,
      users: Object.values(ids),
      displayNames: Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name])),
      provider: 'github',
      client: { id: 'gh', secret: 'gh-secret' },
      env: {
        ...slack.appEnv('consent-signing-secret-1', 'xoxb-consent-bot'),
        SLACK_CLIENT_ID: '1234567890.1234567890',
        SLACK_CLIENT_SECRET: 'slack-client-secret-canary',
        SLACK_OIDC_ISSUER: slack.oidc.issuer,
      },
      shell: false,
    });
    ({ t, oauth: vendor } = w);
  });
  afterAll(async () => {
    await w?.stop();
    await slack?.stop();
  });

  it('the consent page says Slack asks first, and its CSP lets Continue reach Slack and the provider only', async () => {
    const res = await fetch(await linkFor('alice'));
    expect(await res.text()).toContain('Continue first asks Slack who you are');
    expect(res.headers.get('content-security-policy')).toContain(
      `form-action 'self' ${new URL(vendor.issuer).origin} ${slack.oidc.issuer}`,
    );
  });

  it("Bob opens Mallory's link signed in to Slack as himself: refused naming both, the provider never reached, nothing stored, audited, Mallory told privately", async () => {
    slack.oidc.signedInAs = { teamId: TEAM, userId: 'UBOB', name: 'bob' };
    const authorizes = vendor.seen('/authorize').length;
    const r = await authorizeInBrowser(await linkFor('mallory'));
    expect(r).toMatchObject({ status: 403 });
    expect('body' in r && r.body).toContain('This link belongs to @mallory; you are signed in as @bob.');
    expect(vendor.seen('/authorize').length).toBe(authorizes);
    expect(await row('mallory')).toBeUndefined();
    const mallory = await who('mallory');
    expect(
      (await t.app.audit.query(mallory.orgId)).some(
        (e) => e.outcome === 'signin_mismatch' && e.onBehalfOfUserId === mallory.id,
      ),
    ).toBe(true);
    const told = await slack.waitFor(
      'chat.postMessage',
      (c) => String(c.body['text']).includes('signed in to Slack as @bob'),
      10_000,
    );
    expect(slack.callsTo('conversations.open').some((c) => c.body['users'] === 'UMAL')).toBe(true);
    expect(told.raw).not.toContain('UBOB');
    expect(slack.callsTo('conversations.open').some((c) => c.body['users'] === 'UBOB')).toBe(false);
  });

  it("the same Slack user id in another workspace is not the link's user", async () => {
    slack.oidc.signedInAs = { teamId: 'TOTHER', userId: 'UMAL', name: 'mallory-elsewhere' };
    const r = await authorizeInBrowser(await linkFor('mallory'));
    expect(r).toMatchObject({ status: 403 });
    expect(await row('mallory')).toBeUndefined();
  });

  it('Alice signed in as herself goes on to the provider with its own state and PKCE, and a first connect is active at once', async () => {
    slack.oidc.signedInAs = { teamId: TEAM, userId: 'UALICE', name: 'alice' };
    vendor.login = 'alice-gh';
    const browser = new TestBrowser();
    const step = await authorizeInBrowser(await linkFor('alice'), browser);
    if (!('callbackUrl' in step)) throw new Error(`stopped: ${step.status} ${step.body}`);
    const signIn = slack.callsTo('openid.connect.authorize').at(-1)!.body;
    expect(signIn).toMatchObject({
      client_id: '1234567890.1234567890',
      code_challenge_method: 'S256',
      redirect_uri: `${t.app.config.publicUrl}/oauth/callback`,
      scope: 'openid profile',
    });
    expect(signIn['state']).not.toBe(new URL(step.authorizeUrl).searchParams.get('state'));
    expect(slack.callsTo('openid.connect.token').at(-1)!.body).toMatchObject({
      client_id: '1234567890.1234567890',
      client_secret: 'slack-client-secret-canary',
    });
    // The provider's callback still needs this browser's cookie.
    expect((await fetch(step.callbackUrl, { redirect: 'manual' })).status).toBe(400);
    const res = await browser.fetch(step.callbackUrl);
    expect(await res.text()).toContain('is now connected for <strong>alice</strong>');
    expect(await row('alice')).toMatchObject({ status: 'active', vendorLogin: '@alice-gh' });
    expect(t.logs.containing('slack-client-secret-canary')).toEqual([]);
  });
});
