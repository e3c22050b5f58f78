import { REST, DiscordAPIError, HTTPError } from '@discordjs/rest';
import { Routes } from 'discord.js';
import type { Secret } from '../../crypto/index.js';
import { CodedError } from '../../errors.js';
import type {
  ChatOutbound,
  OutMessage,
  ReplyTarget,
  SecretForm,
  ThreadMessage,
  TurnRenderer,
} from '../../chat/types.js';
import { FormIds } from './forms.js';
import { DISCORD_EDIT_EVERY_MS, DiscordTurn } from './turn.js';
import {
  FORM_BUTTON_PREFIX,
  addressedTo,
  answerReadyBody,
  formButtonRow,
  messageBodies,
  type DiscordMessageBody,
} from './render.js';

/** Discord's default REST base. */
export const DISCORD_API_DEFAULT = 'https://discord.com/api';
/** How long an interaction token lets us post follow-ups (Discord: 15 minutes). */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60_000;

/** A Discord REST call failed; the message names the status and Discord's code, never a token or URL. */
export class DiscordSendError extends CodedError {
  readonly code = 'discord_send_failed';
  constructor(
    readonly status: number | undefined,
    readonly discordCode: number | string | undefined,
    what: string,
  ) {
    super(
      `Discord refused to ${what} (status ${status ?? 'none'}${discordCode !== undefined ? `, code ${discordCode}` : ''})`,
    );
  }
}

/** Discord refused an interaction token (expired: 401 Invalid Webhook Token, or 404 Unknown Webhook). */
const tokenRejected = (err: unknown): boolean =>
  err instanceof DiscordSendError && (err.status === 401 || err.status === 404);

/** The reply answers an interaction (a command or a click) that can no longer carry it. */
const lateForInteraction = (target: ReplyTarget): boolean =>
  target.platform === 'discord' && Boolean(target.interaction?.token);

/** Options of the Discord sender. */
export interface DiscordOutboundOptions {
  token: Secret;
  applicationId: string;
  /** REST base (`DISCORD_API_URL`). Default `https://discord.com/api`. */
  apiUrl?: string;
  /** Stop using an interaction token this long before it expires. Default 30000 ms. */
  interactionMarginMs?: number;
  /** REST request timeout. Default 15000 ms. */
  timeoutMs?: number;
  /** Shared with the gateway of the same process so its buttons open the same modals. Default: a new table. */
  forms?: FormIds;
  /** Least time between two edits of an agent turn's message. Default 1000 ms. */
  editEveryMs?: number;
}

/**
 * Sends to Discord through REST only, so a worker with no gateway connection can reply:
 * interaction follow-ups while the 15-minute token is valid, channel/thread messages after it,
 * DMs for private messages outside interactions. Text is split at 2,000 chars; 429s are waited out.
 */
export class DiscordOutbound implements ChatOutbound {
  readonly rest: REST;
  readonly forms: FormIds;
  readonly #appId: string;
  readonly #marginMs: number;
  readonly #dmChannels = new Map<string, string>();
  readonly #editEveryMs: number;

  constructor(opts: DiscordOutboundOptions) {
    this.#appId = opts.applicationId;
    this.#marginMs = opts.interactionMarginMs ?? 30_000;
    this.forms = opts.forms ?? new FormIds();
    this.#editEveryMs = opts.editEveryMs ?? DISCORD_EDIT_EVERY_MS;
    this.rest = new REST({
      version: '10',
      api: opts.apiUrl ?? DISCORD_API_DEFAULT,
      timeout: opts.timeoutMs ?? 15_000,
    }).setToken(opts.token.reveal());
  }

  async reply(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }> {
    return this.#send(target, messageBodies(msg), false, { address: true });
  }

  /** An agent turn as it happens: one message, posted at once and edited at most once a second, then the answer. */
  turn(target: ReplyTarget): TurnRenderer {
    return new DiscordTurn(this, target, this.#editEveryMs);
  }

  /** The status message the answer later edits (an interaction follow-up, or a channel message). */
  async placeholder(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }> {
    return this.#send(target, messageBodies(msg), false);
  }

  async replyPrivately(target: ReplyTarget, msg: OutMessage): Promise<void> {
    await this.#sendPrivately(target, messageBodies(msg, { ephemeral: this.#interaction(target) !== undefined }));
  }

  async direct(_workspaceId: string, platformUserId: string, msg: OutMessage): Promise<void> {
    const channelId = await this.#dmChannel(platformUserId);
    for (const body of messageBodies(msg))
      await this.#post(Routes.channelMessages(channelId), body, 'send a direct message');
  }

  /** REST cannot open a modal (only an interaction response can): posts a private button that opens it. */
  async openSecretForm(target: ReplyTarget, form: SecretForm): Promise<void> {
    const row = formButtonRow(form, this.forms.encode(FORM_BUTTON_PREFIX, form));
    const text = `${form.title}: open the private form with the button. Only you see what you type there.`;
    await this.#sendPrivately(
      target,
      messageBodies({ text }, { ephemeral: this.#interaction(target) !== undefined, components: [row] }),
    );
  }

  async update(target: ReplyTarget, messageId: string, msg: OutMessage): Promise<void> {
    const i = this.#interaction(target);
    const late = !i && lateForInteraction(target);
    const bodies = messageBodies(msg);
    const [first, ...rest] = late ? addressedTo(bodies, target.userId) : bodies;
    const route = i
      ? Routes.webhookMessage(this.#appId, i.token, messageId)
      : Routes.channelMessage(target.threadId ?? target.channelId, messageId);
    let edited = false;
    try {
      await this.#call('patch', route, { ...first!, flags: undefined }, !i, 'edit a message');
      edited = true;
    } catch (err) {
      // An expired token or a deleted message: say it anew rather than lose the result.
      if (!(err instanceof DiscordSendError) || err.status === undefined || err.status >= 500 || err.status === 429)
        throw err;
      // A rejected token stays known (expired now), so the new message is addressed as a late one.
      const interaction = i && tokenRejected(err) ? { ...target.interaction, expiresAt: 0 } : target.interaction;
      await this.#send({ ...target, interaction }, [first!], false, { address: !late });
    }
    if (rest.length) await this.#send(target, rest, false);
    // An edit notifies nobody: past the interaction window, a reply to the answer pings its caller.
    if (late && edited) {
      const channel = target.threadId ?? target.channelId;
      await this.#post(Routes.channelMessages(channel), answerReadyBody(target.userId, messageId), 'post a message');
    }
  }

  /**
   * A thread's most recent messages, oldest first (needs Read Message History; without the Message
   * Content intent Discord leaves the text of messages that do not mention the bot empty).
   */
  async threadMessages(target: ReplyTarget, limit: number): Promise<ThreadMessage[]> {
    if (!target.threadId) return [];
    const query = new URLSearchParams({ limit: String(Math.min(limit, 100)) });
    const got = await this.#call(
      'get',
      Routes.channelMessages(target.threadId),
      undefined,
      true,
      'read a thread',
      query,
    );
    const list = (Array.isArray(got) ? got : []) as {
      id: string;
      content?: string;
      author?: { id: string; username?: string; global_name?: string | null; bot?: boolean };
    }[];
    return list.reverse().map((m) => ({
      id: m.id,
      userId: m.author?.id ?? '',
      author: m.author?.global_name || m.author?.username || 'someone',
      text: m.content ?? '',
      bot: Boolean(m.author?.bot),
    }));
  }

  #interaction(target: ReplyTarget): { token: string } | undefined {
    const i = target.interaction;
    if (target.platform !== 'discord' || !i?.token || !i.expiresAt) return undefined;
    return i.expiresAt - this.#marginMs > Date.now() ? { token: i.token } : undefined;
  }

  async #sendPrivately(target: ReplyTarget, bodies: DiscordMessageBody[]): Promise<void> {
    await this.#send(target, bodies, true);
  }

  /**
   * Through the interaction webhook while its token is valid (and Discord still accepts it);
   * after that in the channel or thread, or, for private messages, in a DM: Discord has no
   * ephemeral messages outside an interaction. `address`: a reply that answers a command, which a
   * plain channel message addresses to its caller once the interaction can no longer say whose it is.
   */
  async #send(
    target: ReplyTarget,
    bodies: DiscordMessageBody[],
    isPrivate: boolean,
    opts: { address?: boolean } = {},
  ): Promise<{ messageId?: string }> {
    let i = this.#interaction(target);
    const addressed = (b: DiscordMessageBody[]) =>
      opts.address && !isPrivate && !target.isDirect && lateForInteraction(target) ? addressedTo(b, target.userId) : b;
    let queue = i ? bodies : addressed(bodies);
    let first: string | undefined;
    for (let n = 0; n < queue.length; n++) {
      let id: string | undefined;
      if (i) {
        const sent = await this.#followUp(i.token, queue[n]!);
        if (sent === 'rejected') {
          i = undefined;
          if (n === 0) queue = addressed(queue);
        } else id = sent.id;
      }
      if (!i) id = await this.#plain(target, queue[n]!, n === 0, isPrivate);
      first ??= id;
    }
    return { messageId: first };
  }

  /** A follow-up through the interaction webhook; `rejected` when Discord no longer accepts its token. */
  async #followUp(token: string, body: DiscordMessageBody): Promise<{ id?: string } | 'rejected'> {
    try {
      const query = new URLSearchParams({ wait: 'true' });
      return (
        (await this.#call('post', Routes.webhook(this.#appId, token), body, false, 'post a follow-up', query)) ?? {}
      );
    } catch (err) {
      if (!tokenRejected(err)) throw err;
      return 'rejected';
    }
  }

  /** A plain message: in a DM when private, else in the thread or channel (the first piece replying to the question). */
  async #plain(target: ReplyTarget, body: DiscordMessageBody, lead: boolean, isPrivate: boolean) {
    const plain = { ...body, flags: undefined };
    if (isPrivate && !target.isDirect) {
      const dm = await this.#dmChannel(target.userId);
      return (await this.#post(Routes.channelMessages(dm), plain, 'send a direct message'))?.id;
    }
    const reference =
      lead && target.messageId && !target.isDirect && !isPrivate
        ? { message_reference: { message_id: target.messageId, fail_if_not_exists: false as const } }
        : {};
    const channel = target.threadId ?? target.channelId;
    return (await this.#post(Routes.channelMessages(channel), { ...plain, ...reference }, 'post a message'))?.id;
  }

  async #dmChannel(userId: string): Promise<string> {
    let id = this.#dmChannels.get(userId);
    if (!id) {
      const ch = await this.#post(Routes.userChannels(), { recipient_id: userId }, 'open a direct message');
      if (!ch?.id) throw new DiscordSendError(undefined, undefined, 'open a direct message');
      this.#dmChannels.set(userId, (id = ch.id));
    }
    return id;
  }

  #post(route: `/${string}`, body: unknown, what: string) {
    return this.#call('post', route, body, true, what);
  }

  async #call(
    method: 'get' | 'post' | 'patch',
    route: `/${string}`,
    body: unknown,
    auth: boolean,
    what: string,
    query?: URLSearchParams,
  ): Promise<{ id?: string } | undefined> {
    try {
      return (await this.rest[method](route, { body, auth, query })) as { id?: string } | undefined;
    } catch (err) {
      // discord.js errors carry the URL, which holds the interaction token: never rethrow them.
      if (err instanceof DiscordAPIError) throw new DiscordSendError(err.status, err.code, what);
      if (err instanceof HTTPError) throw new DiscordSendError(err.status, undefined, what);
      throw new DiscordSendError(undefined, (err as { code?: string }).code, what);
    }
  }
}
