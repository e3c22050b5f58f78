import { setTimeout as sleep } from 'node:timers/promises';
import { SealedValueMismatch } from '../crypto/index.js';
import { withDefaults, type OAuthDeps, type OAuthOptions } from './deps.js';
import { RedisLock, type HeldLock } from '../redis/index.js';
import type { ProviderRow, ProviderStore } from './providers.js';
import type { ConnectionRow, ConnectionStore } from './store.js';
import { runHook } from './hooks.js';
import { RotatedTokens } from './rotated.js';
import { ServiceIdentities } from './services.js';
import { RefreshStash } from './stash.js';
import { failureCode, type TokenClient } from './tokenclient.js';
import type { AccessTokenOptions, TokenResult } from './types.js';

type DeadCause = 'invalid_grant' | 'no_refresh_token' | 'sealed_value_mismatch';

/**
 * `accessTokenFor`: a valid token of this user, refreshed in time, once per connection at a time
 * across processes (a Redis lock renewed while the refresh runs, fencing the send of the refresh
 * token, + a version-conditional write). A rotated set the database would not take is stashed
 * sealed in Redis and stored by the next attempt. Never another user's token.
 */
export class TokenService {
  readonly #o: Required<OAuthOptions>;
  readonly #lock: RedisLock;
  readonly #stash: RefreshStash;
  readonly #rotated: RotatedTokens;

  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
    private readonly conns: ConnectionStore,
    private readonly client: TokenClient,
  ) {
    this.#o = withDefaults(d.options);
    this.#lock = new RedisLock(d.redis);
    this.#stash = new RefreshStash(d.redis, d.keyring, this.#o.stashTtlMs);
    this.#rotated = new RotatedTokens(d, conns, this.#stash, this.#o);
  }

  /** A usable token for `userId` at `providerSlug`, or why there is none. */
  async accessTokenFor(
    orgId: string,
    userId: string,
    providerSlug: string,
    opts: AccessTokenOptions = {},
  ): Promise<TokenResult> {
    const p = await this.providers.get(orgId, providerSlug, opts.configSeen);
    if (!p) return { kind: 'unknown_provider', providerSlug };
    const row = await this.conns.find(orgId, userId, p.id);
    // A held grant is not usable until its user confirms it in chat.
    if (!row || row.status === 'revoked' || row.status === 'held' || !row.accessTokenSealed)
      return { kind: 'missing', providerId: p.id, providerSlug };
    if (row.status === 'needs_reauth') return this.#needsReauth(p, row);
    try {
      const got =
        opts.forceRefresh || !this.#fresh(row)
          ? await this.#refreshSingleFlight(p, row, opts.forceRefresh ?? false)
          : row;
      const r = 'kind' in got ? got : this.#ok(p, got);
      if (r.kind !== 'ok') return r;
      const missing = (opts.requiredScopes ?? []).filter((s) => !r.scopes.includes(s));
      if (missing.length)
        return {
          kind: 'insufficient_scope',
          providerId: p.id,
          providerSlug,
          connectionId: r.connectionId,
          missingScopes: missing,
        };
      return r;
    } catch (err) {
      // A grant sealed for another owner (or altered) is never used: it behaves like a dead grant.
      // Caught where the token is opened anyway (to use or to refresh it), so a good grant is decrypted once.
      if (!(err instanceof SealedValueMismatch)) throw err;
      this.conns.reportUnreadable(row, err);
      const dead = await this.#markDead(p, row, { cause: 'sealed_value_mismatch' });
      return dead.kind === 'needs_reauth' ? { ...dead, reason: 'sealed_value_mismatch' } : dead;
    }
  }

  /**
   * Keep-alive: refreshes an idle grant through the same single flight as a call's refresh (same
   * lock, same rotation safety), so a call racing it still yields one refresh: whichever comes
   * second finds the row rewritten and uses it.
   */
  async keepAlive(p: ProviderRow, row: ConnectionRow): Promise<TokenResult> {
    try {
      const got = await this.#refreshSingleFlight(p, row, true);
      return 'kind' in got ? got : this.#ok(p, got);
    } catch (err) {
      if (!(err instanceof SealedValueMismatch)) throw err;
      this.conns.reportUnreadable(row, err);
      return await this.#markDead(p, row, { cause: 'sealed_value_mismatch' });
    }
  }

  /**
   * Fresh while more than the freshness margin is left. The margin is `min(refreshSkewMs,
   * refreshSkewFraction × lifetime)`, the lifetime counted from when the token was stored
   * (`updated_at`), so a token that lives 2 s is not stale the moment it arrives.
   */
  #fresh(row: ConnectionRow): boolean {
    if (row.expiresAt === null) return true;
    const lifetime = Math.max(0, row.expiresAt - row.updatedAt);
    return row.expiresAt - Date.now() > Math.min(this.#o.refreshSkewMs, lifetime * this.#o.refreshSkewFraction);
  }

  #ok(p: ProviderRow, row: ConnectionRow): TokenResult {
    return {
      kind: 'ok',
      token: this.conns.open(row, 'access')!,
      connectionId: row.id,
      providerId: p.id,
      providerSlug: p.slug,
      vendorAccount: row.vendorLogin,
      scopes: row.scopes,
      expiresAt: row.expiresAt,
    };
  }

  #needsReauth(p: ProviderRow, row: ConnectionRow): TokenResult {
    return { kind: 'needs_reauth', providerId: p.id, providerSlug: p.slug, connectionId: row.id };
  }

  /** The row after another writer's change, as a result, or undefined while nothing changed. */
  async #settled(p: ProviderRow, seen: ConnectionRow): Promise<ConnectionRow | TokenResult | undefined> {
    const now = await this.conns.byId(seen.id);
    if (!now) return { kind: 'missing', providerId: p.id, providerSlug: p.slug };
    if (now.version === seen.version) return undefined;
    if (now.status === 'needs_reauth') return this.#needsReauth(p, now);
    if (now.status !== 'active') return { kind: 'missing', providerId: p.id, providerSlug: p.slug };
    return now;
  }

  async #refreshSingleFlight(
    p: ProviderRow,
    seen: ConnectionRow,
    force: boolean,
  ): Promise<ConnectionRow | TokenResult> {
    const key = `onbehalf:oauth:refresh:${seen.id}`;
    const deadline = Date.now() + this.#o.lockWaitMs;
    while (Date.now() < deadline) {
      let held: HeldLock | null;
      try {
        held = await this.#lock.hold(key, this.#o.lockTtlMs);
      } catch (err) {
        // Without the lock there is no single flight: do not refresh, report the outage.
        this.d.log.warn({ provider: p.slug, err: (err as Error).message }, 'refresh lock unavailable');
        return { kind: 'unavailable', providerSlug: p.slug, cause: 'lock_down' };
      }
      if (held) {
        try {
          const r = await this.#underLock(p, seen, force, held);
          // Lost the lock before sending: someone else holds it now; wait for them like any waiter.
          if (r !== 'lost') return r;
        } catch (err) {
          if (err instanceof SealedValueMismatch) throw err; // a grant that does not open is dead, not unavailable
          this.d.log.warn(
            { provider: p.slug, connectionId: seen.id, err: (err as Error).message },
            'token refresh failed',
          );
          return { kind: 'unavailable', providerSlug: p.slug, cause: 'refresh_error' };
        } finally {
          await held.release().catch(() => undefined);
        }
      }
      await sleep(this.#o.pollMs);
      const changed = await this.#settled(p, seen);
      if (changed && ('kind' in changed || this.#fresh(changed))) return changed;
    }
    return { kind: 'unavailable', providerSlug: p.slug, cause: 'lock_timeout' };
  }

  async #underLock(
    p: ProviderRow,
    seen: ConnectionRow,
    force: boolean,
    held: HeldLock,
  ): Promise<ConnectionRow | TokenResult | 'lost'> {
    // Re-check after taking the lock: another process may have refreshed meanwhile.
    const changed = await this.#settled(p, seen);
    if (changed && ('kind' in changed || this.#fresh(changed))) return changed;
    let current = changed ?? (await this.conns.byId(seen.id));
    if (!current) return { kind: 'missing', providerId: p.id, providerSlug: p.slug };
    // A rotation whose storage failed: the provider already replaced the stored refresh token, so
    // store the stashed set first and never send the old one again.
    const stashed = await this.#stash.get(current);
    if (stashed && stashed.fromVersion !== current.version) {
      await this.#stash.drop(current.id); // the row was written since (a reconnect): the stash is stale
    } else if (stashed) {
      const stored = await this.#rotated.store(p, current, stashed.tokens, { attempts: 1, fromStash: true });
      if ('kind' in stored) return stored;
      current = stored;
      if (this.#fresh(current)) return current;
    }
    if (!force && this.#fresh(current)) return current;
    return this.#refresh(p, current, held);
  }

  /** One refresh under the lock: retries transient failures, turns invalid_grant into needs_reauth. */
  async #refresh(p: ProviderRow, row: ConnectionRow, held: HeldLock): Promise<ConnectionRow | TokenResult | 'lost'> {
    const refreshToken = this.conns.open(row, 'refresh');
    if (!refreshToken) {
      // Nothing to refresh with: a non-expiring token is still usable; an expired one needs a new grant.
      if (row.expiresAt === null || row.expiresAt > Date.now()) return row;
      return await this.#markDead(p, row, { cause: 'no_refresh_token' });
    }
    let failure: { cause: 'provider_down' | 'provider_refused'; detail: string } | undefined;
    for (let attempt = 0; attempt < this.#o.refreshAttempts; attempt++) {
      if (attempt > 0) await sleep(this.#o.backoffMs * 2 ** (attempt - 1));
      // Fence: the refresh token is sent only by the lock's current owner (the check also extends it).
      if (!(await held.confirm().catch(() => false))) {
        this.d.log.warn(
          { provider: p.slug, connectionId: row.id },
          'refresh lock lost before sending the refresh token; not sending it',
        );
        return 'lost';
      }
      const r = await this.client.refresh(p, refreshToken);
      if (r.kind === 'ok') {
        this.d.metrics?.oauthEvents.inc({ event: 'refresh', result: 'ok' });
        return this.#rotated.store(p, row, r.tokens, { attempts: this.#o.writeAttempts, fromStash: false });
      }
      if (r.kind === 'invalid_grant') {
        // Another process may have rotated the refresh token just before us: re-read first.
        const changed = await this.#settled(p, row);
        if (changed) return changed;
        this.d.metrics?.oauthEvents.inc({ event: 'refresh', result: 'invalid_grant' });
        return await this.#markDead(p, row, { cause: 'invalid_grant', detail: r.error });
      }
      failure = { cause: r.kind === 'transient' ? 'provider_down' : 'provider_refused', detail: failureCode(r) };
      this.d.log.warn(
        { provider: p.slug, connectionId: row.id, attempt: attempt + 1, ...failure },
        'token refresh failed',
      );
      if (r.kind === 'rejected') break;
    }
    this.d.metrics?.oauthEvents.inc({ event: 'refresh', result: 'unavailable' });
    await this.d.audit.write({
      orgId: row.orgId,
      category: 'connection',
      action: 'refresh_failed',
      onBehalfOfUserId: row.userId,
      connectionIds: [row.id],
      vendorAccount: row.vendorLogin,
      outcome: 'unavailable',
      detail: { provider: p.slug, ...failure },
    });
    return { kind: 'unavailable', providerSlug: p.slug, ...(failure ?? { cause: 'provider_down' }) };
  }

  /** `cause`: the provider answered invalid_grant (`detail`), an expired token has no refresh token, or the grant does not open. */
  async #markDead(
    p: ProviderRow,
    row: ConnectionRow,
    why: { cause: DeadCause; detail?: string },
  ): Promise<TokenResult> {
    if (!(await this.conns.markNeedsReauth(row))) {
      const changed = await this.#settled(p, row);
      if (changed && 'kind' in changed) return changed;
      if (changed) return this.#ok(p, changed);
    }
    await this.d.audit.write({
      orgId: row.orgId,
      category: 'connection',
      action: 'needs_reauth',
      onBehalfOfUserId: row.userId,
      connectionIds: [row.id],
      vendorAccount: row.vendorLogin,
      outcome: 'needs_reauth',
      detail: { provider: p.slug, ...why },
    });
    this.d.log.info({ provider: p.slug, connectionId: row.id, ...why }, 'connection needs re-authorisation');
    await this.#serviceDied(p, row);
    return this.#needsReauth(p, row);
  }

  /** A dead service grant is the admins' to fix: they are told (once: only the marking writer gets here). */
  async #serviceDied(p: ProviderRow, row: ConnectionRow): Promise<void> {
    const serviceName = await new ServiceIdentities(this.d).nameOf(row.userId);
    if (!serviceName) return;
    await runHook(this.d.hooks, this.d.log, 'serviceGrantDead', {
      orgId: row.orgId,
      userId: row.userId,
      serviceName,
      providerId: p.id,
      providerSlug: p.slug,
      connectionId: row.id,
      vendorLogin: row.vendorLogin,
    });
  }
}
