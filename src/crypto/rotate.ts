import type { Db } from '../db/index.js';
import { sealedColumns } from '../db/schema.js';
import { Keyring } from './keyring.js';

/** What `keys rotate` did, per sealed column. */
export interface RotateReport {
  keyId: string;
  columns: { table: string; column: string; resealed: number; alreadyCurrent: number }[];
}

/**
 * Re-seals every sealed value under the keyring's first key, in one transaction.
 * A value that does not open aborts the whole rotation (fail closed, nothing half-done).
 */
export function rotateKeys(db: Db, keyring: Keyring): RotateReport {
  const sqlite = db.$client;
  const report: RotateReport = { keyId: keyring.currentKeyId, columns: [] };
  sqlite.transaction(() => {
    for (const { table, column } of sealedColumns) {
      const rows = sqlite.prepare(`select id, ${column} as v from ${table} where ${column} is not null`).all() as { id: string; v: string }[];
      const update = sqlite.prepare(`update ${table} set ${column} = ? where id = ?`);
      let resealed = 0;
      let alreadyCurrent = 0;
      for (const row of rows) {
        if (Keyring.keyIdOf(row.v) === keyring.currentKeyId) {
          alreadyCurrent++;
          continue;
        }
        const ctx = { table, column, rowId: row.id };
        update.run(keyring.seal(keyring.open(row.v, ctx), ctx), row.id);
        resealed++;
      }
      report.columns.push({ table, column, resealed, alreadyCurrent });
    }
  })();
  return report;
}
