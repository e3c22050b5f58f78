import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { SealedValueMismatch, Secret } from '../crypto/index.js';
import { newId } from '../db/index.js';
import { connectedAccounts } from '../db/schema/index.js';
import { sealedTables } from '../db/sealed.js';
import type { OAuthDeps } from './deps.js';
import type { TokenSet, VendorIdentity } from './tokenclient.js';

/** A connected-account row as stored (tokens sealed). */
export type ConnectionRow = typeof connectedAccounts.$inferSelect;

/** AAD of a grant's token: the row, its org, user and provider. */
const ctx = (
  row: Pick<ConnectionRow, 'id' | 'orgId' | 'userId' | 'providerId'>,
  column: 'accessTokenSealed' | 'refreshTokenSealed',
) => sealedTables.connectedAccounts.ctx(row, column);

/** Sealed storage of connected accounts; every token write bumps `version`. */
export class ConnectionStore {
  readonly #find;
  readonly #byId;

  constructor(private readonly d: OAuthDeps) {
    const ph = sql.placeholder;
    this.#find = d.db
      .select()
      .from(connectedAccounts)
      .where(
        and(
          eq(connectedAccounts.orgId, ph('orgId')),
          eq(connectedAccounts.userId, ph('userId')),
          eq(connectedAccounts.providerId, ph('providerId')),
        ),
      )
      .prepare();
    this.#byId = d.db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, ph('id')))
      .prepare();
  }

  /** The user's connection to a provider, or undefined. */
  find(orgId: string, userId: string, providerId: string): ConnectionRow | undefined {
    return this.#find.get({ orgId, userId, providerId });
  }

  /** Re-reads a row by id. */
  byId(id: string): ConnectionRow | undefined {
    return this.#byId.get({ id });
  }

  /** Unseals the access or refresh token of a row. */
  open(row: ConnectionRow, which: 'access' | 'refresh'): Secret | undefined {
    const sealed = which === 'access' ? row.accessTokenSealed : row.refreshTokenSealed;
    if (!sealed) return undefined;
    return new Secret(
      this.d.keyring.open(sealed, ctx(row, which === 'access' ? 'accessTokenSealed' : 'refreshTokenSealed')),
    );
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
  ): ConnectionRow {
    const existing = this.find(orgId, userId, providerId);
    const id = existing?.id ?? newId();
    const owner = { id, orgId, userId, providerId };
    const values = {
      status,
      accessTokenSealed: this.d.keyring.seal(t.accessToken.reveal(), ctx(owner, 'accessTokenSealed')),
      refreshTokenSealed: t.refreshToken
        ? this.d.keyring.seal(t.refreshToken.reveal(), ctx(owner, 'refreshTokenSealed'))
        : null,
      expiresAt: t.expiresAt,
      scopes,
      vendorAccountId: who.id,
      vendorLogin: who.login,
      updatedAt: Date.now(),
    };
    if (existing) {
      this.d.db
        .update(connectedAccounts)
        .set({ ...values, version: sql`${connectedAccounts.version} + 1` })
        .where(eq(connectedAccounts.id, id))
        .run();
    } else {
      this.d.db
        .insert(connectedAccounts)
        .values({ id, orgId, userId, providerId, ...values })
        .run();
    }
    return this.byId(id)!;
  }

  /**
   * Writes refreshed tokens only if nobody wrote since `row` was read (version check), in one
   * statement, so access and rotated refresh token land together. A response without a refresh
   * token keeps the old one. Returns false when a newer write won.
   */
  writeRefreshed(row: ConnectionRow, t: TokenSet): boolean {
    const r = this.d.db
      .update(connectedAccounts)
      .set({
        accessTokenSealed: this.d.keyring.seal(t.accessToken.reveal(), ctx(row, 'accessTokenSealed')),
        ...(t.refreshToken
          ? { refreshTokenSealed: this.d.keyring.seal(t.refreshToken.reveal(), ctx(row, 'refreshTokenSealed')) }
          : {}),
        expiresAt: t.expiresAt,
        ...(t.scopes ? { scopes: t.scopes } : {}),
        version: row.version + 1,
        updatedAt: Date.now(),
      })
      .where(and(eq(connectedAccounts.id, row.id), eq(connectedAccounts.version, row.version)))
      .run();
    return r.changes === 1;
  }

  /** Marks a grant dead unless a newer write happened; returns whether it marked. */
  markNeedsReauth(row: ConnectionRow): boolean {
    const r = this.d.db
      .update(connectedAccounts)
      .set({ status: 'needs_reauth', version: row.version + 1, updatedAt: Date.now() })
      .where(and(eq(connectedAccounts.id, row.id), eq(connectedAccounts.version, row.version)))
      .run();
    return r.changes === 1;
  }

  /** Another user's usable (active or expired, not held) grant acting as this vendor account, if any. */
  ownerOfVendorAccount(
    orgId: string,
    providerId: string,
    who: VendorIdentity,
    exceptUserId: string,
  ): ConnectionRow | undefined {
    if (!who.id && !who.login) return undefined;
    const same = who.id ? eq(connectedAccounts.vendorAccountId, who.id) : eq(connectedAccounts.vendorLogin, who.login!);
    return this.d.db
      .select()
      .from(connectedAccounts)
      .where(
        and(
          eq(connectedAccounts.orgId, orgId),
          eq(connectedAccounts.providerId, providerId),
          ne(connectedAccounts.userId, exceptUserId),
          inArray(connectedAccounts.status, ['active', 'needs_reauth']),
          same,
        ),
      )
      .get();
  }

  /** Turns a held grant active; false when it is not held (any more). */
  release(id: string): boolean {
    return (
      this.d.db
        .update(connectedAccounts)
        .set({ status: 'active', version: sql`${connectedAccounts.version} + 1`, updatedAt: Date.now() })
        .where(and(eq(connectedAccounts.id, id), eq(connectedAccounts.status, 'held')))
        .run().changes === 1
    );
  }

  /** Deletes a connection row and with it the sealed tokens. */
  delete(id: string): void {
    this.d.db.delete(connectedAccounts).where(eq(connectedAccounts.id, id)).run();
  }

  /** Every connection of a user. */
  listFor(orgId: string, userId: string): ConnectionRow[] {
    return this.d.db
      .select()
      .from(connectedAccounts)
      .where(and(eq(connectedAccounts.orgId, orgId), eq(connectedAccounts.userId, userId)))
      .all();
  }
}
