import type { Client, Guild, User } from 'discord.js';
import type { ChatIdentity } from '../../identity/index.js';
import type { ReplyTarget } from '../../chat/types.js';

/** Who spoke and where the answer goes, or the one line telling them why we cannot serve them here. */
export type Place = { ok: true; identity: ChatIdentity; target: ReplyTarget } | { ok: false; text: string };

/** Where a Discord event happened, as the verified gateway payload says. */
export interface Origin {
  guildId: string | null;
  channelId: string;
  isThread: boolean;
  user: Pick<User, 'id' | 'username' | 'globalName'>;
  /** The member's nickname in this guild, when set. */
  nick?: string | null;
  messageId?: string;
  interaction?: { id: string; token: string; expiresAt: number };
}

/**
 * The guilds (orgs) a DM sender shares with the bot. A DM has no guild, and each guild is its own
 * org, so a DM is served only when exactly one guild is shared: we never guess whose tools to use.
 */
async function sharedGuilds(client: Client, userId: string): Promise<Guild[]> {
  const found = await Promise.all(
    [...client.guilds.cache.values()].map((g) =>
      g.members.fetch({ user: userId }).then(
        () => g,
        () => undefined,
      ),
    ),
  );
  return found.filter((g): g is Guild => g !== undefined);
}

/** Translates a Discord origin into the chat core's identity and reply target. */
export async function placeOf(client: Client, o: Origin): Promise<Place> {
  let guild: Guild | undefined;
  if (o.guildId) {
    guild = client.guilds.cache.get(o.guildId);
  } else {
    const shared = await sharedGuilds(client, o.user.id);
    if (shared.length !== 1) {
      return {
        ok: false,
        text:
          shared.length === 0
            ? 'I only work for members of a server I am in. Talk to me there.'
            : `We share several servers (${shared.map((g) => g.name).join(', ')}), each with its own tools. Talk to me in the server whose tools you want.`,
      };
    }
    guild = shared[0];
  }
  const workspaceId = o.guildId ?? guild!.id;
  const identity: ChatIdentity = {
    platform: 'discord',
    workspaceId,
    userId: o.user.id,
    // The name people see in this guild: its nickname, else their Discord display name, else the handle.
    displayName: o.nick || o.user.globalName || o.user.username,
    workspaceName: guild?.name,
  };
  const target: ReplyTarget = {
    platform: 'discord',
    workspaceId,
    channelId: o.channelId,
    threadId: o.isThread ? o.channelId : undefined,
    messageId: o.messageId,
    userId: o.user.id,
    isDirect: !o.guildId,
    interaction: o.interaction,
  };
  return { ok: true, identity, target };
}

/** The nickname of an interaction's or message's guild member (discord.js `nickname`, raw API `nick`). */
export function nickOf(member: unknown): string | undefined {
  const m = member as { nickname?: string | null; nick?: string | null } | null | undefined;
  return m?.nickname ?? m?.nick ?? undefined;
}
