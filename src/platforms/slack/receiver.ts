import type { App as BoltApp, Receiver } from '@slack/bolt';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { CodedError } from '../../errors.js';
import type { RouteEnv as WebEnv } from '../../chat/platform.js';
import { verifySlackRequest } from './verify-request.js';

/** Options of the HTTP receiver. */
export interface HonoReceiverOptions {
  signingSecret: string;
  /**
   * Longest wait before answering Slack, whatever the listeners are doing (Slack gives 3 s).
   * Default 2500 ms.
   */
  ackDeadlineMs?: number;
  /** Largest accepted body. Default 4 MiB (as bolt-js). */
  maxBodyBytes?: number;
}

/** The receiver was used before Bolt called `init`. */
export class ReceiverNotInitializedError extends CodedError {
  readonly code = 'slack_receiver_not_initialized';
  constructor() {
    super('the Slack receiver has no Bolt app yet');
  }
}

type Outcome = { kind: 'acked'; response: unknown } | { kind: 'done' } | { kind: 'failed' } | { kind: 'timeout' };

const parseBody = (raw: string, contentType: string): Record<string, unknown> | undefined => {
  try {
    if (contentType.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
    const form = Object.fromEntries(new URLSearchParams(raw));
    return typeof form['payload'] === 'string' ? (JSON.parse(form['payload']) as Record<string, unknown>) : form;
  } catch {
    return undefined;
  }
};

const fields = z.record(z.string(), z.unknown());
const idOrObject = z.union([z.string(), fields]);
// Bolt keys plain objects by team id: `constructor` or `__proto__` would reach Object.prototype.
const slackId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/)
  .refine((s) => !(s in Object.prototype));
const owner = z.object({ id: slackId.optional() }).nullable().optional();
/**
 * The parts of a body Bolt reads without checking their type (it throws on a number where it
 * expects an object, and keys plain objects by team id). A signed body of another shape is
 * malformed: a 400, never a 500 that Slack would retry. The listeners parse what they use.
 */
const boltShape = z
  .object({
    team_id: slackId.optional(),
    enterprise_id: slackId.nullable().optional(),
    team: owner,
    enterprise: owner,
    authorizations: z.array(fields).optional(),
    event: z
      .object({
        user: idOrObject.optional(),
        channel: idOrObject.optional(),
        subteam: fields.optional(),
        item: fields.optional(),
      })
      .optional(),
    actions: z.array(fields).optional(),
    view: fields.optional(),
    user: idOrObject.optional(),
    channel: idOrObject.optional(),
    message: fields.optional(),
    container: fields.optional(),
  })
  .refine((b) => {
    // Interactivity (actions, views, shortcuts, options): Bolt reads `user.id` and `user.team_id`.
    const interactive =
      !('event' in b) &&
      !('command' in b) &&
      ('actions' in b ||
        'view' in b ||
        (typeof (b as { type?: unknown }).type === 'string' &&
          !['event_callback', 'app_rate_limited'].includes((b as { type: string }).type)));
    return !interactive || (typeof b.user === 'object' && b.user !== null);
  });

/**
 * The body as text, counted while it streams in: past `max` bytes reading stops and undefined is
 * returned, whether or not the sender announced a length (chunked bodies have none).
 */
async function readLimited(req: Request, max: number): Promise<string | undefined> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// The rest of an oversized body is not read: close the connection rather than drain it.
const tooLarge = (c: Context<WebEnv>) => {
  c.header('Connection', 'close');
  return c.text('Payload too large', 413);
};

const respond = (c: Context<WebEnv>, response: unknown) => {
  if (response === undefined || response === null || response === '') return c.body(null, 200);
  if (typeof response === 'string') return c.text(response, 200);
  return c.json(response as object, 200);
};

/**
 * Bolt's `Receiver` on our Hono server (like bolt-js's HTTPReceiver, but a router): one URL takes
 * events, slash commands and interactivity. Verifies the signature over the raw body first (opaque
 * 401 otherwise, nothing dispatched), hands the parsed body to `app.processEvent`, and answers when
 * the listener acks. Events are answered when their listener finishes (so a failure to accept the
 * work, e.g. Redis down, becomes a 500 and Slack retries), or at the deadline, whichever is first.
 */
export class HonoReceiver implements Receiver {
  #app: BoltApp | undefined;
  readonly #opts: HonoReceiverOptions;

  constructor(opts: HonoReceiverOptions) {
    this.#opts = opts;
  }

  init(app: BoltApp): void {
    this.#app = app;
  }

  /** Nothing to listen on: the router is mounted in the product's web server. */
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** The `/slack` router: `POST /events`. */
  router(): Hono<WebEnv> {
    const r = new Hono<WebEnv>();
    r.post('/events', (c) => this.#handle(c));
    return r;
  }

  async #handle(c: Context<WebEnv>): Promise<Response> {
    const app = this.#app;
    if (!app) throw new ReceiverNotInitializedError();
    const body = await this.#verifiedBody(c);
    if (body instanceof Response) return body;
    if (body['type'] === 'url_verification') return c.json({ challenge: body['challenge'] });
    if (body['ssl_check'] === '1') return c.body(null, 200);
    return this.#dispatch(c, app, body);
  }

  /** The body once its size, signature and shape pass; otherwise the answer (413, 401, 400). */
  async #verifiedBody(c: Context<WebEnv>): Promise<Record<string, unknown> | Response> {
    const length = Number(c.req.header('content-length') ?? 0);
    const max = this.#opts.maxBodyBytes ?? 4 * 1024 * 1024;
    if (length > max) return tooLarge(c);
    const raw = await readLimited(c.req.raw, max);
    if (raw === undefined) return tooLarge(c);

    const verdict = verifySlackRequest({
      signingSecret: this.#opts.signingSecret,
      rawBody: raw,
      signature: c.req.header('x-slack-signature'),
      timestamp: c.req.header('x-slack-request-timestamp'),
    });
    if (!verdict.ok) {
      c.get('log').warn({ reason: verdict.reason }, 'refused a Slack request that failed signature verification');
      return c.text('Unauthorized', 401);
    }
    const body = parseBody(raw, c.req.header('content-type') ?? '');
    if (!body || typeof body !== 'object' || Array.isArray(body) || !boltShape.safeParse(body).success)
      return c.text('Bad request', 400);
    return body;
  }

  /** Hands the body to Bolt and answers when the listener acks, finishes or the deadline passes. */
  async #dispatch(c: Context<WebEnv>, app: BoltApp, body: Record<string, unknown>): Promise<Response> {
    const log = c.get('log');
    const retryNum = Number(c.req.header('x-slack-retry-num')) || undefined;
    const retryReason = c.req.header('x-slack-retry-reason');
    const isEvent = body['type'] === 'event_callback';

    let acked = false;
    let onAck!: (o: Outcome) => void;
    const ackedP = new Promise<Outcome>((resolve) => (onAck = resolve));
    const ack = async (response?: unknown) => {
      if (acked) return;
      acked = true;
      onAck({ kind: 'acked', response });
    };
    const processed: Promise<Outcome> = app.processEvent({ body, ack, retryNum, retryReason }).then(
      () => ({ kind: 'done' }),
      (err: unknown) => {
        log.error({ err: (err as Error)?.message, code: (err as { code?: string })?.code }, 'a Slack listener failed');
        return { kind: 'failed' };
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Outcome>(
      (resolve) => (timer = setTimeout(() => resolve({ kind: 'timeout' }), this.#opts.ackDeadlineMs ?? 2500)),
    );
    // Events: Bolt acks before the listener runs; we wait for the listener instead, so that
    // "could not accept the work" is a 500 (Slack retries) rather than a silent 200.
    const outcome = await Promise.race(isEvent ? [processed, deadline] : [ackedP, processed, deadline]);
    clearTimeout(timer);
    switch (outcome.kind) {
      case 'acked':
        return respond(c, outcome.response);
      case 'failed':
        return c.text('Could not accept this event now; please retry.', 500);
      case 'done':
      case 'timeout':
        if (outcome.kind === 'timeout')
          log.warn({ isEvent }, 'Slack request answered at the ack deadline; its work continues');
        return c.body(null, 200);
    }
  }
}
