import { and, eq, sql } from 'drizzle-orm';
import { SealError, Secret, type Keyring } from '../crypto/index.js';
import { newId, type Db } from '../db/index.js';
import { secrets } from '../db/schema/index.js';
import { sealedTables } from '../db/sealed.js';

export type SecretScope = 'org' | 'team' | 'user';

/** AAD of a secret: the row, its org, scope, scope id and name. */
const ctx = (row: Pick<typeof secrets.$inferSelect, 'id' | 'orgId' | 'scope' | 'scopeId' | 'name'>) =>
  sealedTables.secrets.ctx(row, 'valueSealed');

/** Named sealed values at org, team or user scope. Values go in and come out only as `Secret`. */
export class SecretStore {
  readonly #byName;

  constructor(
    private readonly db: Db,
    private readonly keyring: Keyring,
  ) {
    const ph = sql.placeholder;
    this.#byName = db
      .select()
      .from(secrets)
      .where(
        and(
          eq(secrets.orgId, ph('orgId')),
          eq(secrets.scope, ph('scope')),
          eq(secrets.scopeId, ph('scopeId')),
          eq(secrets.name, ph('name')),
        ),
      )
      .prepare();
  }

  /** Stores (or replaces) a value, sealed with the row id and its owner (org, scope, scope id, name) in the AAD. */
  set(orgId: string, scope: SecretScope, scopeId: string, name: string, value: Secret): void {
    const now = Date.now();
    const existing = this.#row(orgId, scope, scopeId, name);
    const id = existing?.id ?? newId();
    const valueSealed = this.keyring.seal(value.reveal(), ctx({ id, orgId, scope, scopeId, name }));
    if (existing) this.db.update(secrets).set({ valueSealed, updatedAt: now }).where(eq(secrets.id, id)).run();
    else this.db.insert(secrets).values({ id, orgId, scope, scopeId, name, valueSealed, updatedAt: now }).run();
  }

  /** The value, `missing`, or `unreadable` when it does not open for this owner (moved or altered). */
  read(
    orgId: string,
    scope: SecretScope,
    scopeId: string,
    name: string,
  ): { kind: 'ok'; value: Secret } | { kind: 'missing' } | { kind: 'unreadable'; error: SealError } {
    const row = this.#row(orgId, scope, scopeId, name);
    if (!row) return { kind: 'missing' };
    try {
      return { kind: 'ok', value: new Secret(this.keyring.open(row.valueSealed, ctx(row))) };
    } catch (err) {
      if (err instanceof SealError) return { kind: 'unreadable', error: err };
      throw err;
    }
  }

  /** The value, or undefined when no such secret exists; throws `SealError` when it does not open. */
  get(orgId: string, scope: SecretScope, scopeId: string, name: string): Secret | undefined {
    const row = this.#row(orgId, scope, scopeId, name);
    return row ? new Secret(this.keyring.open(row.valueSealed, ctx(row))) : undefined;
  }

  /** Names and owners only; never values. */
  list(orgId: string, scope?: SecretScope): { scope: SecretScope; scopeId: string; name: string; updatedAt: number }[] {
    const where = scope ? and(eq(secrets.orgId, orgId), eq(secrets.scope, scope)) : eq(secrets.orgId, orgId);
    return this.db
      .select({ scope: secrets.scope, scopeId: secrets.scopeId, name: secrets.name, updatedAt: secrets.updatedAt })
      .from(secrets)
      .where(where)
      .all();
  }

  /** Deletes one secret; false when there was none. */
  delete(orgId: string, scope: SecretScope, scopeId: string, name: string): boolean {
    const row = this.#row(orgId, scope, scopeId, name);
    if (!row) return false;
    this.db.delete(secrets).where(eq(secrets.id, row.id)).run();
    return true;
  }

  #row(orgId: string, scope: SecretScope, scopeId: string, name: string) {
    return this.#byName.get({ orgId, scope, scopeId, name });
  }
}
