import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

// Delete only if we still own it: a holder whose lock expired must not free the next holder's.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
// Extend only if we still own it: a holder whose lock expired must not revive it over the next holder.
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** A Redis mutex (SET NX PX with a random token, compare-and-delete release). Keys hold ids only. */
export class RedisLock {
  constructor(private readonly redis: Redis) {}

  /** Takes `key` for `ttlMs`; resolves the owner token, or null when someone else holds it. */
  async acquire(key: string, ttlMs: number): Promise<string | null> {
    const token = randomBytes(16).toString('hex');
    const ok = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : null;
  }

  /** Frees `key` if `token` still owns it. */
  async release(key: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, key, token);
  }

  /** Resets the life of `key` to `ttlMs` if `token` still owns it; resolves whether it did. */
  async extend(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(EXTEND, 1, key, token, String(ttlMs))) === 1;
  }

  /**
   * Takes `key` and keeps it while held: every `ttlMs / 3` the life is extended (compare-and-extend),
   * so work that outlives one TTL keeps the lock, while a crashed holder still frees it after `ttlMs`.
   * Resolves null when someone else holds it.
   */
  async hold(key: string, ttlMs: number): Promise<HeldLock | null> {
    const token = await this.acquire(key, ttlMs);
    return token ? new HeldLock(this, key, token, ttlMs) : null;
  }
}

/** A lock this process holds and renews until `release`; `lost` once a renewal found another owner. */
export class HeldLock {
  #lost = false;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly lock: RedisLock,
    readonly key: string,
    readonly token: string,
    private readonly ttlMs: number,
  ) {
    this.#timer = setInterval(() => void this.confirm().catch(() => undefined), Math.max(10, Math.floor(ttlMs / 3)));
    this.#timer.unref();
  }

  /** True once a renewal found the lock gone or owned by someone else. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Extends the lock now and resolves whether this process still owns it (the fence before a send or a write). */
  async confirm(): Promise<boolean> {
    if (this.#lost) return false;
    const owned = await this.lock.extend(this.key, this.token, this.ttlMs);
    if (!owned) this.#lost = true;
    return owned;
  }

  /** Stops renewing and frees the lock if still ours. */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    if (!this.#lost) await this.lock.release(this.key, this.token);
  }
}
