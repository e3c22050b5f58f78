import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, eq, gt, lte, or } from 'drizzle-orm';
import type { Store } from '../db/index.js';
import type { Logger } from '../log.js';
import type { GuardedFetch } from '../net/index.js';
import type { AuditEvent } from './writer.js';

/** Tunables of the audit sink, with their defaults. */
export interface AuditSinkOptions {
  /** Events per request at most. Default 200. */
  batch?: number;
  /** How often the sink looks for new events when it is caught up. Default 1000 ms. */
  everyMs?: number;
  /**
   * Events younger than this wait for the next round, so one written by a slower writer just before
   * them is not skipped (the cursor only moves forward). Default 2000 ms.
   */
  settleMs?: number;
  /** First wait after a failed delivery, doubled each time up to `maxBackoffMs`. Default 1000 ms. */
  backoffMs?: number;
  /** Default 60000 ms. */
  maxBackoffMs?: number;
}

export const AUDIT_SINK_DEFAULTS: Required<AuditSinkOptions> = {
  batch: 200,
  everyMs: 1000,
  settleMs: 2000,
  backoffMs: 1000,
  maxBackoffMs: 60_000,
};

/** The signature header: `sha256=<hex HMAC-SHA256 of the raw body under AUDIT_WEBHOOK_SECRET>`. */
export const SIGNATURE_HEADER = 'x-onbehalf-signature';

/** The HMAC the receiver recomputes over the raw body. */
export const signBody = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * Delivers every audit event to `AUDIT_WEBHOOK_URL` as JSON lines (`application/x-ndjson`, one event
 * per line with its `eventId`), in batches, after the event is stored: it reads the audit table past
 * its cursor, so a tool call never waits for it and nothing is lost while the receiver is down. The
 * cursor moves only after a 2xx, so delivery is at least once (the receiver dedups by `eventId`);
 * failures back off exponentially. One process of the deployment runs it (the caller holds a lease).
 */
export class AuditSink {
  readonly #o: Required<AuditSinkOptions>;
  #stopped = true;
  #loop: Promise<void> | undefined;
  #wake: AbortController | undefined;
  /** Aborts a delivery in flight on stop (a hanging receiver must not hold up shutdown). */
  #abort = new AbortController();

  constructor(
    private readonly d: {
      store: Store;
      /** The network guard's fetch (`ONBEHALF_ALLOW_PRIVATE_URLS` applies). */
      fetch: GuardedFetch;
      url: string;
      secret: string | undefined;
      log: Logger;
      /** Counts failed deliveries. */
      onFailure?: () => void;
    },
    opts: AuditSinkOptions = {},
  ) {
    this.#o = { ...AUDIT_SINK_DEFAULTS, ...opts };
  }

  /** Starts delivering (again after a stop: the lease may come back). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#abort = new AbortController();
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.abort();
    this.#abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let backoff = 0;
    while (!this.#stopped) {
      let wait = this.#o.everyMs;
      try {
        const sent = await this.deliverOnce();
        backoff = 0;
        if (sent === this.#o.batch) wait = 0; // more are waiting
      } catch (err) {
        backoff = Math.min(this.#o.maxBackoffMs, backoff ? backoff * 2 : this.#o.backoffMs);
        wait = backoff;
        this.d.onFailure?.();
        this.d.log.warn({ err: (err as Error).message, retryInMs: backoff }, 'audit sink delivery failed');
      }
      this.#wake = new AbortController();
      await sleep(wait, undefined, { signal: this.#wake.signal }).catch(() => undefined);
    }
  }

  /** Sends the next batch past the cursor; resolves how many events were delivered (0: caught up). */
  async deliverOnce(now = Date.now()): Promise<number> {
    const events = await this.#next(now);
    if (!events.length) return 0;
    const body = events.map((e) => JSON.stringify({ eventId: e.id, ...e })).join('\n') + '\n';
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
    if (this.d.secret) headers[SIGNATURE_HEADER] = signBody(this.d.secret, body);
    const res = await this.d.fetch(this.d.url, { method: 'POST', headers, body, signal: this.#abort.signal });
    await res.body?.cancel().catch(() => undefined);
    if (!res.ok) throw new Error(`the receiver answered HTTP ${res.status}`);
    const last = events.at(-1)!;
    const s = this.d.store;
    const c = s.t.auditSinkCursors;
    // One deliverer holds the lease, so the cursor is written by one process at a time.
    await s.changes(
      s.db
        .insert(c)
        .values({ sink: 'webhook', at: last.at, eventId: last.id, updatedAt: Date.now() })
        .onConflictDoUpdate({ target: c.sink, set: { at: last.at, eventId: last.id, updatedAt: Date.now() } }),
    );
    return events.length;
  }

  async #next(now: number): Promise<AuditEvent[]> {
    const s = this.d.store;
    const { auditEvents: a, auditSinkCursors: c } = s.t;
    const cursor = await s.first(s.db.select().from(c).where(eq(c.sink, 'webhook')));
    const after = cursor ? or(gt(a.at, cursor.at), and(eq(a.at, cursor.at), gt(a.id, cursor.eventId))) : undefined;
    return s.rows(
      s.db
        .select()
        .from(a)
        .where(and(lte(a.at, now - this.#o.settleMs), after))
        .orderBy(asc(a.at), asc(a.id))
        .limit(this.#o.batch),
    );
  }
}
