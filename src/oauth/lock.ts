import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

// Delete only if we still own it: a holder whose lock expired must not free the next holder's.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

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
}
