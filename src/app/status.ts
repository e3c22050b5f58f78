import { Queue } from 'bullmq';
import { and, count, desc, eq, gte, inArray, or } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Store } from '../db/index.js';

/** Queue states counted; `waiting` + `prioritized` + `delayed` is the backlog, `active` what workers hold. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** One queue's depth by state and the workers connected to it. */
export interface QueueStatus {
  name: 'tool' | 'turn';
  counts: Record<QueueState, number>;
  workers: number;
}

/** Audit outcomes an operator wants to see among the last errors. */
const FAILURES = [
  'notify_failed',
  'unavailable',
  'needs_reauth',
  'unreachable',
  'timeout',
  'protocol_error',
  'refused',
  'rejected',
  'misconfigured',
  'token_unavailable',
];

/** One recent failure, from the audit log (codes and names, never a value). */
export interface RecentError {
  at: number;
  category: string;
  action: string;
  outcome: string;
  server: string | null;
  tool: string | null;
  provider: string | null;
}

/** The deployment at a glance: what `/metrics` gauges and `onbehalf status` prints. */
export interface OpsSnapshot {
  at: number;
  /** The `tool` and `turn` queues, or why Redis could not say. */
  queues: QueueStatus[] | { error: string };
  parked: { provider: string; count: number }[];
  needsReauth: { provider: string; count: number }[];
  /** Refresh failures in the last `windowMs`: still unreachable after retries, and refused (the grant died). */
  refreshFailures: { unavailable: number; needs_reauth: number };
  /** Results that could not be posted to chat, in the last `windowMs`. */
  notifyFailures: number;
  /** The latest failures, newest first. */
  lastErrors: RecentError[];
  windowMs: number;
}

/** Tunables of the snapshot, with their defaults. */
export interface OpsStatusOptions {
  /** The runner's queue key prefix. Default `onbehalf`. */
  prefix?: string | undefined;
  /** The window of the failure counts. Default 3600000 ms (one hour). */
  windowMs?: number;
  /** How many recent failures to list. Default 5. */
  lastErrors?: number;
  /** How long the queues may take to answer. Default 3000 ms. */
  timeoutMs?: number;
}

/** Reads the snapshot from the database and the queues (any process that reaches both: serve, or the CLI). */
export class OpsStatus {
  readonly #o: Required<OpsStatusOptions>;
  readonly #queues: Queue[];

  constructor(
    private readonly store: Store,
    /** Undefined: no Redis to read the queues from (the snapshot says so). */
    redis: Redis | undefined,
    opts: OpsStatusOptions = {},
  ) {
    this.#o = {
      prefix: opts.prefix ?? 'onbehalf',
      windowMs: opts.windowMs ?? 3_600_000,
      lastErrors: opts.lastErrors ?? 5,
      timeoutMs: opts.timeoutMs ?? 3000,
    };
    this.#queues = redis
      ? ['tool', 'turn'].map((n) => new Queue(n, { connection: redis, prefix: this.#o.prefix }))
      : [];
    for (const q of this.#queues) q.on('error', () => undefined); // a Redis outage shows in the snapshot instead
  }

  async snapshot(now = Date.now()): Promise<OpsSnapshot> {
    const since = now - this.#o.windowMs;
    const [queues, parked, needsReauth, failures, lastErrors] = await Promise.all([
      this.#queueStatus(),
      this.#byProvider('parked'),
      this.#byProvider('needs_reauth'),
      this.#failures(since),
      this.#lastErrors(),
    ]);
    return { at: now, queues, parked, needsReauth, ...failures, lastErrors, windowMs: this.#o.windowMs };
  }

  async #queueStatus(): Promise<QueueStatus[] | { error: string }> {
    if (!this.#queues.length) return { error: 'no Redis to read them from' };
    let timer: NodeJS.Timeout | undefined;
    try {
      const read = Promise.all(
        this.#queues.map(async (q) => {
          const counts = (await q.getJobCounts(...QUEUE_STATES)) as Record<QueueState, number>;
          return { name: q.name as 'tool' | 'turn', counts, workers: await q.getWorkersCount() };
        }),
      );
      // A Redis that does not answer must not hang a scrape or the CLI.
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${this.#o.timeoutMs} ms`)), this.#o.timeoutMs);
      });
      return await Promise.race([read, late]);
    } catch (err) {
      return { error: (err as Error).message.slice(0, 200) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Parked calls (by the provider they wait for) or grants needing reauth (by theirs), per provider slug. */
  async #byProvider(what: 'parked' | 'needs_reauth'): Promise<{ provider: string; count: number }[]> {
    const s = this.store;
    const { toolCalls: c, connectedAccounts: g, oauthProviders: p } = s.t;
    const pick = { provider: p.slug, count: count() };
    const rows = await s.rows(
      what === 'parked'
        ? s.db
            .select(pick)
            .from(c)
            .innerJoin(p, eq(p.id, c.parkedProviderId))
            .where(eq(c.status, 'parked'))
            .groupBy(p.slug)
        : s.db.select(pick).from(g).innerJoin(p, eq(p.id, g.providerId)).where(eq(g.status, what)).groupBy(p.slug),
    );
    return rows.map((r) => ({ provider: r.provider, count: Number(r.count) }));
  }

  async #failures(since: number): Promise<Pick<OpsSnapshot, 'refreshFailures' | 'notifyFailures'>> {
    const s = this.store;
    const a = s.t.auditEvents;
    const rows = await s.rows(
      s.db
        .select({ action: a.action, count: count() })
        .from(a)
        .where(
          and(
            gte(a.at, since),
            or(
              and(eq(a.category, 'connection'), inArray(a.action, ['refresh_failed', 'needs_reauth'])),
              and(eq(a.action, 'notify'), eq(a.outcome, 'notify_failed')),
            ),
          ),
        )
        .groupBy(a.action),
    );
    const n = (action: string) => Number(rows.find((r) => r.action === action)?.count ?? 0);
    return {
      refreshFailures: { unavailable: n('refresh_failed'), needs_reauth: n('needs_reauth') },
      notifyFailures: n('notify'),
    };
  }

  async #lastErrors(): Promise<RecentError[]> {
    const s = this.store;
    const a = s.t.auditEvents;
    const rows = await s.rows(
      s.db.select().from(a).where(inArray(a.outcome, FAILURES)).orderBy(desc(a.at)).limit(this.#o.lastErrors),
    );
    return rows.map((e) => ({
      at: e.at,
      category: e.category,
      action: e.action,
      outcome: e.outcome ?? '',
      server: e.server,
      tool: e.tool,
      provider: typeof e.detail?.['provider'] === 'string' ? e.detail['provider'] : null,
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.#queues.map((q) => q.close()));
  }
}
