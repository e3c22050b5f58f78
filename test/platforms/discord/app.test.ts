import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../../src/app.js';
import { snowflake, type FakeDiscord, type FakeUser } from '../../support/discord-fake.js';
import type { LogCapture } from '../../support/logs.js';
import { discordWorld, type DiscordWorld } from '../../support/discord-world.js';
import { guildPayload } from '../../support/discord-payloads.js';

const BOT_TOKEN = 'MTEx.app-canary.' + 'z'.repeat(24);
describe('onbehalf serve with DISCORD_TOKEN', () => {
  let fake: FakeDiscord;
  let dw: DiscordWorld;
  let app: App;
  let logs: LogCapture;
  let guildId: string;
  let channelId: string;
  const owner: FakeUser = { id: snowflake(), username: 'olivia', permissions: String(1 << 5) };
  const member: FakeUser = { id: snowflake(), username: 'mark' };

  beforeAll(async () => {
    guildId = snowflake();
    channelId = snowflake();
    dw = await discordWorld(
      { id: guildId, name: 'Acme Support', channels: [{ id: channelId, name: 'help' }] },
      BOT_TOKEN,
      {
        env: { DISCORD_ADMINS_FROM_GUILD: 'true' },
        redis: false,
      },
    );
    ({ fake } = dw);
    ({ app, logs } = dw.w);
  });
  afterAll(async () => {
    await dw?.stop();
  });

  const answerTo = async (user: FakeUser, words: string[], args?: string) => {
    const { token } = fake.command(user, { guildId, channelId }, words, args ? { args } : {});
    const edit = await fake.waitForCall((c) => c.method === 'PATCH' && c.path.includes(token));
    return (edit.body as { content: string }).content;
  };

  it('the gateway is connected once the app has started', () => {
    expect(fake.connected).toBe(true);
    expect(fake.identifies).toBe(1);
  });

  it('each guild is an org: the caller is provisioned in it from the interaction', async () => {
    const text = await answerTo(member, ['whoami']);
    expect(text).toContain('You are mark (member) in Acme Support.');
    expect(text).toContain(`discord:${guildId}:${member.id}`);
  });

  it('names people as the guild shows them (nickname, else global name) and the org after the guild, renamed as they are', async () => {
    const nina: FakeUser = { id: snowflake(), username: 'nina_k', globalName: 'Nina K.' };
    expect(await answerTo(nina, ['whoami'])).toContain('You are Nina K. (member) in Acme Support.');
    nina.nick = 'Nina (support lead)';
    fake.dispatch('GUILD_UPDATE', guildPayload({ ...fake.guilds[0]!, name: 'Acme Helpdesk' }));
    await vi.waitFor(() =>
      expect(answerTo(nina, ['whoami'])).resolves.toContain('You are Nina (support lead) (member) in Acme Helpdesk.'),
    );
  });

  it('a rule injecting {user.email} is refused: Discord gives no email', async () => {
    expect(await answerTo(owner, ['admin', 'allow'], 'lab * --inject who={user.email}')).toBe(
      'Discord gives no email address, so {user.email} would be empty for people here; nothing was changed (inject {user.id} or {user.name} instead).',
    );
  });

  it('with DISCORD_ADMINS_FROM_GUILD, a Manage Guild member is an admin (audited) and sees admin help; others do not', async () => {
    expect(await answerTo(owner, ['help'])).toContain('Admin:');
    expect(await answerTo(member, ['help'])).not.toContain('Admin:');
    const org = await app.identity.orgFor('discord', guildId);
    expect(
      (await app.audit.query(org.id)).some(
        (e) => e.action === 'role.set' && e.chatIdentity === `discord:${guildId}:${owner.id}`,
      ),
    ).toBe(true);
    expect(await answerTo(member, ['admin', 'role'], `admin <@${member.id}>`)).toContain('for admins only');
  });

  it('the app registers a Discord sender that works without the gateway (e.g. from a worker)', async () => {
    expect(app.outbound.has('discord')).toBe(true);
    await app.outbound.directOn('discord', guildId, member.id, { text: 'hello from a worker' });
    await fake.waitForCall(
      (c) => c.path === `/channels/${fake.dmChannelOf(member.id)}/messages` && c.raw.includes('hello from a worker'),
    );
  });

  it('no log line carries the bot token', () => {
    expect(logs.containing(BOT_TOKEN)).toEqual([]);
  });

  it('stop() closes the gateway connection', async () => {
    await app.stop();
    expect(fake.connected).toBe(false);
  });
});
