import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { RedisLock } from './lock.js';

/** Timings of a lease; defaults in `LEASE_DEFAULTS`. */
export interface LeaseOptions {
  /** How long the lease outlives its holder's last renewal (a SIGKILLed holder frees it after this). */
  ttlMs?: number;
  /** How often the holder renews. */
  renewMs?: number;
  /** How often a process without the lease tries to take it. */
  retryMs?: number;
}

/**
 * A holder that dies is replaced within `ttlMs + retryMs` (10 s), which leaves 5 s of a 15 s
 * takeover promise for the new holder to connect. Renewing every 2 s lets three renewals fail in a
 * row (a Redis restart, a long GC pause) before the holder gives the lease up on its own.
 */
export const LEASE_DEFAULTS: Required<LeaseOptions> = { ttlMs: 8000, renewMs: 2000, retryMs: 2000 };

/** What runs while this process holds the lease. */
export interface LeaseHolder {
  /** This process took the lease: start the one-per-deployment work. A throw gives the lease back. */
  onHeld(): Promise<void>;
  /** The lease was lost, given up or released: stop that work (before another process may start it). */
  onLost(): Promise<void>;
}

/**
 * One holder among processes sharing Redis: a key taken with SET NX PX and a random token, renewed
 * by compare-and-extend, released by compare-and-delete (a stale holder never touches the next
 * holder's lease). Processes without it retry every `retryMs`. A holder that cannot renew stops its
 * work `renewMs` before its lease could expire, so two holders never run at once.
 */
export class RedisLease {
  readonly #lock: RedisLock;
  readonly #o: Required<LeaseOptions>;
  #token: string | undefined;
  #validUntil = 0;
  #renewer: NodeJS.Timeout | undefined;
  #retrier: NodeJS.Timeout | undefined;
  #renewing = false;
  #stopped = false;
  #holder: LeaseHolder | undefined;

  constructor(
    redis: Redis,
    readonly key: string,
    private readonly log: Logger,
    opts: LeaseOptions = {},
  ) {
    this.#lock = new RedisLock(redis);
    this.#o = { ...LEASE_DEFAULTS, ...opts };
  }

  /** Whether this process holds the lease now. */
  get held(): boolean {
    return this.#token !== undefined;
  }

  /** Tries once now (resolving after `onHeld` when taken, rethrowing its error), then keeps trying in the background. */
  async start(holder: LeaseHolder): Promise<void> {
    this.#holder = holder;
    this.#stopped = false;
    try {
      await this.#tryTake(true);
    } finally {
      if (!this.#stopped) this.#scheduleRetry();
    }
  }

  /** Stops trying; if held, stops the work first, then releases the lease so another process takes it at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#retrier);
    await this.#drop('stopped', true);
  }

  #scheduleRetry(): void {
    this.#retrier = setInterval(() => void this.#tryTake(false).catch(() => undefined), this.#o.retryMs);
    this.#retrier.unref();
  }

  async #tryTake(rethrow: boolean): Promise<void> {
    if (this.#token || this.#stopped || !this.#holder) return;
    const t0 = Date.now();
    const token = await this.#lock.acquire(this.key, this.#o.ttlMs).catch(() => null);
    if (!token) return;
    if (this.#stopped) return void (await this.#lock.release(this.key, token).catch(() => undefined));
    this.#token = token;
    this.#validUntil = t0 + this.#o.ttlMs;
    this.#renewer = setInterval(() => void this.#renew(token), this.#o.renewMs);
    this.#renewer.unref();
    this.log.info({ lease: this.key }, 'took the lease');
    try {
      await this.#holder.onHeld();
    } catch (err) {
      this.log.warn(
        { lease: this.key, err: (err as Error).message },
        'could not start the work of the lease; giving it back',
      );
      if (this.#token === token) await this.#drop('start_failed', true);
      if (rethrow) throw err;
    }
  }

  async #renew(token: string): Promise<void> {
    if (this.#token !== token) return;
    // No renewal proved ownership in time: stop before the lease can expire and another process take it.
    if (Date.now() >= this.#validUntil - this.#o.renewMs) return this.#drop('unrenewed', false);
    if (this.#renewing) return;
    this.#renewing = true;
    const t0 = Date.now();
    try {
      const owned = await this.#lock.extend(this.key, token, this.#o.ttlMs);
      if (this.#token !== token) return;
      if (owned) this.#validUntil = t0 + this.#o.ttlMs;
      else await this.#drop('lost', false);
    } catch {
      /* Redis unreachable: the next tick retries, or gives the lease up when time runs out */
    } finally {
      this.#renewing = false;
    }
  }

  /** Ends this process's term: the work stops, then (`release`) the key is freed if still ours. */
  async #drop(why: string, release: boolean): Promise<void> {
    const token = this.#token;
    if (!token) return;
    this.#token = undefined;
    clearInterval(this.#renewer);
    this.log.info({ lease: this.key, why }, 'gave up the lease');
    try {
      await this.#holder?.onLost();
    } catch (err) {
      this.log.warn({ lease: this.key, err: (err as Error).message }, 'stopping the work of the lease failed');
    }
    if (release) await this.#lock.release(this.key, token).catch(() => undefined);
  }
}
