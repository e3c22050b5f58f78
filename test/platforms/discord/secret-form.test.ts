import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { FakeDiscord, snowflake, type FakeUser } from '../../support/discord-fake.js';
import type { LogCapture } from '../../support/logs.js';
import { expectOrgSecretSealed } from '../../support/sealed.js';
import { world, type World } from '../../support/world.js';

const BOT_TOKEN = 'MTEx.secret-form-canary.' + 'q'.repeat(20);
const CANARY = 'sk-discordModalCanary_0123456789abcdefXYZ';

describe('a secret typed into a Discord modal', () => {
  let fake: FakeDiscord;
  let w: World;
  let app: App;
  let logs: LogCapture;
  const guildId = snowflake();
  const channelId = snowflake();
  const admin: FakeUser = { id: snowflake(), username: 'ada' };
  const member: FakeUser = { id: snowflake(), username: 'max' };

  beforeAll(async () => {
    fake = await FakeDiscord.start({
      guilds: [{ id: guildId, name: 'Acme', channels: [{ id: channelId, name: 'ops' }] }],
    });
    w = await world({
      platform: 'discord',
      workspace: guildId,
      env: { ...fake.appEnv(BOT_TOKEN), ONBEHALF_ADMINS: `discord:${guildId}:${admin.id}` },
      redis: false,
      shell: false,
    });
    ({ app, logs } = w);
  });
  afterAll(async () => {
    await w?.stop();
    await fake?.stop();
  });

  it('opens as a modal, is stored sealed, and never appears in a REST call, a chat message or a log line', async () => {
    const cmd = fake.command(admin, { guildId, channelId }, ['admin', 'secret'], { args: 'set org deploy_key' });
    const modal = await fake.waitForCall((c) => c.path.startsWith(`/interactions/${cmd.id}/`));
    const data = modal.body as {
      type: number;
      data: { custom_id: string; components: { components: { custom_id: string }[] }[] };
    };
    expect(data.type).toBe(9);
    const field = data.data.components[0]!.components[0]!.custom_id;

    const submit = fake.submitModal(admin, { guildId, channelId }, data.data.custom_id, { [field]: CANARY });
    const done = await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(submit.token));
    expect((done.body as { content: string }).content).toContain('Stored org secret deploy_key');

    const org = app.identity.orgFor('discord', guildId);
    expectOrgSecretSealed(app, org.id, 'deploy_key', CANARY);

    expect(fake.containing(CANARY)).toEqual([]);
    expect(logs.containing(CANARY, BOT_TOKEN)).toEqual([]);
  });

  it('a member who submits the same form (e.g. a forged modal) stores nothing, whatever Discord showed them', async () => {
    const submit = fake.submitModal(member, { guildId, channelId }, 'obm:secret:org:x:deploy_key', {
      value: 'member-tries-' + CANARY,
    });
    const done = await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(submit.token));
    expect((done.body as { content: string }).content).toContain('Only admins');
    const org = app.identity.orgFor('discord', guildId);
    expect(app.policy.secrets.get(org.id, 'org', org.id, 'deploy_key')?.reveal()).toBe(CANARY);
    expect(fake.containing('member-tries-')).toEqual([]);
  });
});
