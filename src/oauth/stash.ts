import type { Redis } from 'ioredis';
import { z } from 'zod';
import { Secret, type Keyring } from '../crypto/index.js';
import type { TokenSet } from './tokenclient.js';

const stashed = z.object({
  /** The row version the provider's answer replaces. */
  fromVersion: z.number().int(),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  expiresAt: z.number().nullable(),
  scopes: z.array(z.string()).optional(),
});

/** The connection a stash entry belongs to (its row id and owner). */
export interface StashOwner {
  id: string;
  orgId: string;
  userId: string;
  providerId: string;
}

/** A rotated token set whose storage in the database failed, kept to be stored by the next attempt. */
export interface StashedTokens {
  fromVersion: number;
  tokens: TokenSet;
}

/**
 * Tokens a provider issued but the database did not take, sealed with the keyring (never plaintext in
 * Redis), one key per connection with a short life. The next refresh of that connection stores them
 * first instead of sending the old refresh token again (the provider already rotated it).
 */
export class RefreshStash {
  constructor(
    private readonly redis: Redis,
    private readonly keyring: Keyring,
    private readonly ttlMs: number,
  ) {}

  #key = (connectionId: string) => `onbehalf:oauth:stash:${connectionId}`;
  // Bound to the connection and its owner, like the row it stands in for.
  #ctx = (c: StashOwner) => ({
    table: 'redis_refresh_stash',
    column: 'tokens',
    rowId: c.id,
    owner: { org_id: c.orgId, user_id: c.userId, provider_id: c.providerId },
  });

  /** Keeps `tokens` (issued to replace version `fromVersion` of the connection) for the stash's life. */
  async put(conn: StashOwner, fromVersion: number, t: TokenSet): Promise<void> {
    const plain = JSON.stringify({
      fromVersion,
      accessToken: t.accessToken.reveal(),
      refreshToken: t.refreshToken?.reveal(),
      expiresAt: t.expiresAt,
      scopes: t.scopes,
    } satisfies z.input<typeof stashed>);
    await this.redis.set(this.#key(conn.id), this.keyring.seal(plain, this.#ctx(conn)), 'PX', this.ttlMs);
  }

  /** The stashed tokens of a connection, or undefined (none, or unreadable: dropped). */
  async get(conn: StashOwner): Promise<StashedTokens | undefined> {
    const connectionId = conn.id;
    const sealed = await this.redis.get(this.#key(connectionId));
    if (!sealed) return undefined;
    let parsed: z.infer<typeof stashed>;
    try {
      parsed = stashed.parse(JSON.parse(this.keyring.open(sealed, this.#ctx(conn))));
    } catch {
      await this.drop(connectionId);
      return undefined;
    }
    return {
      fromVersion: parsed.fromVersion,
      tokens: {
        accessToken: new Secret(parsed.accessToken),
        refreshToken: parsed.refreshToken ? new Secret(parsed.refreshToken) : undefined,
        expiresAt: parsed.expiresAt,
        scopes: parsed.scopes,
      },
    };
  }

  /** Forgets the stashed tokens of a connection (stored, or superseded). */
  async drop(connectionId: string): Promise<void> {
    await this.redis.del(this.#key(connectionId));
  }
}
