import { FakeDiscord, snowflake, type FakeUser } from './discord-fake.js';
import type { FakeGuild } from './discord-payloads.js';
import { world, type World, type WorldOptions } from './world.js';

/** The world on Discord: the loopback Discord (gateway + REST) with its fake and the world pointed at it. */
export interface DiscordWorld {
  fake: FakeDiscord;
  w: World;
  stop(): Promise<void>;
}

/**
 * Starts the loopback Discord with `guild` (the world's workspace, so its org) and a world whose
 * `DISCORD_*` point at it, logged in with `botToken`. `o` may read the fake (its client secret, …).
 * No shell sender unless `o.shell` says so.
 */
export async function discordWorld(
  guild: FakeGuild,
  botToken: string,
  o: WorldOptions | ((fake: FakeDiscord) => WorldOptions) = {},
): Promise<DiscordWorld> {
  const fake = await FakeDiscord.start({ guilds: [guild] });
  try {
    const opts = typeof o === 'function' ? o(fake) : o;
    const w = await world({
      shell: false,
      ...opts,
      platform: 'discord',
      workspace: guild.id,
      env: { ...fake.appEnv(botToken), ...opts.env },
    });
    return {
      fake,
      w,
      async stop() {
        await w.stop();
        await fake.stop();
      },
    };
  } catch (err) {
    await fake.stop();
    throw err;
  }
}

/**
 * A Discord world of people: one guild (`Acme`) with a channel `help` and, with `thread`, a public
 * thread under it; `users` are its members, by their Discord ids (display name = username).
 * Resolves once the app's gateway is connected.
 */
export async function discordPeopleWorld(
  o: Omit<WorldOptions, 'platform' | 'workspace' | 'users' | 'displayNames'> & { users: FakeUser[]; thread?: boolean },
) {
  const guildId = snowflake();
  const channelId = snowflake();
  const threadId = snowflake();
  const thread = o.thread ? [{ id: threadId, name: 'a thread', type: 11, parentId: channelId }] : [];
  const { users, thread: _thread, ...rest } = o;
  const dw = await discordWorld(
    { id: guildId, name: 'Acme', channels: [{ id: channelId, name: 'help' }, ...thread] },
    'MTEx.discord-world.' + 'd'.repeat(24),
    {
      shell: true,
      ...rest,
      users: users.map((u) => u.id),
      displayNames: Object.fromEntries(users.map((u) => [u.id, u.username])),
    },
  );
  await dw.fake.waitConnected();
  return { ...dw, guildId, channelId, threadId };
}
