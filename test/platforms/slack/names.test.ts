import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { tempDir, testConfig } from '../../support/env.js';
import { LogCapture } from '../../support/logs.js';
import { startSlackApi, type SlackApi } from '../../support/slack-api.js';
import { SlackSigner } from '../../support/slack-signing.js';
import { SIGNING_SECRET } from './harness.js';

// The whole product with Slack configured and its real chat core: what people read names them
// as Slack does (users.info, team.info), and follows Slack's user_change and team_rename events.
let app: App;
let slack: SlackApi;
let cleanup: () => void;
let url: string;
const signer = new SlackSigner(SIGNING_SECRET);
const botToken = 'xoxb-canary-names-91c2';

beforeAll(async () => {
  slack = await startSlackApi({ tokens: { [botToken]: { teamId: 'T1ACME' } } });
  slack.teamNames.set('T1ACME', 'Acme Corp');
  slack.users.set('U1ADA', { id: 'U1ADA', name: 'ada.l', real_name: 'Ada Lovelace', email: 'ada@acme.test' });
  const t = tempDir();
  cleanup = t.cleanup;
  app = await createApp(
    testConfig(t.dir, { ...slack.appEnv(SIGNING_SECRET, botToken), ONBEHALF_ADMINS: 'slack:T1ACME:U1ADA' }),
    { logDestination: new LogCapture() },
  );
  await app.start();
  url = `http://127.0.0.1:${app.port}/slack/events`;
}, 30_000);
afterAll(async () => {
  await app?.stop();
  await slack?.stop();
  cleanup?.();
});

/** `/onbehalf <text>` typed by ada; the ephemeral answer Slack shows her. */
async function ada(text: string): Promise<string> {
  const res = await signer.post(
    url,
    signer.command({ teamId: 'T1ACME', userId: 'U1ADA', userName: 'ada.l', channelId: 'C1', text }),
  );
  return (JSON.parse(res.text) as { text: string }).text;
}

describe('names a person recognises, from Slack', () => {
  it('whoami names the person by their Slack name and the org after the workspace, not ids or the handle', async () => {
    expect(await ada('whoami')).toMatch(/^You are Ada Lovelace \(admin\) in Acme Corp\./);
    const org = (await app.identity.orgOf('slack', 'T1ACME'))!;
    const user = (await app.identity.userByRef(org.id, 'slack', 'T1ACME', 'U1ADA'))!;
    // {user.email} is filled from users.info (scope users:read.email).
    expect(user.email).toBe('ada@acme.test');
  });

  it('a new display name (user_change) and a renamed workspace (team_rename) show at once', async () => {
    const changed = {
      type: 'user_change',
      user: {
        id: 'U1ADA',
        name: 'ada.l',
        profile: { display_name: 'Countess Ada', real_name: 'Ada Lovelace', email: 'ada@acme.test' },
      },
    };
    expect((await signer.post(url, signer.event(changed, { teamId: 'T1ACME', eventId: 'EvUserChange1' }))).status).toBe(
      200,
    );
    const renamed = { type: 'team_rename', name: 'Acme Inc', team: 'T1ACME' };
    expect((await signer.post(url, signer.event(renamed, { teamId: 'T1ACME', eventId: 'EvTeamRename1' }))).status).toBe(
      200,
    );
    expect(await ada('whoami')).toMatch(/^You are Countess Ada \(admin\) in Acme Inc\./);
  });

  it('in Slack a rule may inject {user.email}', async () => {
    expect(await ada('admin server add lab http http://127.0.0.1:9/mcp')).toMatch(/lab/);
    expect(await ada('admin allow lab * --inject who={user.email}')).toMatch(/Added rule/);
  });
});
