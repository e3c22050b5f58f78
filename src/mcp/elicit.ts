import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
  ErrorCode,
  McpError,
  type ElicitRequestFormParams,
  type ElicitRequestURLParams,
  type ElicitResult,
} from '@modelcontextprotocol/sdk/types.js';

export type { ElicitRequestFormParams, ElicitRequestURLParams, ElicitResult };

/**
 * The elicitation capability a client declares when its calls come from a person who can answer:
 * forms (with the SDK filling omitted fields from the schema's defaults, SEP-1034) and URLs.
 */
export const ELICITATION_CAPABILITIES = { elicitation: { form: { applyDefaults: true }, url: {} } };

/** One URL the server needs the person to visit (an `elicitation/create` in url mode, or a -32042 error's entry). */
export type UrlElicitation = Pick<ElicitRequestURLParams, 'url' | 'elicitationId' | 'message'>;

/**
 * Who answers the elicitations of one tool call: the caller, through chat. `form` and `url` resolve
 * with the person's answer (`cancel` when none came in time); `signal` aborts when the call ends.
 * `url` with `announceOnly`: the person is shown the URL and nothing is waited for (a -32042 retry).
 */
export interface ElicitHandler {
  form(req: ElicitRequestFormParams, signal: AbortSignal): Promise<ElicitResult>;
  url(req: UrlElicitation, signal: AbortSignal, opts?: { announceOnly?: boolean }): Promise<ElicitResult>;
}

/** The elicitation side of one pooled client: the handler of the call it runs now, and completions seen. */
export class ElicitSlot {
  handler: ElicitHandler | undefined;
  readonly #completed = new Set<string>();
  readonly #waiters = new Map<string, () => void>();

  /** Answers the server's `elicitation/create` and `notifications/elicitation/complete` on `client`. */
  install(client: Client): void {
    client.setRequestHandler(ElicitRequestSchema, async (req, extra) => {
      const h = this.handler;
      // No call of a person runs on this client now: nobody could answer.
      if (!h) return { action: 'cancel' };
      const p = req.params;
      if (p.mode === 'url') return h.url(p, extra.signal);
      return h.form(p as ElicitRequestFormParams, extra.signal);
    });
    client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => {
      const id = n.params.elicitationId;
      this.#completed.add(id);
      this.#waiters.get(id)?.();
    });
  }

  /** Resolves true once the server said every one of `ids` is complete, false at `signal`'s abort. */
  async completed(ids: string[], signal: AbortSignal): Promise<boolean> {
    const waits = ids.map(
      (id) =>
        new Promise<boolean>((resolve) => {
          if (this.#completed.has(id)) return resolve(true);
          const done = () => {
            this.#waiters.delete(id);
            resolve(!signal.aborted);
          };
          this.#waiters.set(id, done);
          signal.addEventListener('abort', done, { once: true });
        }),
    );
    return (await Promise.all(waits)).every(Boolean);
  }
}

/** The URLs a `URLElicitationRequired` (-32042) error names, or undefined for any other error. */
export function urlsRequired(err: unknown): UrlElicitation[] | undefined {
  if (!(err instanceof McpError) || err.code !== ErrorCode.UrlElicitationRequired) return undefined;
  const list = (err.data as { elicitations?: unknown } | undefined)?.elicitations;
  if (!Array.isArray(list)) return undefined;
  const out = list.filter(
    (e): e is UrlElicitation =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as UrlElicitation).url === 'string' &&
      typeof (e as UrlElicitation).elicitationId === 'string',
  );
  return out.length
    ? out.map((e) => ({ url: e.url, elicitationId: e.elicitationId, message: String(e.message ?? '') }))
    : undefined;
}

/**
 * `tools/call` on `client`; with a person who can answer (`handler`), a `URLElicitationRequired`
 * error (-32042) shows them each URL, waits for the server to say each is complete, and sends
 * the call once more. Without completion before `signal` aborts, the call ends as it was.
 */
export async function callWithElicitation(
  client: Client,
  elicit: { slot: ElicitSlot; handler: ElicitHandler } | undefined,
  params: { name: string; arguments: Record<string, unknown> },
  signal: AbortSignal,
  timeout: number,
): Promise<unknown> {
  const send = () => client.callTool(params, undefined, { signal, timeout });
  try {
    return await send();
  } catch (err) {
    const urls = elicit ? urlsRequired(err) : undefined;
    if (!elicit || !urls) throw err;
    for (const u of urls) await elicit.handler.url(u, signal, { announceOnly: true });
    const done = await elicit.slot.completed(
      urls.map((u) => u.elicitationId),
      signal,
    );
    if (signal.aborted) throw signal.reason;
    if (!done) throw err;
    return send();
  }
}

/**
 * `tools/call` for a caller who can answer (`handler`) on the client of `slot`, which serves that
 * call alone: the call ends at `timeoutMs` (the server is sent `notifications/cancelled`).
 */
export async function callAnswerable(
  client: Client,
  slot: ElicitSlot | undefined,
  handler: ElicitHandler,
  params: { name: string; arguments: Record<string, unknown> },
  timeoutMs: number,
): Promise<unknown> {
  if (slot) slot.handler = handler;
  // The SDK keeps listening to this signal after the answer: abort it only while the call runs,
  // or every completed call would be followed by a notifications/cancelled.
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new DOMException(`the call took longer than ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  try {
    return await callWithElicitation(client, slot && { slot, handler }, params, deadline.signal, timeoutMs + 1000);
  } finally {
    clearTimeout(timer);
    if (slot) slot.handler = undefined;
  }
}

/** Holds and returns the first elicitation-capable client key under `base` that no call holds (one call per client). */
export function leaseKey(leased: Set<string>, base: string): string {
  let n = 0;
  while (leased.has(`${base}#elicit${n}`)) n++;
  leased.add(`${base}#elicit${n}`);
  return `${base}#elicit${n}`;
}
