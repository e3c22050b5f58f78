import { FakeDiscord, snowflake, type FakeUser } from './discord-fake.js';
import { world, type WorldOptions } from './world.js';

/**
 * The world on the loopback Discord: one guild (`Acme`) with a channel `help` and, with `thread`,
 * a public thread under it; `users` are its members, by their Discord ids (display name = username).
 * Resolves once the app's gateway is connected.
 */
export async function discordWorld(
  o: Omit<WorldOptions, 'platform' | 'workspace' | 'users' | 'displayNames'> & { users: FakeUser[]; thread?: boolean },
) {
  const guildId = snowflake();
  const channelId = snowflake();
  const threadId = snowflake();
  const thread = o.thread ? [{ id: threadId, name: 'a thread', type: 11, parentId: channelId }] : [];
  const fake = await FakeDiscord.start({
    guilds: [{ id: guildId, name: 'Acme', channels: [{ id: channelId, name: 'help' }, ...thread] }],
  });
  const w = await world({
    ...o,
    platform: 'discord',
    workspace: guildId,
    users: o.users.map((u) => u.id),
    displayNames: Object.fromEntries(o.users.map((u) => [u.id, u.username])),
    env: {
      DISCORD_TOKEN: 'MTEx.discord-world.' + 'd'.repeat(24),
      DISCORD_APPLICATION_ID: fake.applicationId,
      DISCORD_API_URL: fake.apiUrl,
      ...o.env,
    },
  });
  await fake.waitConnected();
  return {
    w,
    fake,
    guildId,
    channelId,
    threadId,
    async stop() {
      await w.stop();
      await fake.stop();
    },
  };
}
