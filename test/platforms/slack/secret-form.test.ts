import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { ChatCore, type ChatServices } from '../../../src/chat/index.js';
import { LinkCodes, OrgJoins } from '../../../src/identity/index.js';
import { Policy } from '../../../src/policy/index.js';
import { secrets } from '../../../src/db/schema/index.js';
import { tempDir, testConfig } from '../../support/env.js';
import { LogCapture } from '../../support/logs.js';
import { startSlackApi, type SlackApi } from '../../support/slack-api.js';
import { SlackSigner } from '../../support/slack-signing.js';

const SIGNING = 'acceptance-signing-secret-42';
const BOT_TOKEN = 'xoxb-secret-form-canary-7d8e9f';
const CANARY = 'sk-slackModalCanary_0123456789abcdefXYZ';

// Acceptance (issue 6): `/onbehalf admin secret set org key` opens a modal; its submission stores the
// secret sealed; the secret never appears in any recorded Web API call or log. Real app, real chat core.
describe('a secret typed into a Slack modal', () => {
  let slack: SlackApi;
  let app: App;
  let policy: Policy;
  let url: string;
  const signer = new SlackSigner(SIGNING);
  const logs = new LogCapture();
  const dir = tempDir();

  beforeAll(async () => {
    slack = await startSlackApi();
    app = await createApp(
      testConfig(dir.dir, {
        SLACK_SIGNING_SECRET: SIGNING,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_API_URL: slack.url.replace(/\/$/, ''),
        ONBEHALF_ADMINS: 'slack:TACME:UADA',
      }),
      { mode: 'serve', logDestination: logs },
    );
    policy = new Policy(app.db, app.keyring);
    const services: ChatServices = {
      identity: app.identity,
      linkCodes: new LinkCodes(app.db),
      orgJoins: new OrgJoins(app.db),
      audit: app.audit,
      outbound: app.outbound,
      llm: false,
      dataDir: app.config.dataDir,
      policy: policy as unknown as ChatServices['policy'],
      oauth: {} as ChatServices['oauth'],
      runner: {} as ChatServices['runner'],
    };
    app.chat = new ChatCore(services, app.log);
    await app.start();
    url = `http://127.0.0.1:${app.port}/slack/events`;
  }, 30_000);
  afterAll(async () => {
    await app?.stop();
    await slack?.stop();
    dir.cleanup();
  });

  const submit = (view: { callback_id: string; private_metadata: string }, userId: string, value: string) =>
    signer.post(
      url,
      signer.interaction({
        type: 'view_submission',
        team: { id: 'TACME' },
        user: { id: userId, team_id: 'TACME' },
        view: {
          id: 'V1',
          callback_id: view.callback_id,
          private_metadata: view.private_metadata,
          state: { values: { value: { value: { type: 'plain_text_input', value } } } },
        },
      }),
    );

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
    const org = app.identity.orgFor('slack', 'TACME');
    expect(policy.secrets.get(org.id, 'org', org.id, 'deploy_key')?.reveal()).toBe(CANARY);
    const row = app.db
      .select()
      .from(secrets)
      .all()
      .find((s) => s.name === 'deploy_key')!;
    expect(JSON.stringify(row)).not.toContain(CANARY);
    app.db.$client.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(app.config.databasePath).includes(Buffer.from(CANARY))).toBe(false);

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
    const org = app.identity.orgFor('slack', 'TACME');
    expect(policy.secrets.get(org.id, 'org', org.id, 'deploy_key')?.reveal()).toBe(CANARY);
    expect(slack.containing('member-tries-')).toEqual([]);
    expect(logs.containing('member-tries-')).toEqual([]);
  });
});
