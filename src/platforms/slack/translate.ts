import { z } from 'zod';
import { Secret } from '../../crypto/index.js';
import type { Inbound, ReplyTarget } from '../../chat/types.js';
import type { ChatIdentity } from '../../identity/index.js';
import { FORM_CALLBACK_ID, coreActionId, type FormMetadata } from './render.js';

// Wire shapes: only the fields we read, parsed at the boundary (Slack sends many more).

const eventEnvelope = z.object({
  team_id: z.string().optional(),
  event_id: z.string(),
  authorizations: z.array(z.object({ team_id: z.string().nullish() })).optional(),
  event: z.object({
    type: z.string(),
    user: z.string().optional(),
    text: z.string().default(''),
    ts: z.string(),
    thread_ts: z.string().optional(),
    channel: z.string(),
    channel_type: z.string().optional(),
    subtype: z.string().optional(),
    bot_id: z.string().optional(),
    team: z.string().optional(),
    // Slack Connect: the poster's own team, which differs from team_id for an external member.
    user_team: z.string().optional(),
    user_profile: z.object({ team: z.string().optional() }).passthrough().optional(),
  }),
});

const commandBody = z.object({
  team_id: z.string(),
  team_domain: z.string().optional(),
  user_id: z.string(),
  user_name: z.string().optional(),
  channel_id: z.string(),
  channel_name: z.string().optional(),
  text: z.string().default(''),
  trigger_id: z.string().optional(),
  response_url: z.string().optional(),
});

const interactionBase = {
  team: z.object({ id: z.string(), domain: z.string().optional() }).nullish(),
  user: z.object({
    id: z.string(),
    team_id: z.string().optional(),
    name: z.string().optional(),
    username: z.string().optional(),
  }),
  trigger_id: z.string().optional(),
};

const blockActions = z.object({
  ...interactionBase,
  type: z.literal('block_actions'),
  channel: z.object({ id: z.string() }).optional(),
  container: z
    .object({ channel_id: z.string().optional(), thread_ts: z.string().optional(), message_ts: z.string().optional() })
    .optional(),
  message: z.object({ ts: z.string(), thread_ts: z.string().optional() }).optional(),
  response_url: z.string().optional(),
  actions: z
    .array(z.object({ action_id: z.string(), value: z.string().optional(), action_ts: z.string().optional() }))
    .min(1),
});

const viewSubmission = z.object({
  ...interactionBase,
  type: z.literal('view_submission'),
  view: z.object({
    callback_id: z.string(),
    private_metadata: z.string().default(''),
    state: z.object({
      values: z.record(
        z.string(),
        z.record(
          z.string(),
          z.object({ value: z.string().nullish(), selected_option: z.object({ value: z.string() }).nullish() }),
        ),
      ),
    }),
  }),
});

const formMetadata = z.object({
  formId: z.string(),
  channelId: z.string(),
  threadId: z.string().optional(),
  isDirect: z.boolean(),
});

/** How long Slack accepts posts to a `response_url` (30 minutes; also at most 5 uses). */
export const RESPONSE_URL_TTL_MS = 30 * 60_000;
const replyHandle = (responseUrl: string | undefined): Pick<ReplyTarget, 'interaction'> =>
  responseUrl ? { interaction: { responseUrl, expiresAt: Date.now() + RESPONSE_URL_TTL_MS } } : {};

const identity = (teamId: string, userId: string, displayName?: string, homeTeamId?: string): ChatIdentity => ({
  platform: 'slack',
  workspaceId: teamId,
  userId,
  displayName,
  ...(homeTeamId ? { homeWorkspaceId: homeTeamId } : {}),
});
const isDm = (channelId: string) => channelId.startsWith('D');

/** A leading mention of the bot (`<@U123>` or `<@U123|name>`) is not part of what was said. */
const stripMention = (text: string) => text.replace(/^\s*<@[A-Z0-9]+(\|[^>]*)?>[\s:,]*/, '').trim();

/**
 * An Events API delivery → a message: `app_mention` (reply in its thread) or a DM (`message.im`).
 * Undefined for everything else, including bots' messages and edits (subtypes), so we never talk to ourselves.
 */
export function fromEvent(body: unknown): Extract<Inbound, { kind: 'message' }> | undefined {
  const parsed = eventEnvelope.safeParse(body);
  if (!parsed.success) return undefined;
  const { event: e, event_id } = parsed.data;
  const teamId = parsed.data.team_id ?? parsed.data.authorizations?.[0]?.team_id ?? e.team;
  if (!teamId || !e.user || e.bot_id || e.subtype) return undefined;
  const mention = e.type === 'app_mention';
  const dm = e.type === 'message' && e.channel_type === 'im';
  if (!mention && !dm) return undefined;
  const target: ReplyTarget = {
    platform: 'slack',
    workspaceId: teamId,
    channelId: e.channel,
    userId: e.user,
    messageId: e.ts,
    isDirect: dm,
    // Mentions are answered in a thread; a DM stays flat unless the user wrote in a thread.
    threadId: mention ? (e.thread_ts ?? e.ts) : e.thread_ts,
  };
  return {
    kind: 'message',
    identity: identity(teamId, e.user, undefined, e.user_team ?? e.user_profile?.team),
    target,
    text: mention ? stripMention(e.text) : e.text.trim(),
    eventId: event_id,
  };
}

const assistantThreadEvent = z.object({
  team_id: z.string().optional(),
  event_id: z.string(),
  authorizations: z.array(z.object({ team_id: z.string().nullish() })).optional(),
  event: z.object({
    type: z.enum(['assistant_thread_started', 'assistant_thread_context_changed']),
    assistant_thread: z.object({
      user_id: z.string(),
      channel_id: z.string(),
      thread_ts: z.string(),
      context: z.object({ channel_id: z.string().optional() }).passthrough().optional(),
    }),
  }),
});

/** `assistant_thread_started` / `assistant_thread_context_changed` → thread_started, in the assistant's DM thread. */
export function fromAssistantThread(body: unknown): Extract<Inbound, { kind: 'thread_started' }> | undefined {
  const parsed = assistantThreadEvent.safeParse(body);
  if (!parsed.success) return undefined;
  const { event: e, event_id } = parsed.data;
  const teamId = parsed.data.team_id ?? parsed.data.authorizations?.[0]?.team_id;
  if (!teamId) return undefined;
  const t = e.assistant_thread;
  return {
    kind: 'thread_started',
    identity: identity(teamId, t.user_id),
    target: {
      platform: 'slack',
      workspaceId: teamId,
      channelId: t.channel_id,
      userId: t.user_id,
      isDirect: isDm(t.channel_id),
      threadId: t.thread_ts,
    },
    ...(e.type === 'assistant_thread_context_changed' ? { contextChanged: true } : {}),
    eventId: event_id,
  };
}

/** A `/onbehalf …` slash command → a command (its text is the subcommand line). */
export function fromCommand(
  body: unknown,
): { inbound: Extract<Inbound, { kind: 'command' }>; responseUrl?: string } | undefined {
  const parsed = commandBody.safeParse(body);
  if (!parsed.success) return undefined;
  const b = parsed.data;
  const target: ReplyTarget = {
    platform: 'slack',
    workspaceId: b.team_id,
    channelId: b.channel_id,
    userId: b.user_id,
    isDirect: isDm(b.channel_id) || b.channel_name === 'directmessage',
    ...replyHandle(b.response_url),
  };
  return {
    inbound: {
      kind: 'command',
      identity: identity(b.team_id, b.user_id, b.user_name),
      target,
      text: b.text,
      triggerId: b.trigger_id,
    },
    responseUrl: b.response_url,
  };
}

/** A button click → a button event; link buttons (which only open a URL) give undefined. */
export function fromBlockAction(
  body: unknown,
): { inbound: Extract<Inbound, { kind: 'button' }>; triggerId?: string } | undefined {
  const parsed = blockActions.safeParse(body);
  if (!parsed.success) return undefined;
  const b = parsed.data;
  const action = b.actions[0]!;
  const teamId = b.team?.id ?? b.user.team_id;
  const channelId = b.channel?.id ?? b.container?.channel_id;
  if (!teamId || !channelId || action.value === undefined) return undefined;
  const target: ReplyTarget = {
    platform: 'slack',
    workspaceId: teamId,
    channelId,
    userId: b.user.id,
    isDirect: isDm(channelId),
    threadId: b.message?.thread_ts ?? b.container?.thread_ts,
    messageId: b.message?.ts ?? b.container?.message_ts,
    ...replyHandle(b.response_url),
  };
  return {
    inbound: {
      kind: 'button',
      identity: identity(teamId, b.user.id, b.user.name, b.user.team_id),
      target,
      actionId: coreActionId(action.action_id),
      value: action.value,
    },
    triggerId: b.trigger_id,
  };
}

/** A submitted secret form → form_submit, every value wrapped in a Secret at once. */
export function fromViewSubmission(body: unknown): Extract<Inbound, { kind: 'form_submit' }> | undefined {
  const parsed = viewSubmission.safeParse(body);
  if (!parsed.success || parsed.data.view.callback_id !== FORM_CALLBACK_ID) return undefined;
  const b = parsed.data;
  const teamId = b.team?.id ?? b.user.team_id;
  let meta: FormMetadata;
  try {
    meta = formMetadata.parse(JSON.parse(b.view.private_metadata));
  } catch {
    return undefined;
  }
  if (!teamId) return undefined;
  const values: Record<string, Secret> = {};
  for (const [blockId, actions] of Object.entries(b.view.state.values)) {
    const v = actions['value']?.value ?? actions['value']?.selected_option?.value;
    if (v !== undefined && v !== null) values[blockId] = new Secret(v);
  }
  const target: ReplyTarget = {
    platform: 'slack',
    workspaceId: teamId,
    channelId: meta.channelId,
    threadId: meta.threadId,
    userId: b.user.id,
    isDirect: meta.isDirect,
  };
  return {
    kind: 'form_submit',
    identity: identity(teamId, b.user.id, b.user.name, b.user.team_id),
    target,
    formId: meta.formId,
    values,
  };
}
