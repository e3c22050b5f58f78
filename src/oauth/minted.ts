import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { Secret, type Keyring } from '../crypto/index.js';
import { RedisLock } from '../redis/index.js';

/** Whose a minted token is: the org, and the user it was exchanged for (none: an org's machine token). */
export interface MintedOwner {
  orgId: string;
  userId?: string;
  /** What it is for, e.g. `cc:<serverId>` or `xchg:<providerId>:<serverId>`. */
  purpose: string;
}

/** A token issued for one purpose, with its expiry (epoch ms; null: none said). */
export interface Minted {
  kind: 'minted';
  token: Secret;
  expiresAt: number | null;
}

const cached = z.object({ token: z.string().min(1), expiresAt: z.number().nullable() });

/** Tunables of the cache of minted tokens, with their defaults. */
export interface MintedOptions {
  /** A token is taken as expired this long before its expiry. Default 30000 ms. */
  skewMs?: number;
  /** Life of a token whose issuer named no expiry. Default 300000 ms. */
  noExpiryTtlMs?: number;
  /** How long a caller waits for another process minting the same token. Default 15000 ms. */
  waitMs?: number;
}
const DEFAULTS: Required<MintedOptions> = { skewMs: 30_000, noExpiryTtlMs: 300_000, waitMs: 15_000 };

/**
 * Tokens onbehalf obtains itself (client credentials, token exchange), cached sealed in Redis until
 * they expire (never in clear; the AAD binds org, user and purpose), and minted once at a time per
 * owner across processes (a Redis lock; a waiter reads what the holder cached).
 */
export class MintedTokens {
  readonly #lock: RedisLock;
  readonly #o: Required<MintedOptions>;

  constructor(
    private readonly redis: Redis,
    private readonly keyring: Keyring,
    opts: MintedOptions = {},
  ) {
    this.#lock = new RedisLock(redis);
    this.#o = { ...DEFAULTS, ...opts };
  }

  #key = (o: MintedOwner) => `onbehalf:oauth:minted:${o.orgId}:${o.userId ?? '-'}:${o.purpose}`;
  #ctx = (o: MintedOwner) => ({
    table: 'redis_minted_tokens',
    column: 'token',
    rowId: o.purpose,
    owner: { org_id: o.orgId, user_id: o.userId ?? '' },
  });

  /**
   * The cached token of `owner`, else the one `mint` obtains (cached until its expiry). `fresh`:
   * the cached one was refused by its server, so a new one is minted. A mint that fails is not cached.
   */
  async get<F extends { kind: string }>(
    owner: MintedOwner,
    mint: () => Promise<Minted | F>,
    fresh = false,
  ): Promise<Minted | F> {
    if (fresh) await this.redis.del(this.#key(owner));
    const deadline = Date.now() + this.#o.waitMs;
    for (;;) {
      const hit = await this.#read(owner);
      if (hit) return hit;
      const lock = `${this.#key(owner)}:lock`;
      const held = await this.#lock.acquire(lock, this.#o.waitMs);
      if (held) {
        try {
          const again = fresh ? undefined : await this.#read(owner);
          if (again) return again;
          const got = await mint();
          if (got.kind === 'minted') await this.#write(owner, got as Minted);
          return got;
        } finally {
          await this.#lock.release(lock, held).catch(() => undefined);
        }
      }
      // Another process is minting this very token: wait for what it caches, then take over.
      if (Date.now() > deadline) return mint();
      await sleep(25);
      fresh = false;
    }
  }

  async #read(owner: MintedOwner): Promise<Minted | undefined> {
    const sealed = await this.redis.get(this.#key(owner));
    if (!sealed) return undefined;
    try {
      const v = cached.parse(JSON.parse(this.keyring.open(sealed, this.#ctx(owner))));
      return { kind: 'minted', token: new Secret(v.token), expiresAt: v.expiresAt };
    } catch {
      await this.redis.del(this.#key(owner));
      return undefined;
    }
  }

  async #write(owner: MintedOwner, m: Minted): Promise<void> {
    const ttl = m.expiresAt === null ? this.#o.noExpiryTtlMs : m.expiresAt - Date.now() - this.#o.skewMs;
    if (ttl <= 0) return;
    const plain = JSON.stringify({ token: m.token.reveal(), expiresAt: m.expiresAt });
    await this.redis.set(this.#key(owner), this.keyring.seal(plain, this.#ctx(owner)), 'PX', Math.ceil(ttl));
  }
}
