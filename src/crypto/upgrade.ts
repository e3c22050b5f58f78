import { eq } from 'drizzle-orm';
import type { Store } from '../db/index.js';
import { allSealedTables } from '../db/sealed.js';
import { SealError } from './errors.js';
import { Keyring } from './keyring.js';
import { SEALS_LOCK, sealedRows, writeSealed } from './rotate.js';

/** What the start-up upgrade of sealed values did. */
export interface SealUpgradeReport {
  /** False: the data was upgraded before (or is new); nothing was read. */
  ran: boolean;
  /** First-format values re-sealed with the owner-bound AAD. */
  resealed: number;
  /** First-format values left as they were (they will not open): where, and why. */
  leftUnopened: { table: string; column: string; rowId: string; reason: 'does_not_open' | 'mixed_formats' }[];
}

const MARKER = 'seal_format';

/**
 * Once per database, right after the SQL migrations: re-seals every value of the first format
 * (row-only AAD) with the owner-bound AAD of the row as it stands, in one transaction, and records
 * that it did. Later runs change nothing, and a first-format value found afterwards never opens:
 * otherwise anyone able to write the database could plant an old value under a new owner and
 * have the next start-up bless it. For the same reason, if owner-bound values already exist
 * without the record, first-format values are left unopened. An unknown key id aborts (nothing
 * changes) so the operator can add the key and start again.
 */
export async function upgradeSeals(store: Store, keyring: Keyring): Promise<SealUpgradeReport> {
  const report: SealUpgradeReport = { ran: false, resealed: 0, leftUnopened: [] };
  await store.tx(async (tx) => {
    // Two replicas starting at once: the advisory lock makes the second wait for the first's
    // commit, and it then finds the record (read inside the transaction, after the lock) and changes nothing.
    await tx.lock(SEALS_LOCK);
    const { storageMeta } = tx.t;
    if (await tx.first(tx.db.select().from(storageMeta).where(eq(storageMeta.key, MARKER)))) return;
    report.ran = true;
    const legacy: { t: (typeof allSealedTables)[number]; row: Record<string, unknown>; column: string; v: string }[] =
      [];
    let current = 0;
    for (const t of allSealedTables) {
      for (const row of await sealedRows(tx, t)) {
        for (const column of t.columns) {
          const v = row[column];
          if (typeof v !== 'string') continue;
          if (Keyring.formatOf(v) === 'v1') legacy.push({ t, row, column, v });
          else current++;
        }
      }
    }
    for (const { t, row, column, v } of legacy) {
      const ctx = t.ctx(row as never, column as never);
      if (current > 0) {
        report.leftUnopened.push({ table: ctx.table, column: ctx.column, rowId: ctx.rowId, reason: 'mixed_formats' });
        continue;
      }
      const kid = Keyring.keyIdOf(v);
      if (kid && !keyring.hasKey(kid))
        throw new SealError(
          `sealed value in ${ctx.table}.${ctx.column} uses key "${kid}", which is not in ONBEHALF_KEYS`,
        );
      let plain: string;
      try {
        plain = keyring.openLegacy(v, ctx);
      } catch (err) {
        if (!(err instanceof SealError)) throw err;
        report.leftUnopened.push({ table: ctx.table, column: ctx.column, rowId: ctx.rowId, reason: 'does_not_open' });
        continue;
      }
      await writeSealed(tx, t, ctx.rowId, column, keyring.seal(plain, ctx));
      report.resealed++;
    }
    await tx.changes(tx.db.insert(storageMeta).values({ key: MARKER, value: 'v2', updatedAt: Date.now() }));
  });
  return report;
}
