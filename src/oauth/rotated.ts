import { setTimeout as sleep } from 'node:timers/promises';
import type { OAuthDeps, OAuthOptions } from './deps.js';
import type { ProviderRow } from './providers.js';
import type { RefreshStash } from './stash.js';
import type { ConnectionRow, ConnectionStore } from './store.js';
import type { TokenSet } from './tokenclient.js';
import type { TokenResult } from './types.js';

/**
 * Stores a rotated token set, conditional on the version it replaces (a stale writer loses and
 * uses the newer row). A write that keeps failing does not lose the set: it is stashed sealed in
 * Redis and used now; the next refresh stores it before anything is sent to the provider.
 */
export class RotatedTokens {
  constructor(
    private readonly d: OAuthDeps,
    private readonly conns: ConnectionStore,
    private readonly stash: RefreshStash,
    private readonly o: Required<OAuthOptions>,
  ) {}

  /** Stores `t` over `row`: the stored row, the newer row that won, or the set in hand (stashed). */
  async store(
    p: ProviderRow,
    row: ConnectionRow,
    t: TokenSet,
    o: { attempts: number; fromStash: boolean },
  ): Promise<ConnectionRow | TokenResult> {
    for (let attempt = 0; attempt < o.attempts; attempt++) {
      if (attempt > 0) await sleep(this.o.backoffMs * 2 ** (attempt - 1));
      let won: boolean;
      try {
        won = await this.conns.writeRefreshed(row, t);
      } catch (err) {
        this.d.log.warn(
          { provider: p.slug, connectionId: row.id, attempt: attempt + 1, err: (err as Error).message },
          'could not store the refreshed tokens',
        );
        continue;
      }
      if (o.fromStash) await this.stash.drop(row.id).catch(() => undefined);
      // A stale writer loses: someone else stored a newer token; use theirs.
      const now = await this.conns.byId(row.id);
      return now && (won || now.status === 'active')
        ? now
        : { kind: 'missing', providerId: p.id, providerSlug: p.slug };
    }
    if (!o.fromStash) await this.#keep(p, row, t);
    return unstored(p, row, t);
  }

  /** The database would not take the set: keep it sealed in Redis for the next attempt to store. */
  async #keep(p: ProviderRow, row: ConnectionRow, t: TokenSet): Promise<void> {
    try {
      await this.stash.put(row, row.version, t);
      this.d.log.error(
        { provider: p.slug, connectionId: row.id, keepMs: this.o.stashTtlMs },
        'the database did not take the rotated tokens; kept them sealed in Redis for the next attempt to store',
      );
    } catch (err) {
      this.d.log.error(
        { provider: p.slug, connectionId: row.id, err: (err as Error).message },
        'the rotated tokens could be stored neither in the database nor in Redis; ' +
          'the connection will need re-authorisation',
      );
    }
  }
}

/** A token set in hand that the database has not taken (yet): usable now, stashed for the next attempt. */
function unstored(p: ProviderRow, row: ConnectionRow, t: TokenSet): TokenResult {
  return {
    kind: 'ok',
    token: t.accessToken,
    connectionId: row.id,
    providerId: p.id,
    providerSlug: p.slug,
    vendorAccount: row.vendorLogin,
    scopes: t.scopes ?? row.scopes,
    expiresAt: t.expiresAt,
  };
}
