import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import type { LogCapture } from '../../support/logs.js';
import { expectOrgSecretSealed } from '../../support/sealed.js';
import { startSlackApi, type SlackApi } from '../../support/slack-api.js';
import { SlackSigner } from '../../support/slack-signing.js';
import { world, type World } from '../../support/world.js';

const SIGNING = 'acceptance-signing-secret-42';
const BOT_TOKEN = 'xoxb-secret-form-canary-7d8e9f';
const CANARY = 'sk-slackModalCanary_0123456789abcdefXYZ';

// Acceptance (issue 6): `/onbehalf admin secret set org key` opens a modal; its submission stores the
// secret sealed; the secret never appears in any recorded Web API call or log. Real app, real chat core.
describe('a secret typed into a Slack modal', () => {
  let slack: SlackApi;
  let w: World;
  let app: App;
  let logs: LogCapture;
  let url: string;
  const signer = new SlackSigner(SIGNING);

  beforeAll(async () => {
    slack = await startSlackApi();
    w = await world({
      platform: 'slack',
      workspace: 'TACME',
      env: { ...slack.appEnv(SIGNING, BOT_TOKEN), ONBEHALF_ADMINS: 'slack:TACME:UADA' },
      redis: false,
      shell: false,
    });
    ({ app, logs } = w);
    url = `${w.t.baseUrl}/slack/events`;
  }, 30_000);
  afterAll(async () => {
    await w?.stop();
    await slack?.stop();
  });

  const submit = (view: { callback_id: string; private_metadata: string }, userId: string, value: string) =>
    signer.post(url, signer.formSubmission(view, value, { teamId: 'TACME', userId }));

  it('opens as a modal, is stored sealed, and never appears in a Web API call or a log line', async () => {
    const res = await signer.post(
      url,
      signer.command({
        teamId: 'TACME',
        userId: 'UADA',
        channelId: 'COPS',
        text: 'admin secret set org deploy_key',
        triggerId: 'trig-ada',
      }),
    );
    expect(res.status).toBe(200);
    const open = await slack.waitFor('views.open');
    expect(open.body['trigger_id']).toBe('trig-ada');
    const view = open.body['view'] as { callback_id: string; private_metadata: string; blocks: { type: string }[] };
    expect(view.blocks.some((b) => b.type === 'input')).toBe(true);

    const done = await submit(view, 'UADA', CANARY);
    expect(done.status).toBe(200);
    expect(done.text).toContain('deploy_key');
    const org = await app.identity.orgFor('slack', 'TACME');
    await expectOrgSecretSealed(app, org.id, 'deploy_key', CANARY);

    expect(slack.containing(CANARY)).toEqual([]);
    expect(done.text).not.toContain(CANARY);
    expect(logs.containing(CANARY, BOT_TOKEN)).toEqual([]);
  });

  it('a member who submits the same form (a forged modal) stores nothing', async () => {
    const view = {
      callback_id: 'onbehalf_form',
      private_metadata: JSON.stringify({ formId: 'secret:org:x:deploy_key', channelId: 'COPS', isDirect: false }),
    };
    const res = await submit(view, 'UMAX', 'member-tries-' + CANARY);
    expect(res.text).toContain('Only admins');
    const org = await app.identity.orgFor('slack', 'TACME');
    expect((await app.policy.secrets.get(org.id, 'org', org.id, 'deploy_key'))?.reveal()).toBe(CANARY);
    expect(slack.containing('member-tries-')).toEqual([]);
    expect(logs.containing('member-tries-')).toEqual([]);
  });
});
