import { and, eq } from 'drizzle-orm';
import { newId, type Store } from '../db/index.js';
import type { declaredObjects } from '../db/schema/index.js';

/** What a config file can own. */
export type DeclaredKind = (typeof declaredObjects.$inferSelect)['kind'];
export type DeclaredObject = typeof declaredObjects.$inferSelect;

/** Which config file owns which object of an org: chat leaves those alone, the next apply removes what the file dropped. */
export class DeclaredObjects {
  constructor(private readonly store: Store) {}

  /** The file that owns the object, or undefined for one made in chat. */
  async ownerOf(orgId: string, kind: DeclaredKind, key: string): Promise<string | undefined> {
    const d = this.store.t.declaredObjects;
    const row = await this.store.first(
      this.store.db
        .select({ file: d.file })
        .from(d)
        .where(and(eq(d.orgId, orgId), eq(d.kind, kind), eq(d.key, key))),
    );
    return row?.file;
  }

  /** Every object a file owns in an org (every org when none is given). */
  async list(orgId?: string): Promise<DeclaredObject[]> {
    const d = this.store.t.declaredObjects;
    const q = this.store.db.select().from(d);
    return this.store.rows(orgId ? q.where(eq(d.orgId, orgId)) : q);
  }

  /** Records that `file` owns the object (again: its row, file and detail are replaced). */
  async own(
    o: Pick<DeclaredObject, 'orgId' | 'kind' | 'key' | 'file'> & Partial<Pick<DeclaredObject, 'objectId' | 'detail'>>,
  ): Promise<void> {
    const d = this.store.t.declaredObjects;
    const set = { file: o.file, objectId: o.objectId ?? null, detail: o.detail ?? {} };
    // The unique (org, kind, key) index: a second record of one object updates the first.
    await this.store.changes(
      this.store.db
        .insert(d)
        .values({ id: newId(), orgId: o.orgId, kind: o.kind, key: o.key, ...set })
        .onConflictDoUpdate({ target: [d.orgId, d.kind, d.key], set }),
    );
  }

  /** Forgets the file's ownership of the object (it was removed, or left to chat). */
  async release(orgId: string, kind: DeclaredKind, key: string): Promise<void> {
    const d = this.store.t.declaredObjects;
    await this.store.changes(this.store.db.delete(d).where(and(eq(d.orgId, orgId), eq(d.kind, kind), eq(d.key, key))));
  }
}
