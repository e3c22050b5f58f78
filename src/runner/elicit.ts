import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { AuditLog } from '../audit/index.js';
import type { Keyring } from '../crypto/index.js';
import { replyTargetSchema } from '../identity/reply.js';
import type { Logger } from '../log.js';
import type { ElicitHandler, ElicitRequestFormParams, ElicitResult, UrlElicitation } from '../mcp/index.js';
import type { RunnerNotifier } from './notify.js';
import type { CallInfo, ElicitationPrompt } from './outcome.js';

export type { ElicitationPrompt } from './outcome.js';

/** A question waiting for its caller, as kept in Redis until answered or lapsed (schema and ids; never an answer). */
export const pendingElicitationSchema = z.object({
  id: z.string(),
  orgId: z.string(),
  userId: z.string(),
  callId: z.string(),
  server: z.string(),
  tool: z.string(),
  target: replyTargetSchema,
  /** A form to fill in, or (`url`) consent to open a page; absent in questions kept before URLs waited. */
  mode: z.enum(['form', 'url']).default('form'),
  message: z.string(),
  schema: z.record(z.string(), z.unknown()),
  expiresAt: z.number(),
});
export type PendingElicitation = z.infer<typeof pendingElicitationSchema>;

/** Form values, typed as the schema asked (numbers, booleans, strings, lists of strings). */
export type ElicitContent = Record<string, string | number | boolean | string[]>;

/** The caller's answer to a question (a URL question's `accept` carries no content). */
export type ElicitAnswer =
  | { action: 'accept'; content: ElicitContent }
  | { action: 'accept'; content?: undefined }
  | { action: 'decline' }
  | { action: 'cancel' };

/** What answering a question did. */
export type ElicitAnswerResult =
  | { kind: 'sent'; pending: PendingElicitation; action: ElicitAnswer['action'] }
  /** Someone other than the caller answered: nothing was sent. */
  | { kind: 'not_yours'; pending: PendingElicitation }
  /** Answered already, lapsed, or never asked. */
  | { kind: 'not_waiting' };

/** What the elicitation desk is built from. */
export interface ElicitationDeps {
  redis: Redis;
  keyring: Keyring;
  notifier: RunnerNotifier;
  audit: AuditLog;
  log: Logger;
}

const answerSchema = z.union([
  z.object({ action: z.literal('accept'), sealed: z.string() }),
  z.object({ action: z.enum(['accept', 'decline', 'cancel']) }),
]);

const key = (id: string) => `onbehalf:elicit:${id}`;
const answerKey = (id: string) => `${key(id)}:answer`;
const takenKey = (id: string) => `${key(id)}:taken`;
/** Where a form's values are sealed to in Redis: bound to the question and its caller. */
const sealAt = (p: { id: string; orgId: string; userId: string }) => ({
  table: 'redis',
  column: 'elicitation',
  rowId: p.id,
  owner: { org_id: p.orgId, user_id: p.userId },
});

/**
 * MCP elicitation for calls of chat users. The worker running a call asks the caller through chat
 * (a private prompt) and waits on a Redis list for the answer, which the chat process that
 * received the submission pushes there, sealed; whichever processes those are. Unanswered by the
 * call's deadline, the answer is `cancel`. The audit records that a question was asked and how it
 * ended, never its values.
 */
export class Elicitations {
  constructor(private readonly d: ElicitationDeps) {}

  /** The handler for one call, or undefined where its caller cannot be asked (no chat sender here). */
  forCall(call: CallInfo, timeoutMs: number): ElicitHandler | undefined {
    if (!this.d.notifier.elicitation || this.d.notifier.canAsk?.(call) === false) return undefined;
    // Answer a little before the call's own deadline, so the server still hears it.
    const until = Date.now() + timeoutMs - Math.min(1000, timeoutMs / 10);
    return {
      form: (req, signal) => this.#form(call, req, until, signal),
      url: (req, signal, opts) => this.#url(call, req, until, opts?.announceOnly ?? false, signal),
    };
  }

  /** The question `id` while it waits. */
  async pending(id: string): Promise<PendingElicitation | undefined> {
    if (!/^[A-Za-z0-9_-]{8,64}$/.test(id)) return undefined;
    const raw = await this.d.redis.get(key(id));
    if (!raw) return undefined;
    const parsed = pendingElicitationSchema.safeParse(JSON.parse(raw));
    return parsed.success && parsed.data.expiresAt > Date.now() ? parsed.data : undefined;
  }

  /** Answers question `id` as user `userId` of `orgId`: only its caller may, and only once. */
  async answer(id: string, who: { orgId: string; userId: string }, a: ElicitAnswer): Promise<ElicitAnswerResult> {
    const p = await this.pending(id);
    if (!p) return { kind: 'not_waiting' };
    if (p.orgId !== who.orgId || p.userId !== who.userId) return { kind: 'not_yours', pending: p };
    const ttl = Math.max(1000, p.expiresAt - Date.now() + 5000);
    if ((await this.d.redis.set(takenKey(id), '1', 'PX', ttl, 'NX')) !== 'OK') return { kind: 'not_waiting' };
    const body =
      a.action === 'accept' && p.mode === 'form'
        ? { action: a.action, sealed: this.d.keyring.seal(JSON.stringify(a.content ?? {}), sealAt(p)) }
        : { action: a.action === 'accept' ? ('accept' as const) : a.action };
    await this.d.redis.multi().rpush(answerKey(id), JSON.stringify(body)).pexpire(answerKey(id), ttl).exec();
    return { kind: 'sent', pending: p, action: a.action };
  }

  async #form(call: CallInfo, req: ElicitRequestFormParams, until: number, signal: AbortSignal): Promise<ElicitResult> {
    const { pending, got } = await this.#question(call, 'form', req.message, req.requestedSchema, until, signal);
    if (!got || got.action !== 'accept') return { action: got?.action ?? 'cancel' };
    return {
      action: 'accept',
      content: 'sealed' in got ? (JSON.parse(this.d.keyring.open(got.sealed, sealAt(pending))) as ElicitContent) : {},
    };
  }

  /**
   * Shows the caller the URL (never fetched here) and waits for their consent (`accept`) or
   * `decline`; none by the deadline is `cancel`. After a -32042 (`announceOnly`) there is nothing
   * to answer: the caller is shown the URL and the call waits for the server's completion.
   */
  async #url(
    call: CallInfo,
    req: UrlElicitation,
    until: number,
    announceOnly: boolean,
    signal: AbortSignal,
  ): Promise<ElicitResult> {
    if (announceOnly) {
      const id = randomBytes(12).toString('base64url');
      const prompt = { id, mode: 'url', message: req.message.slice(0, 2000), url: req.url, expiresAt: until } as const;
      const shown = await this.#ask(call, { ...prompt, announceOnly: true });
      await this.#audit(call, 'url_required', shown ? 'shown' : 'undelivered');
      return { action: shown ? 'accept' : 'cancel' };
    }
    const { got } = await this.#question(call, 'url', req.message, {}, until, signal, req.url);
    return { action: got?.action ?? 'cancel' };
  }

  /** Keeps a question for its caller, asks them, and waits for their answer (undefined: none came). */
  async #question(
    call: CallInfo,
    mode: 'form' | 'url',
    message: string,
    schema: unknown,
    until: number,
    signal: AbortSignal,
    url?: string,
  ): Promise<{ pending: PendingElicitation; got: z.infer<typeof answerSchema> | undefined }> {
    const id = randomBytes(12).toString('base64url');
    const pending: PendingElicitation = {
      id,
      orgId: call.orgId,
      userId: call.userId,
      callId: call.callId,
      server: call.server,
      tool: call.tool,
      target: call.target,
      mode,
      message: message.slice(0, 2000),
      schema: schema as Record<string, unknown>,
      expiresAt: until,
    };
    const ttl = Math.max(1000, until - Date.now() + 5000);
    let outcome = 'cancel';
    try {
      await this.d.redis.set(key(id), JSON.stringify(pending), 'PX', ttl);
      const prompt = { id, mode, message: pending.message, expiresAt: until, ...(url ? { url } : {}) };
      if (!(await this.#ask(call, prompt))) {
        outcome = 'undelivered';
        return { pending, got: undefined };
      }
      const got = await this.#wait(id, until, signal);
      outcome = got ? got.action : signal.aborted ? 'ended' : 'timeout';
      return { pending, got };
    } finally {
      await this.#audit(call, mode, outcome);
      await this.d.redis.del(key(id), answerKey(id), takenKey(id)).catch(() => undefined);
    }
  }

  async #ask(call: CallInfo, prompt: ElicitationPrompt): Promise<boolean> {
    try {
      await this.d.notifier.elicitation!(call, prompt);
      return true;
    } catch (err) {
      this.d.log.warn({ callId: call.callId, err: (err as Error).message }, 'elicitation prompt not delivered');
      return false;
    }
  }

  /** The answer pushed for `id`, or undefined at `until` or when the server gave up on the question. */
  async #wait(id: string, until: number, signal: AbortSignal): Promise<z.infer<typeof answerSchema> | undefined> {
    // A connection of its own: BLPOP holds it until the answer comes.
    const conn = this.d.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    conn.on('error', () => undefined);
    const stop = () => conn.disconnect();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const seconds = Math.max(0.01, (until - Date.now()) / 1000);
      const got = await conn.blpop(answerKey(id), Number(seconds.toFixed(2)));
      return got ? answerSchema.parse(JSON.parse(got[1])) : undefined;
    } catch {
      return undefined;
    } finally {
      signal.removeEventListener('abort', stop);
      conn.disconnect();
    }
  }

  async #audit(call: CallInfo, mode: string, outcome: string): Promise<void> {
    await this.d.audit.write({
      orgId: call.orgId,
      category: 'tool_call',
      action: 'elicitation',
      actorUserId: call.userId,
      onBehalfOfUserId: call.userId,
      server: call.server,
      tool: call.tool,
      outcome,
      requestId: call.requestId,
      detail: { mode, callId: call.callId },
    });
  }
}
