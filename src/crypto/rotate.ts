import { eq, getTableName } from 'drizzle-orm';
import type { Queries, Store, Tables } from '../db/index.js';
import { allSealedTables, type SealedTable } from '../db/sealed.js';
import { Keyring } from './keyring.js';

/** What `keys rotate` did, per sealed column. */
export interface RotateReport {
  keyId: string;
  columns: { table: string; column: string; resealed: number; alreadyCurrent: number }[];
}

/** The advisory lock `keys rotate` and the start-up upgrade take: one re-seal at a time across processes. */
export const SEALS_LOCK = 'seals';

/** The store's table of a sealed table (on Postgres its derived twin, found by SQL name). */
function tableOf(q: Queries, t: SealedTable): Tables['secrets'] {
  const found = Object.values(q.t).find((x) => {
    try {
      return getTableName(x as never) === t.name;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`the store has no table ${t.name}`);
  return found as unknown as Tables['secrets'];
}

/** Each row of a sealed table with its owner fields, for re-sealing. */
export async function sealedRows(q: Queries, t: SealedTable): Promise<Record<string, unknown>[]> {
  return (await q.rows(q.db.select().from(tableOf(q, t)))) as Record<string, unknown>[];
}

/** Writes one re-sealed column of one row. */
export async function writeSealed(q: Queries, t: SealedTable, rowId: string, column: string, value: string) {
  const table = tableOf(q, t);
  await q.changes(
    q.db
      .update(table)
      .set({ [column]: value } as never)
      .where(eq(table.id, rowId)),
  );
}

/**
 * Re-seals every sealed value under the keyring's first key (owner-bound AAD), in one transaction.
 * A value that does not open aborts the whole rotation (fail closed, nothing half-done).
 */
export async function rotateKeys(store: Store, keyring: Keyring): Promise<RotateReport> {
  return store.tx(async (tx) => {
    // Advisory lock: a rotation and a replica's start-up upgrade never re-seal the same rows at once.
    await tx.lock(SEALS_LOCK);
    const report: RotateReport = { keyId: keyring.currentKeyId, columns: [] };
    for (const t of allSealedTables) {
      const rows = await sealedRows(tx, t);
      for (const column of t.columns) {
        let resealed = 0;
        let alreadyCurrent = 0;
        for (const row of rows) {
          const v = row[column];
          if (typeof v !== 'string') continue;
          if (Keyring.keyIdOf(v) === keyring.currentKeyId && Keyring.formatOf(v) === 'v2') {
            alreadyCurrent++;
            continue;
          }
          const ctx = t.ctx(row as never, column);
          await writeSealed(tx, t, ctx.rowId, column, keyring.seal(keyring.open(v, ctx), ctx));
          resealed++;
        }
        report.columns.push({ table: t.name, column: t.sqlName(column), resealed, alreadyCurrent });
      }
    }
    return report;
  });
}
