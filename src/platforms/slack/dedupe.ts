import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Options of the retry deduper. */
export interface RecentEventsOptions {
  /** How long an accepted event id is remembered (Slack retries for about 5 minutes). Default 10 minutes. */
  ttlMs?: number;
  /** Most ids remembered in this process; the oldest are forgotten first. Default 50000. */
  maxEntries?: number;
  /** The Redis every replica shares: an event accepted by any replica is not run again by another. Default none (this process only). */
  redis?: Redis;
  /**
   * How long a replica's claim on an event it is still handling lives. Accepting an event only
   * resolves the caller and queues work (well under Slack's 3 s); a replica that dies mid-way frees
   * the event after this, in time for Slack's next retry (about a minute later). Default 30 s.
   */
  claimMs?: number;
  /** How often a redelivery checks on a first delivery another replica is still handling. Default 100 ms. */
  pollMs?: number;
}

// Marks the event accepted only while the claim is still ours (a claim that lapsed may be another replica's now).
const ACCEPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('set', KEYS[1], 'done', 'PX', ARGV[2]) else return 0 end`;
const UNCLAIM = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Slack redelivers an event (`X-Slack-Retry-Num`, same `event_id`) when our answer was slow or
 * failed, and behind a load balancer the retry may reach another replica. An id is remembered only
 * once the chat core accepted it, so a retry after a failure runs again (retries are deduplicated,
 * not dropped); a retry while the first delivery is still running waits for it. With `redis` the
 * memory is shared: a claim key (SET NX PX) while an event is handled, `done` once accepted. Redis,
 * not a database row: the memory is needed for minutes only, and expiry is what Redis does.
 * When Redis does not answer, this process's own memory still deduplicates its retries.
 */
export class RecentEvents {
  readonly #done = new Map<string, number>();
  readonly #running = new Map<string, Promise<boolean>>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #o: RecentEventsOptions;

  constructor(opts: RecentEventsOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.#max = opts.maxEntries ?? 50_000;
    this.#o = opts;
  }

  /** Runs `work` for `id` unless it already succeeded here or on another replica; returns whether it ran. */
  async once(id: string, work: () => Promise<void>): Promise<boolean> {
    const at = this.#done.get(id);
    if (at !== undefined && Date.now() - at < this.#ttlMs) return false;
    const running = this.#running.get(id);
    if (running) {
      // Same outcome as the first delivery: if it failed, this retry fails too and Slack tries again.
      await running;
      return false;
    }
    const p = this.#shared(id, work);
    this.#running.set(id, p);
    try {
      const ran = await p;
      this.#remember(id);
      return ran;
    } finally {
      this.#running.delete(id);
    }
  }

  /** Runs `work` once across the replicas sharing Redis (or here only, without Redis or when it is away). */
  async #shared(id: string, work: () => Promise<void>): Promise<boolean> {
    const redis = this.#o.redis;
    if (!redis) return work().then(() => true);
    const key = `onbehalf:slack-event:${id}`;
    const claim = `run:${randomBytes(12).toString('hex')}`;
    for (;;) {
      const taken = await redis.set(key, claim, 'PX', this.#o.claimMs ?? 30_000, 'NX').catch(() => undefined);
      if (taken === undefined) return work().then(() => true); // Redis away: deduplicated in this process only
      if (taken === 'OK') break;
      const state = await this.#settled(redis, key);
      if (state === 'done') return false;
      // The other replica's first delivery failed (or it died): this delivery runs it.
    }
    try {
      await work();
    } catch (err) {
      await redis.eval(UNCLAIM, 1, key, claim).catch(() => undefined);
      throw err;
    }
    await redis.eval(ACCEPT, 1, key, claim, String(this.#ttlMs)).catch(() => undefined);
    return true;
  }

  /** Waits while another replica handles the event: `done` once it accepted it, `free` when its claim is gone. */
  async #settled(redis: Redis, key: string): Promise<'done' | 'free'> {
    for (;;) {
      const v = await redis.get(key).catch(() => null);
      if (v === 'done') return 'done';
      if (v === null) return 'free';
      await new Promise((r) => setTimeout(r, this.#o.pollMs ?? 100));
    }
  }

  #remember(id: string): void {
    this.#done.delete(id);
    this.#done.set(id, Date.now());
    while (this.#done.size > this.#max) this.#done.delete(this.#done.keys().next().value!);
  }
}
