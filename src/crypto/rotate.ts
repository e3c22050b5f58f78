import { eq } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { allSealedTables, type SealedTable } from '../db/sealed.js';
import { Keyring } from './keyring.js';

/** What `keys rotate` did, per sealed column. */
export interface RotateReport {
  keyId: string;
  columns: { table: string; column: string; resealed: number; alreadyCurrent: number }[];
}

/** Each row of a sealed table with its owner fields, for re-sealing. */
export function sealedRows(db: Db, t: SealedTable): Record<string, unknown>[] {
  return db.select().from(t.table).all() as Record<string, unknown>[];
}

/** Writes one re-sealed column of one row. */
export function writeSealed(db: Db, t: SealedTable, rowId: string, column: string, value: string): void {
  const table = t.table as unknown as Record<string, never>;
  db.update(t.table)
    .set({ [column]: value } as never)
    .where(eq(table['id']!, rowId))
    .run();
}

/**
 * Re-seals every sealed value under the keyring's first key (owner-bound AAD), in one transaction.
 * A value that does not open aborts the whole rotation (fail closed, nothing half-done).
 */
export function rotateKeys(db: Db, keyring: Keyring): RotateReport {
  const report: RotateReport = { keyId: keyring.currentKeyId, columns: [] };
  db.$client.transaction(() => {
    for (const t of allSealedTables) {
      const rows = sealedRows(db, t);
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
          writeSealed(db, t, ctx.rowId, column, keyring.seal(keyring.open(v, ctx), ctx));
          resealed++;
        }
        report.columns.push({ table: t.name, column: t.sqlName(column), resealed, alreadyCurrent });
      }
    }
  })();
  return report;
}
