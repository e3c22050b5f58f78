import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/app.js';
import { secrets } from '../../../src/db/schema/index.js';
import { FakeDiscord, snowflake, type FakeUser } from '../../support/discord-fake.js';
import { tempDir, testConfig } from '../../support/env.js';
import { LogCapture } from '../../support/logs.js';

const BOT_TOKEN = 'MTEx.secret-form-canary.' + 'q'.repeat(20);
const CANARY = 'sk-discordModalCanary_0123456789abcdefXYZ';

describe('a secret typed into a Discord modal', () => {
  let fake: FakeDiscord;
  let app: App;
  const logs = new LogCapture();
  const dir = tempDir();
  const guildId = snowflake();
  const channelId = snowflake();
  const admin: FakeUser = { id: snowflake(), username: 'ada' };
  const member: FakeUser = { id: snowflake(), username: 'max' };

  beforeAll(async () => {
    fake = await FakeDiscord.start({
      guilds: [{ id: guildId, name: 'Acme', channels: [{ id: channelId, name: 'ops' }] }],
    });
    app = await createApp(
      testConfig(dir.dir, {
        DISCORD_TOKEN: BOT_TOKEN,
        DISCORD_APPLICATION_ID: fake.applicationId,
        DISCORD_API_URL: fake.apiUrl,
        ONBEHALF_ADMINS: `discord:${guildId}:${admin.id}`,
      }),
      { mode: 'serve', logDestination: logs },
    );
    await app.start();
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
    dir.cleanup();
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
    expect(app.policy.secrets.get(org.id, 'org', org.id, 'deploy_key')?.reveal()).toBe(CANARY);
    const row = app.db
      .select()
      .from(secrets)
      .all()
      .find((s) => s.name === 'deploy_key')!;
    expect(JSON.stringify(row)).not.toContain(CANARY);
    app.db.$client.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(app.config.databasePath).includes(Buffer.from(CANARY))).toBe(false);

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
