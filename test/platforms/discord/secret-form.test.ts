import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/app.js';
import { snowflake, type FakeDiscord, type FakeUser } from '../../support/discord-fake.js';
import type { LogCapture } from '../../support/logs.js';
import { expectOrgSecretSealed } from '../../support/sealed.js';
import { discordWorld, type DiscordWorld } from '../../support/discord-world.js';

const BOT_TOKEN = 'MTEx.secret-form-canary.' + 'q'.repeat(20);
const CANARY = 'sk-discordModalCanary_0123456789abcdefXYZ';

describe('a secret typed into a Discord modal', () => {
  let fake: FakeDiscord;
  let dw: DiscordWorld;
  let app: App;
  let logs: LogCapture;
  const guildId = snowflake();
  const channelId = snowflake();
  const admin: FakeUser = { id: snowflake(), username: 'ada' };
  const member: FakeUser = { id: snowflake(), username: 'max' };

  beforeAll(async () => {
    dw = await discordWorld({ id: guildId, name: 'Acme', channels: [{ id: channelId, name: 'ops' }] }, BOT_TOKEN, {
      env: { ONBEHALF_ADMINS: `discord:${guildId}:${admin.id}` },
      redis: false,
    });
    ({ fake } = dw);
    ({ app, logs } = dw.w);
  });
  afterAll(async () => {
    await dw?.stop();
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

    const org = await app.identity.orgFor('discord', guildId);
    await expectOrgSecretSealed(app, org.id, 'deploy_key', CANARY);

    expect(fake.containing(CANARY)).toEqual([]);
    expect(logs.containing(CANARY, BOT_TOKEN)).toEqual([]);
  });

  it('a member who submits the same form (e.g. a forged modal) stores nothing, whatever Discord showed them', async () => {
    const submit = fake.submitModal(member, { guildId, channelId }, 'obm:secret:org:x:deploy_key', {
      value: 'member-tries-' + CANARY,
    });
    const done = await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(submit.token));
    expect((done.body as { content: string }).content).toContain('Only admins');
    const org = await app.identity.orgFor('discord', guildId);
    expect((await app.policy.secrets.get(org.id, 'org', org.id, 'deploy_key'))?.reveal()).toBe(CANARY);
    expect(fake.containing('member-tries-')).toEqual([]);
  });
});
