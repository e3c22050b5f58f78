import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import type { ChatOutbound, OutMessage, ReplyTarget, SecretForm } from '../../chat/types.js';
import type { Logger } from '../../log.js';
import { formView, messageBodies } from './render.js';
import type { SlackTokens } from './workspaces.js';

/** Slack's Web API base. */
export const SLACK_API_DEFAULT = 'https://slack.com/api/';

/** A Web API call failed; the message names the method and Slack's error code, never a token. */
export class SlackSendError extends Error {
  readonly code = 'slack_send_failed';
  constructor(readonly method: string, readonly slackError: string) {
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
}

// The SDKs log request bodies as strings at debug level (only `token` masked; `client_secret`,
// `code` and message text go through): never forward those, and mask credential-looking pairs anywhere.
const BODY_LINE = /^http (request|response) (body|headers)/;
const CREDENTIAL_PAIR = /("?(?:[a-z_]*token|client_secret|code|secret|authorization|value)"?\s*[:=]\s*)("[^"]*"|[^\s,&}]+)/gi;
const XOX = /\bxox[a-z]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+/g;

/** Bolt's and the Web API client's logger interface, writing to our pino logger with SDK body dumps dropped and credentials masked. */
export function slackLogger(log: Logger): SlackLogger {
  const l = log.child({ component: 'slack-sdk' });
  const line = (msg: unknown[]) =>
    msg
      .map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m)))
      .join(' ')
      .replace(CREDENTIAL_PAIR, '$1[redacted]')
      .replace(XOX, '[redacted]');
  return {
    debug: (...m) => {
      if (typeof m[0] === 'string' && BODY_LINE.test(m[0])) return;
      l.debug(line(m));
    },
    info: (...m) => l.info(line(m)),
    warn: (...m) => l.warn(line(m)),
    error: (...m) => l.error(line(m)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}

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
        retryConfig: { retries: this.#opts.retries ?? 5, minTimeout: this.#opts.minBackoffMs ?? 500, factor: 2, randomize: true },
        rejectRateLimitedCalls: false,
      });
      this.#clients.set(workspaceId, c);
    }
    return c;
  }

  /** Calls a Web API method as the workspace's bot; the token is revealed only here. */
  async call<T = Record<string, unknown>>(workspaceId: string, method: string, args: Record<string, unknown>): Promise<T> {
    const token = await this.#opts.tokens.botToken(workspaceId);
    if (!token) throw new SlackSendError(method, 'workspace_not_installed');
    try {
      return (await this.#client(workspaceId, token.reveal()).apiCall(method, args)) as T;
    } catch (err) {
      throw new SlackSendError(method, slackErrorOf(err));
    }
  }

  async reply(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }> {
    let first: string | undefined;
    for (const body of messageBodies(msg)) {
      const r = await this.call<{ ts?: string }>(target.workspaceId, 'chat.postMessage', {
        channel: target.channelId, thread_ts: target.threadId, ...body, unfurl_links: false, unfurl_media: false,
      });
      first ??= r.ts;
    }
    return { messageId: first };
  }

  async replyPrivately(target: ReplyTarget, msg: OutMessage): Promise<void> {
    if (target.isDirect) {
      await this.reply(target, msg);
      return;
    }
    try {
      for (const body of messageBodies(msg)) {
        await this.call(target.workspaceId, 'chat.postEphemeral', { channel: target.channelId, user: target.userId, thread_ts: target.threadId, ...body });
      }
    } catch (err) {
      // The bot is not in that channel (slash commands work anywhere): a DM is private too.
      if (!(err instanceof SlackSendError) || !['channel_not_found', 'not_in_channel', 'user_not_in_channel'].includes(err.slackError)) throw err;
      this.#opts.log.debug({ channel: target.channelId, err: err.message }, 'ephemeral not possible there; sending a direct message');
      await this.direct(target.workspaceId, target.userId, msg);
    }
  }

  async direct(workspaceId: string, platformUserId: string, msg: OutMessage): Promise<void> {
    const open = await this.call<{ channel?: { id?: string } }>(workspaceId, 'conversations.open', { users: platformUserId });
    const channel = open.channel?.id;
    if (!channel) throw new SlackSendError('conversations.open', 'no_channel');
    for (const body of messageBodies(msg)) await this.call(workspaceId, 'chat.postMessage', { channel, ...body });
  }

  async openSecretForm(target: ReplyTarget, form: SecretForm, triggerId?: string): Promise<void> {
    if (!triggerId) throw new SlackSendError('views.open', 'no_trigger_id');
    await this.call(target.workspaceId, 'views.open', { trigger_id: triggerId, view: formView(form, target) });
  }

  async update(target: ReplyTarget, messageId: string, msg: OutMessage): Promise<void> {
    const [first, ...rest] = messageBodies(msg);
    await this.call(target.workspaceId, 'chat.update', { channel: target.channelId, ts: messageId, ...first });
    for (const body of rest) await this.call(target.workspaceId, 'chat.postMessage', { channel: target.channelId, thread_ts: target.threadId ?? messageId, ...body });
  }
}
