import { and, eq, inArray, isNotNull, ne, notInArray, sql } from 'drizzle-orm';
import { SealedValueMismatch, Secret } from '../crypto/index.js';
import { newId, prepared, type Queries } from '../db/index.js';
import type { connectedAccounts } from '../db/schema/index.js';
import { sealedTables } from '../db/sealed.js';
import type { OAuthDeps } from './deps.js';
import type { TokenSet, VendorIdentity } from './tokenclient.js';

/** A connected-account row as stored (tokens sealed). */
export type ConnectionRow = typeof connectedAccounts.$inferSelect;

/** AAD of a grant's token: the row, its org, user and provider. */
const ctx = (
  row: Pick<ConnectionRow, 'id' | 'orgId' | 'userId' | 'providerId'>,
  column: 'accessTokenSealed' | 'refreshTokenSealed' | 'idTokenSealed',
) => sealedTables.connectedAccounts.ctx(row, column);

/** A user's grant at a provider, read for every call that uses one (db/prepared.ts). */
const grantOf = prepared('connections.find', ({ db, t }) => {
  const c = t.connectedAccounts;
  return db
    .select()
    .from(c)
    .where(
      and(
        eq(c.orgId, sql.placeholder('orgId')),
        eq(c.userId, sql.placeholder('userId')),
        eq(c.providerId, sql.placeholder('providerId')),
      ),
    );
});

/** Sealed storage of connected accounts; every token write bumps `version`. */
export class ConnectionStore {
  constructor(private readonly d: Pick<OAuthDeps, 'store' | 'keyring' | 'log'>) {}

  get #t() {
    return this.d.store.t.connectedAccounts;
  }

  /** The user's connection to a provider, or undefined. */
  find(orgId: string, userId: string, providerId: string): Promise<ConnectionRow | undefined> {
    return this.#find(this.d.store, orgId, userId, providerId);
  }

  #find(q: Queries, orgId: string, userId: string, providerId: string): Promise<ConnectionRow | undefined> {
    return q.first(grantOf, { orgId, userId, providerId });
  }

  /** Re-reads a row by id. */
  byId(id: string): Promise<ConnectionRow | undefined> {
    const s = this.d.store;
    return s.first(s.db.select().from(this.#t).where(eq(this.#t.id, id)));
  }

  /** Unseals the access or refresh token of a row. */
  open(row: ConnectionRow, which: 'access' | 'refresh'): Secret | undefined {
    const sealed = which === 'access' ? row.accessTokenSealed : row.refreshTokenSealed;
    if (!sealed) return undefined;
    return new Secret(
      this.d.keyring.open(sealed, ctx(row, which === 'access' ? 'accessTokenSealed' : 'refreshTokenSealed')),
    );
  }

  /** Unseals the OIDC ID token stored with a grant, if the provider issued one. */
  openIdToken(row: ConnectionRow): Secret | undefined {
    return row.idTokenSealed
      ? new Secret(this.d.keyring.open(row.idTokenSealed, ctx(row, 'idTokenSealed')))
      : undefined;
  }

  /** Logs, once per dead grant (it is then marked), that a stored grant does not open for its owner. */
  reportUnreadable(row: ConnectionRow, err: SealedValueMismatch): void {
    this.d.log.warn(
      { sealError: err.code, connectionId: row.id, userId: row.userId, providerId: row.providerId, err: err.message },
      'a stored grant does not open for its owner; it needs reconnecting',
    );
  }

  /** Stores a new grant from a connect (insert, or replace the user's previous grant). */
  saveGrant(
    orgId: string,
    userId: string,
    providerId: string,
    t: TokenSet,
    scopes: string[],
    who: VendorIdentity,
    status: 'active' | 'held' = 'active',
  ): Promise<ConnectionRow> {
    return this.d.store.tx(async (tx) => {
      // Advisory lock on (user, provider): two connects at once, with no row yet, do not both insert.
      await tx.lock(`connected-account:${userId}:${providerId}`);
      const c = tx.t.connectedAccounts;
      const existing = await this.#find(tx, orgId, userId, providerId);
      const id = existing?.id ?? newId();
      const owner = { id, orgId, userId, providerId };
      const values = {
        status,
        accessTokenSealed: this.d.keyring.seal(t.accessToken.reveal(), ctx(owner, 'accessTokenSealed')),
        refreshTokenSealed: t.refreshToken
          ? this.d.keyring.seal(t.refreshToken.reveal(), ctx(owner, 'refreshTokenSealed'))
          : null,
        idTokenSealed: t.idToken ? this.d.keyring.seal(t.idToken, ctx(owner, 'idTokenSealed')) : null,
        expiresAt: t.expiresAt,
        scopes,
        vendorAccountId: who.id,
        vendorLogin: who.login,
        updatedAt: Date.now(),
      };
      const [row] = existing
        ? await tx.rows(
            tx.db
              .update(c)
              .set({ ...values, version: sql`${c.version} + 1` })
              .where(eq(c.id, id))
              .returning(),
          )
        : await tx.rows(
            tx.db
              .insert(c)
              .values({ id, orgId, userId, providerId, ...values })
              .returning(),
          );
      return row!;
    });
  }

  /**
   * Writes refreshed tokens only if nobody wrote since `row` was read (version check), in one
   * statement, so access and rotated refresh token land together. A response without a refresh
   * token keeps the old one. Returns false when a newer write won.
   */
  async writeRefreshed(row: ConnectionRow, t: TokenSet): Promise<boolean> {
    const s = this.d.store;
    // Conditional update on `version`: a rotated refresh token is written once; a stale writer changes nothing.
    const changed = await s.changes(
      s.db
        .update(this.#t)
        .set({
          accessTokenSealed: this.d.keyring.seal(t.accessToken.reveal(), ctx(row, 'accessTokenSealed')),
          ...(t.refreshToken
            ? { refreshTokenSealed: this.d.keyring.seal(t.refreshToken.reveal(), ctx(row, 'refreshTokenSealed')) }
            : {}),
          // OIDC Core 12.2: a refresh may bring a new ID token; without one the old one stays.
          ...(t.idToken ? { idTokenSealed: this.d.keyring.seal(t.idToken, ctx(row, 'idTokenSealed')) } : {}),
          expiresAt: t.expiresAt,
          ...(t.scopes ? { scopes: t.scopes } : {}),
          version: row.version + 1,
          updatedAt: Date.now(),
        })
        .where(and(eq(this.#t.id, row.id), eq(this.#t.version, row.version))),
    );
    return changed === 1;
  }

  /** Marks a grant dead unless a newer write happened; returns whether it marked. */
  async markNeedsReauth(row: ConnectionRow): Promise<boolean> {
    const s = this.d.store;
    // Conditional update on `version`: a grant refreshed meanwhile is not marked dead.
    const changed = await s.changes(
      s.db
        .update(this.#t)
        .set({ status: 'needs_reauth', version: row.version + 1, updatedAt: Date.now() })
        .where(and(eq(this.#t.id, row.id), eq(this.#t.version, row.version))),
    );
    return changed === 1;
  }

  /** Another person's usable (active or expired, not held) grant acting as this vendor account, if any (service grants do not count). */
  async ownerOfVendorAccount(
    orgId: string,
    providerId: string,
    who: VendorIdentity,
    exceptUserId: string,
  ): Promise<ConnectionRow | undefined> {
    if (!who.id && !who.login) return undefined;
    const s = this.d.store;
    const c = this.#t;
    const same = who.id ? eq(c.vendorAccountId, who.id) : eq(c.vendorLogin, who.login!);
    const u = s.t.users;
    const services = s.db
      .select({ id: u.id })
      .from(u)
      .where(and(eq(u.orgId, orgId), isNotNull(u.serviceName)));
    return s.first(
      s.db
        .select()
        .from(c)
        .where(
          and(
            eq(c.orgId, orgId),
            eq(c.providerId, providerId),
            ne(c.userId, exceptUserId),
            inArray(c.status, ['active', 'needs_reauth']),
            notInArray(c.userId, services),
            same,
          ),
        )
        .limit(1),
    );
  }

  /** Turns a held grant active; false when it is not held (any more). */
  async release(id: string): Promise<boolean> {
    const s = this.d.store;
    const c = this.#t;
    // Conditional update on `status = 'held'`: of two confirmations of one held grant, one releases it.
    const changed = await s.changes(
      s.db
        .update(c)
        .set({ status: 'active', version: sql`${c.version} + 1`, updatedAt: Date.now() })
        .where(and(eq(c.id, id), eq(c.status, 'held'))),
    );
    return changed === 1;
  }

  /** Deletes a connection row and with it the sealed tokens. */
  async delete(id: string): Promise<void> {
    const s = this.d.store;
    await s.changes(s.db.delete(this.#t).where(eq(this.#t.id, id)));
  }

  /** Every connection of a user. */
  listFor(orgId: string, userId: string): Promise<ConnectionRow[]> {
    const s = this.d.store;
    const c = this.#t;
    return s.rows(
      s.db
        .select()
        .from(c)
        .where(and(eq(c.orgId, orgId), eq(c.userId, userId))),
    );
  }
}
