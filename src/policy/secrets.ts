import { and, eq } from 'drizzle-orm';
import { SealError, Secret, type Keyring } from '../crypto/index.js';
import { newId, type Queries, type Store } from '../db/index.js';
import type { secrets } from '../db/schema/index.js';
import { sealedTables } from '../db/sealed.js';

export type SecretScope = 'org' | 'team' | 'user';

/** AAD of a secret: the row, its org, scope, scope id and name. */
const ctx = (row: Pick<typeof secrets.$inferSelect, 'id' | 'orgId' | 'scope' | 'scopeId' | 'name'>) =>
  sealedTables.secrets.ctx(row, 'valueSealed');

/** One secret's row by its owner and name. */
function byName(q: Queries, orgId: string, scope: SecretScope, scopeId: string, name: string) {
  const s = q.t.secrets;
  return q.first(
    q.db
      .select()
      .from(s)
      .where(and(eq(s.orgId, orgId), eq(s.scope, scope), eq(s.scopeId, scopeId), eq(s.name, name))),
  );
}

/** Named sealed values at org, team or user scope. Values go in and come out only as `Secret`. */
export class SecretStore {
  constructor(
    private readonly store: Store,
    private readonly keyring: Keyring,
  ) {}

  /**
   * Stores (or replaces) a value, sealed with the row id and its owner (org, scope, scope id, name)
   * in the AAD. False when a team scope's team is gone (deleted meanwhile): nothing is stored.
   */
  async set(orgId: string, scope: SecretScope, scopeId: string, name: string, value: Secret): Promise<boolean> {
    return this.store.tx(async (tx) => {
      const { secrets, teams } = tx.t;
      // Advisory lock on the name: of two first stores of one name, the second finds the first's row and replaces it.
      await tx.lock(`secret:${orgId}:${scope}:${scopeId}:${name}`);
      // Row lock on the team: a team deletion (Teams.delete locks it too) waits, then deletes this secret.
      if (scope === 'team') {
        const team = tx.forUpdate(
          tx.db
            .select({ id: teams.id })
            .from(teams)
            .where(and(eq(teams.orgId, orgId), eq(teams.id, scopeId))),
        );
        if (!(await tx.first(team))) return false;
      }
      const now = Date.now();
      const existing = await byName(tx, orgId, scope, scopeId, name);
      const id = existing?.id ?? newId();
      const valueSealed = this.keyring.seal(value.reveal(), ctx({ id, orgId, scope, scopeId, name }));
      if (existing)
        await tx.changes(tx.db.update(secrets).set({ valueSealed, updatedAt: now }).where(eq(secrets.id, id)));
      else
        await tx.changes(
          tx.db.insert(secrets).values({ id, orgId, scope, scopeId, name, valueSealed, updatedAt: now }),
        );
      return true;
    });
  }

  /** The value, `missing`, or `unreadable` when it does not open for this owner (moved or altered). */
  async read(
    orgId: string,
    scope: SecretScope,
    scopeId: string,
    name: string,
  ): Promise<{ kind: 'ok'; value: Secret } | { kind: 'missing' } | { kind: 'unreadable'; error: SealError }> {
    const row = await byName(this.store, orgId, scope, scopeId, name);
    if (!row) return { kind: 'missing' };
    try {
      return { kind: 'ok', value: new Secret(this.keyring.open(row.valueSealed, ctx(row))) };
    } catch (err) {
      if (err instanceof SealError) return { kind: 'unreadable', error: err };
      throw err;
    }
  }

  /** The value, or undefined when no such secret exists; throws `SealError` when it does not open. */
  async get(orgId: string, scope: SecretScope, scopeId: string, name: string): Promise<Secret | undefined> {
    const row = await byName(this.store, orgId, scope, scopeId, name);
    return row ? new Secret(this.keyring.open(row.valueSealed, ctx(row))) : undefined;
  }

  /** Names and owners only; never values. */
  async list(
    orgId: string,
    scope?: SecretScope,
  ): Promise<{ scope: SecretScope; scopeId: string; name: string; updatedAt: number }[]> {
    const s = this.store.t.secrets;
    const where = scope ? and(eq(s.orgId, orgId), eq(s.scope, scope)) : eq(s.orgId, orgId);
    return this.store.rows(
      this.store.db
        .select({ scope: s.scope, scopeId: s.scopeId, name: s.name, updatedAt: s.updatedAt })
        .from(s)
        .where(where),
    );
  }

  /** Deletes one secret; false when there was none. */
  async delete(orgId: string, scope: SecretScope, scopeId: string, name: string): Promise<boolean> {
    const s = this.store.t.secrets;
    const where = and(eq(s.orgId, orgId), eq(s.scope, scope), eq(s.scopeId, scopeId), eq(s.name, name));
    return (await this.store.changes(this.store.db.delete(s).where(where))) > 0;
  }
}
