import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicas, type Replicas } from '../support/replicas.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';
import { SlackSigner } from '../support/slack-signing.js';

const SIGNING = 'install-replicas-signing-4d3c2b';
const INSTALL_TOKEN = 'xoxb-installed-on-b-canary-7f8e';

describe('two serve replicas: a workspace installed through one is served by the other', () => {
  let r: Replicas;
  let slack: SlackApi;
  const signer = new SlackSigner(SIGNING);

  beforeAll(async () => {
    slack = await startSlackApi();
    const { SLACK_BOT_TOKEN: _single, ...env } = slack.appEnv(SIGNING, 'unused');
    // No SLACK_STATE_SECRET: both replicas derive the same one from the shared ONBEHALF_KEYS.
    r = await replicas({
      platform: 'slack',
      workspace: 'TACME',
      shell: false,
      env: { ...env, SLACK_CLIENT_ID: '111.222', SLACK_CLIENT_SECRET: 'install-client-secret-canary' },
    });
  }, 60_000);
  afterAll(async () => {
    await r?.stop();
    await slack?.stop();
  });

  it('/slack/install on a, the redirect back on b; then an event to a is answered with the token b stored', async () => {
    slack.installs.set('code-r1', { code: 'code-r1', teamId: 'TACME', teamName: 'Acme', botToken: INSTALL_TOKEN });
    r.lb.route = ({ path }) => (path === '/slack/install' ? 'a' : 'b');
    const start = await fetch(`${r.lb.url}/slack/install`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
    const done = await fetch(`${r.lb.url}/slack/oauth_redirect?code=code-r1&state=${encodeURIComponent(state)}`, {
      headers: { cookie },
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('onbehalf is installed');
    expect([r.lb.servedBy('/slack/install'), r.lb.servedBy('/slack/oauth_redirect')]).toEqual(['a', 'b']);

    const ts = '1700000400.000100';
    const event = { type: 'app_mention', user: 'UALICE', text: '<@UBOT> onbehalf whoami', ts, channel: 'C1' };
    const res = await signer.post(
      `${r.a.baseUrl}/slack/events`,
      signer.event(event, { teamId: 'TACME', eventId: 'EvInst1' }),
    );
    expect(res.status).toBe(200);
    const answer = await slack.waitFor('chat.postEphemeral', (c) => c.body['user'] === 'UALICE', 10_000);
    expect(answer.token).toBe(INSTALL_TOKEN);
  });
});
