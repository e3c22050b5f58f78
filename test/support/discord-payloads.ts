/** Discord API object shapes the loopback fake sends (just the fields discord.js reads). */

/** A guild the fake bot is in. `members` unset: every user is a member. */
export interface FakeGuild {
  id: string;
  name: string;
  channels: { id: string; name: string; type?: number; parentId?: string }[];
  members?: string[];
}

/** A user object. */
export const userObject = (u: { id: string; username: string; bot?: boolean; globalName?: string }) => ({
  id: u.id,
  username: u.username,
  discriminator: '0',
  global_name: u.globalName ?? u.username,
  avatar: null,
  bot: u.bot ?? false,
});

/** A message object as MESSAGE_CREATE and message endpoints carry it. */
export function messagePayload(m: {
  id: string;
  channelId: string;
  guildId?: string;
  author: { id: string; username: string; bot?: boolean };
  content: string;
  mentions?: { id: string; username: string; bot?: boolean }[];
  flags?: number;
  extra?: Record<string, unknown>;
}) {
  return {
    id: m.id,
    channel_id: m.channelId,
    ...(m.guildId ? { guild_id: m.guildId } : {}),
    author: userObject(m.author),
    content: m.content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: (m.mentions ?? []).map(userObject),
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: 0,
    flags: m.flags ?? 0,
    components: [],
    ...m.extra,
  };
}

const isThread = (c: FakeGuild['channels'][number]) => c.type === 11 || c.type === 12;

/** A GUILD_CREATE payload for a guild. */
export function guildPayload(g: FakeGuild) {
  return {
    id: g.id,
    name: g.name,
    unavailable: false,
    owner_id: '1',
    icon: null,
    splash: null,
    discovery_splash: null,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    joined_at: new Date(0).toISOString(),
    large: false,
    member_count: 2,
    features: [],
    roles: [
      {
        id: g.id,
        name: '@everyone',
        permissions: '0',
        position: 0,
        color: 0,
        hoist: false,
        managed: false,
        mentionable: false,
        flags: 0,
      },
    ],
    channels: g.channels
      .filter((c) => !isThread(c))
      .map((c, i) => ({
        id: c.id,
        name: c.name,
        type: c.type ?? 0,
        position: i,
        permission_overwrites: [],
        ...(c.parentId ? { parent_id: c.parentId } : {}),
      })),
    // Public (11) and private (12) threads arrive as the guild's active threads.
    threads: g.channels.filter(isThread).map((c) => ({
      id: c.id,
      guild_id: g.id,
      parent_id: c.parentId ?? null,
      owner_id: '1',
      name: c.name,
      type: c.type,
      message_count: 0,
      member_count: 1,
      thread_metadata: {
        archived: false,
        auto_archive_duration: 1440,
        archive_timestamp: new Date(0).toISOString(),
        locked: false,
      },
    })),
    members: [],
    presences: [],
    voice_states: [],
    emojis: [],
    stickers: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}
