import { createHash } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import { lostReplyNote } from '../../chat/delivery.js';
import type { ChatOutbound, OutMessage, ReplyTarget, SecretForm, Suggestions, TurnRenderer } from '../../chat/types.js';
import { CodedError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { slackLogger } from './logger.js';
import { formView, messageBodies } from './render.js';
import { readSlackThread } from './thread.js';
import { SlackTurn, suggestPrompts, titleAssistantThread, type StreamTuning } from './stream.js';
import type { SlackTokens } from './workspaces.js';

/** Slack's Web API base. */
export const SLACK_API_DEFAULT = 'https://slack.com/api/';

/** A Web API call failed; the message names the method and Slack's error code, never a token. */
export class SlackSendError extends CodedError {
  readonly code = 'slack_send_failed';
  constructor(
    readonly method: string,
    readonly slackError: string,
  ) {
    super(`Slack refused ${method} (${slackError})`);
  }
}

/** Options of the Slack sender. */
export interface SlackOutboundOptions {
  tokens: SlackTokens;
  log: Logger;
  /** Web API base (`SLACK_API_URL`). Default `https://slack.com/api/`. */
  apiUrl?: string;
  /** Per-request timeout. Default 15000 ms. */
  timeoutMs?: number;
  /** Retries of a failed or rate-limited call (429s wait out Retry-After first). Default 5. */
  retries?: number;
  /** First backoff between retries. Default 500 ms. */
  minBackoffMs?: number;
  /** How often a turn's message may be edited or appended to (see `StreamTuning`). */
  stream?: StreamTuning;
}

/** chat.postMessage errors after which the conversation is unreachable for us, but the person is not. */
const LOST_REPLY = ['not_in_channel', 'channel_not_found', 'is_archived'];
const lostReason = (err: unknown): string | undefined =>
  err instanceof SlackSendError && LOST_REPLY.includes(err.slackError) ? err.slackError : undefined;
/** Slack's own host for response URLs. */
const RESPONSE_URL_HOST = 'hooks.slack.com';
/** Slack accepts at most this many posts to one response_url. */
const RESPONSE_URL_USES = 5;

const slackErrorOf = (err: unknown): string => {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number };
  return e.data?.error ?? (e.statusCode ? `http_${e.statusCode}` : (e.code ?? 'request_failed'));
};

/**
 * Sends to Slack through the Web API only, so a worker process can reply: thread replies,
 * ephemeral messages for the caller (plain messages in a DM), Block Kit link buttons, updates,
 * modals. Long text is split to Slack's limits; 429s are waited out (Retry-After) and retried.
 * One WebClient per workspace, so a rate limit pauses only that workspace's queue.
 */
export class SlackOutbound implements ChatOutbound {
  readonly #clients = new Map<string, WebClient>();
  readonly #opts: SlackOutboundOptions;

  constructor(opts: SlackOutboundOptions) {
    this.#opts = opts;
  }

  /** The workspace's client, made with its current bot token (a new token, e.g. after a reinstall, gets a new client). */
  #client(workspaceId: string, token: string): WebClient {
    let c = this.#clients.get(workspaceId);
    if (!c || c.token !== token) {
      const base = (this.#opts.apiUrl ?? SLACK_API_DEFAULT).replace(/\/?$/, '/');
      // The token set here goes only in the Authorization header; passed per call, the SDK also puts it in the body.
      c = new WebClient(token, {
        slackApiUrl: base,
        logger: slackLogger(this.#opts.log),
        timeout: this.#opts.timeoutMs ?? 15_000,
        retryConfig: {
          retries: this.#opts.retries ?? 5,
          minTimeout: this.#opts.minBackoffMs ?? 500,
          factor: 2,
          randomize: true,
        },
        rejectRateLimitedCalls: false,
      });
      this.#clients.set(workspaceId, c);
    }
    return c;
  }

  /** Calls a Web API method as the workspace's bot; the token is revealed only here. */
  /** The thread's most recent messages (`conversations.replies`), with their authors' names. */
  threadMessages(target: ReplyTarget, limit: number): ReturnType<typeof readSlackThread> {
    return readSlackThread((w, m, a) => this.call(w, m, a), target, limit);
  }

  async call<T = Record<string, unknown>>(
    workspaceId: string,
    method: string,
    args: Record<string, unknown>,
  ): Promise<T> {
    const token = await this.#opts.tokens.botToken(workspaceId);
    if (!token) throw new SlackSendError(method, 'workspace_not_installed');
    try {
      return (await this.#client(workspaceId, token.reveal()).apiCall(method, args)) as T;
    } catch (err) {
      throw new SlackSendError(method, slackErrorOf(err));
    }
  }

  /**
   * In the conversation (its thread, if any). Where Slack says we cannot post there
   * (`not_in_channel`, `channel_not_found`, `is_archived`: a slash command works in channels the
   * bot has not joined) the answer goes to the person instead: the command's response_url, else a DM.
   */
  async reply(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }> {
    try {
      return await this.#post(target, msg);
    } catch (err) {
      const reason = lostReason(err);
      if (!reason) throw err;
      await this.#toThePerson(target, msg, reason);
      return {};
    }
  }

  async placeholder(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }> {
    try {
      return await this.#post(target, msg);
    } catch (err) {
      if (!lostReason(err)) throw err;
      return {};
    }
  }

  async #post(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }> {
    let first: string | undefined;
    for (const body of messageBodies(msg)) {
      const r = await this.call<{ ts?: string }>(target.workspaceId, 'chat.postMessage', {
        channel: target.channelId,
        thread_ts: target.threadId,
        ...body,
        unfurl_links: false,
        unfurl_media: false,
      });
      first ??= r.ts;
    }
    return { messageId: first };
  }

  /** The answer privately, saying why it is not in the conversation: response_url (ephemeral), else a DM. */
  async #toThePerson(target: ReplyTarget, msg: OutMessage, reason: string): Promise<void> {
    this.#opts.log.info(
      { channel: target.channelId, reason },
      'cannot post in the conversation; answering the person privately',
    );
    const noted = { ...msg, text: `${lostReplyNote(reason)}\n${msg.text}` };
    if (await this.#viaResponseUrl(target, noted)) return;
    await this.direct(target.workspaceId, target.userId, noted);
  }

  /** Where a response_url may point: Slack's hooks host over https, or (tests, proxies) the host of SLACK_API_URL. */
  #responseUrlAllowed(raw: string): URL | undefined {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return undefined;
    }
    if (url.protocol === 'https:' && url.hostname === RESPONSE_URL_HOST && !url.port) return url;
    const api = new URL(this.#opts.apiUrl ?? SLACK_API_DEFAULT);
    if (api.hostname !== 'slack.com' && url.protocol === api.protocol && url.host === api.host) return url;
    return undefined;
  }

  readonly #responseUses = new Map<string, number>();

  /**
   * Posts ephemeral messages to the target's response_url while it is valid (30 minutes, 5 uses:
   * the count is kept per process, so a second worker may find Slack refusing it, which falls
   * through to a DM). False when there is none, it is spent or refused. Never logs the URL.
   */
  async #viaResponseUrl(target: ReplyTarget, msg: OutMessage): Promise<boolean> {
    const raw = target.interaction?.responseUrl;
    if (target.platform !== 'slack' || !raw || (target.interaction?.expiresAt ?? 0) <= Date.now()) return false;
    const url = this.#responseUrlAllowed(raw);
    if (!url) {
      this.#opts.log.warn(
        { host: URL.canParse(raw) ? new URL(raw).host : 'unparseable' },
        'refused a response_url outside Slack',
      );
      return false;
    }
    const key = createHash('sha256').update(raw).digest('hex');
    const bodies = messageBodies(msg);
    if ((this.#responseUses.get(key) ?? 0) + bodies.length > RESPONSE_URL_USES) return false;
    for (const body of bodies) {
      this.#responseUses.set(key, (this.#responseUses.get(key) ?? 0) + 1);
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          redirect: 'error',
          body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, ...body }),
          signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 15_000),
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`http_${res.status}`);
      } catch (err) {
        this.#opts.log.debug({ host: url.host, err: (err as Error).message }, 'response_url refused the message');
        return false;
      }
    }
    return true;
  }

  async replyPrivately(target: ReplyTarget, msg: OutMessage): Promise<void> {
    if (target.isDirect) {
      await this.reply(target, msg);
      return;
    }
    try {
      for (const body of messageBodies(msg)) {
        await this.call(target.workspaceId, 'chat.postEphemeral', {
          channel: target.channelId,
          user: target.userId,
          thread_ts: target.threadId,
          ...body,
        });
      }
    } catch (err) {
      // The bot is not in that channel (slash commands work anywhere): the command's response_url, or a DM, is private too.
      if (!(err instanceof SlackSendError) || ![...LOST_REPLY, 'user_not_in_channel'].includes(err.slackError))
        throw err;
      this.#opts.log.debug(
        { channel: target.channelId, err: err.message },
        'ephemeral not possible there; using the response_url or a direct message',
      );
      if (await this.#viaResponseUrl(target, msg)) return;
      await this.direct(target.workspaceId, target.userId, msg);
    }
  }

  async direct(workspaceId: string, platformUserId: string, msg: OutMessage): Promise<void> {
    const open = await this.call<{ channel?: { id?: string } }>(workspaceId, 'conversations.open', {
      users: platformUserId,
    });
    const channel = open.channel?.id;
    if (!channel) throw new SlackSendError('conversations.open', 'no_channel');
    for (const body of messageBodies(msg)) await this.call(workspaceId, 'chat.postMessage', { channel, ...body });
  }

  async openSecretForm(target: ReplyTarget, form: SecretForm, triggerId?: string): Promise<void> {
    if (!triggerId) throw new SlackSendError('views.open', 'no_trigger_id');
    await this.call(target.workspaceId, 'views.open', { trigger_id: triggerId, view: formView(form, target) });
  }

  /** An assistant thread's suggested prompts. */
  suggest(target: ReplyTarget, s: Suggestions): Promise<void> {
    return suggestPrompts(this, target, s);
  }

  /** An assistant thread's title (its History entry). */
  titleThread(target: ReplyTarget, title: string): Promise<void> {
    return titleAssistantThread(this, target, title);
  }

  /** An agent turn as it happens: thread status, then the answer streamed (or posted and edited). */
  turn(target: ReplyTarget): TurnRenderer {
    return new SlackTurn(this, target, this.#opts.log, this.#opts.stream);
  }

  /** Edits a message in place (repeating an edit changes nothing more: safe after a crash). */
  async update(target: ReplyTarget, messageId: string, msg: OutMessage): Promise<void> {
    const [first, ...rest] = messageBodies(msg);
    try {
      await this.call(target.workspaceId, 'chat.update', { channel: target.channelId, ts: messageId, ...first });
    } catch (err) {
      // The channel was archived (or we were removed) since the placeholder: the person still gets it.
      const reason = lostReason(err);
      if (reason) return this.#toThePerson(target, msg, reason);
      // The placeholder was deleted: say it anew rather than lose it.
      if (err instanceof SlackSendError && ['message_not_found', 'cant_update_message'].includes(err.slackError)) {
        await this.reply(target, msg);
        return;
      }
      throw err;
    }
    for (const body of rest)
      await this.call(target.workspaceId, 'chat.postMessage', {
        channel: target.channelId,
        thread_ts: target.threadId ?? messageId,
        ...body,
      });
  }
}
