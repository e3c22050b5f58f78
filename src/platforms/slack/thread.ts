import type { ReplyTarget, ThreadMessage } from '../../chat/types.js';

/** A Web API call of the workspace's bot (`SlackOutbound.call`). */
type SlackCall = <T>(workspaceId: string, method: string, args: Record<string, unknown>) => Promise<T>;

interface Reply {
  ts: string;
  user?: string;
  bot_id?: string;
  subtype?: string;
  text?: string;
}
interface UserInfo {
  user?: { name?: string; real_name?: string; profile?: { display_name?: string; real_name?: string } };
}

/** At most this many authors' names are looked up per read (`users.info`); others show as their id. */
const MAX_NAME_LOOKUPS = 10;

/**
 * A thread's messages (`conversations.replies`, the most recent `limit`), oldest first, each with
 * its author's display name (`users.info`, once per author, at most ten per read).
 */
export async function readSlackThread(call: SlackCall, target: ReplyTarget, limit: number): Promise<ThreadMessage[]> {
  if (!target.threadId) return [];
  const res = await call<{ messages?: Reply[] }>(target.workspaceId, 'conversations.replies', {
    channel: target.channelId,
    ts: target.threadId,
    limit: 200,
  });
  const recent = (res.messages ?? []).filter((m) => !m.subtype || m.subtype === 'bot_message').slice(-limit);
  const names = new Map<string, string>();
  for (const id of new Set(recent.map((m) => m.user).filter((u): u is string => Boolean(u)))) {
    if (names.size >= MAX_NAME_LOOKUPS) break;
    const info = await call<UserInfo>(target.workspaceId, 'users.info', { user: id }).catch(() => ({}) as UserInfo);
    const u = info.user;
    names.set(id, u?.profile?.display_name || u?.profile?.real_name || u?.real_name || u?.name || id);
  }
  return recent.map((m) => ({
    id: m.ts,
    userId: m.user ?? m.bot_id ?? '',
    author: (m.user && names.get(m.user)) || m.user || 'a bot',
    text: m.text ?? '',
    bot: Boolean(m.bot_id),
  }));
}
