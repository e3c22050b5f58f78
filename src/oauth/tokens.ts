import { setTimeout as sleep } from 'node:timers/promises';
import { defaults, type OAuthDeps } from './deps.js';
import { RedisLock } from './lock.js';
import type { ProviderRow, ProviderStore } from './providers.js';
import type { ConnectionRow, ConnectionStore } from './store.js';
import type { TokenClient } from './tokenclient.js';
import type { AccessTokenOptions, TokenResult } from './types.js';

/**
 * `accessTokenFor`: a valid token of this user, refreshed in time, once per connection at a time
 * across processes (Redis lock + version column). Never another user's token.
 */
export class TokenService {
  readonly #o: Required<typeof defaults>;
  readonly #lock: RedisLock;

  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
    private readonly conns: ConnectionStore,
    private readonly client: TokenClient,
  ) {
    this.#o = { ...defaults, ...d.options };
    this.#lock = new RedisLock(d.redis);
  }

  /** A usable token for `userId` at `providerSlug`, or why there is none. */
  async accessTokenFor(orgId: string, userId: string, providerSlug: string, opts: AccessTokenOptions = {}): Promise<TokenResult> {
    const p = this.providers.get(orgId, providerSlug);
    if (!p) return { kind: 'unknown_provider', providerSlug };
    let row = this.conns.find(orgId, userId, p.id);
    // A held grant is not usable until its user confirms it in chat.
    if (!row || row.status === 'revoked' || row.status === 'held' || !row.accessTokenSealed) return { kind: 'missing', providerId: p.id, providerSlug };
    if (row.status === 'needs_reauth') return this.#needsReauth(p, row);
    if (opts.forceRefresh || !this.#fresh(row)) {
      const r = await this.#refreshSingleFlight(p, row, opts.forceRefresh ?? false);
      if ('kind' in r) return r;
      row = r;
    }
    const missing = (opts.requiredScopes ?? []).filter((s) => !row.scopes.includes(s));
    if (missing.length) return { kind: 'insufficient_scope', providerId: p.id, providerSlug, connectionId: row.id, missingScopes: missing };
    return this.#ok(p, row);
  }

  #fresh(row: ConnectionRow): boolean {
    return row.expiresAt === null || row.expiresAt - Date.now() > this.#o.refreshSkewMs;
  }

  #ok(p: ProviderRow, row: ConnectionRow): TokenResult {
    return {
      kind: 'ok', token: this.conns.open(row, 'access')!, connectionId: row.id, providerId: p.id, providerSlug: p.slug,
      vendorAccount: row.vendorLogin, scopes: row.scopes, expiresAt: row.expiresAt,
    };
  }

  #needsReauth(p: ProviderRow, row: ConnectionRow): TokenResult {
    return { kind: 'needs_reauth', providerId: p.id, providerSlug: p.slug, connectionId: row.id };
  }

  /** The row after another writer's change, as a result, or undefined while nothing changed. */
  #settled(p: ProviderRow, seen: ConnectionRow): ConnectionRow | TokenResult | undefined {
    const now = this.conns.byId(seen.id);
    if (!now) return { kind: 'missing', providerId: p.id, providerSlug: p.slug };
    if (now.version === seen.version) return undefined;
    if (now.status === 'needs_reauth') return this.#needsReauth(p, now);
    if (now.status !== 'active') return { kind: 'missing', providerId: p.id, providerSlug: p.slug };
    return now;
  }

  async #refreshSingleFlight(p: ProviderRow, seen: ConnectionRow, force: boolean): Promise<ConnectionRow | TokenResult> {
    const key = `onbehalf:oauth:refresh:${seen.id}`;
    const deadline = Date.now() + this.#o.lockWaitMs;
    while (Date.now() < deadline) {
      let owner: string | null;
      try {
        owner = await this.#lock.acquire(key, this.#o.lockTtlMs);
      } catch (err) {
        // Without the lock there is no single flight: do not refresh, report the outage.
        this.d.log.warn({ provider: p.slug, err: (err as Error).message }, 'refresh lock unavailable');
        return { kind: 'unavailable', providerSlug: p.slug, reason: 'the refresh lock (Redis) is unavailable' };
      }
      if (owner) {
        try {
          // Re-check after taking the lock: another process may have refreshed meanwhile.
          const changed = this.#settled(p, seen);
          if (changed && ('kind' in changed || this.#fresh(changed))) return changed;
          const current = changed ?? this.conns.byId(seen.id)!;
          if (!force && this.#fresh(current)) return current;
          return await this.#refresh(p, current);
        } finally {
          await this.#lock.release(key, owner).catch(() => undefined);
        }
      }
      await sleep(this.#o.pollMs);
      const changed = this.#settled(p, seen);
      if (changed && ('kind' in changed || this.#fresh(changed))) return changed;
    }
    return { kind: 'unavailable', providerSlug: p.slug, reason: 'another refresh of this connection did not finish in time' };
  }

  /** One refresh under the lock: retries transient failures, turns invalid_grant into needs_reauth. */
  async #refresh(p: ProviderRow, row: ConnectionRow): Promise<ConnectionRow | TokenResult> {
    const refreshToken = this.conns.open(row, 'refresh');
    if (!refreshToken) {
      // Nothing to refresh with: a non-expiring token is still usable; an expired one needs a new grant.
      if (row.expiresAt === null || row.expiresAt > Date.now()) return row;
      return this.#markDead(p, row, 'the token expired and the provider issued no refresh token');
    }
    let reason = '';
    for (let attempt = 0; attempt < this.#o.refreshAttempts; attempt++) {
      if (attempt > 0) await sleep(this.#o.backoffMs * 2 ** (attempt - 1));
      const r = await this.client.refresh(p, refreshToken);
      if (r.kind === 'ok') {
        this.d.metrics?.oauthEvents.inc({ event: 'refresh', result: 'ok' });
        if (this.conns.writeRefreshed(row, r.tokens)) return this.conns.byId(row.id)!;
        // A stale writer loses: someone else stored a newer token; use theirs.
        const now = this.conns.byId(row.id);
        return now && now.status === 'active' ? now : { kind: 'missing', providerId: p.id, providerSlug: p.slug };
      }
      if (r.kind === 'invalid_grant') {
        // Another process may have rotated the refresh token just before us: re-read first.
        const changed = this.#settled(p, row);
        if (changed) return changed;
        this.d.metrics?.oauthEvents.inc({ event: 'refresh', result: 'invalid_grant' });
        return this.#markDead(p, row, `the provider answered ${r.error}`);
      }
      reason = r.kind === 'transient' ? r.reason : `the provider refused the refresh (${r.error})`;
      this.d.log.warn({ provider: p.slug, connectionId: row.id, attempt: attempt + 1, reason }, 'token refresh failed');
      if (r.kind === 'rejected') break;
    }
    this.d.metrics?.oauthEvents.inc({ event: 'refresh', result: 'unavailable' });
    this.d.audit.write({ orgId: row.orgId, category: 'connection', action: 'refresh_failed', onBehalfOfUserId: row.userId, connectionIds: [row.id], vendorAccount: row.vendorLogin, outcome: 'unavailable', detail: { provider: p.slug, reason } });
    return { kind: 'unavailable', providerSlug: p.slug, reason };
  }

  #markDead(p: ProviderRow, row: ConnectionRow, reason: string): TokenResult {
    if (!this.conns.markNeedsReauth(row)) {
      const changed = this.#settled(p, row);
      if (changed && 'kind' in changed) return changed;
      if (changed) return this.#ok(p, changed);
    }
    this.d.audit.write({ orgId: row.orgId, category: 'connection', action: 'needs_reauth', onBehalfOfUserId: row.userId, connectionIds: [row.id], vendorAccount: row.vendorLogin, outcome: 'needs_reauth', detail: { provider: p.slug, reason } });
    this.d.log.info({ provider: p.slug, connectionId: row.id, reason }, 'connection needs re-authorisation');
    this.d.events.emit('connection.needs_reauth', { orgId: row.orgId, userId: row.userId, providerId: p.id, providerSlug: p.slug, connectionId: row.id, reason });
    return this.#needsReauth(p, row);
  }
}
