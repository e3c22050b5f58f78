// The registry of every sealed column and the owner its AAD binds, read from the column
// definitions themselves (`sealed(…)` in ./schema/columns.ts). Seal sites, `keys rotate` and the
// start-up upgrade all build their context from here, so table, column and owner fields cannot
// drift apart, and a new sealed column is rotated and upgraded the moment it is defined.
import { getTableColumns, getTableName, is } from 'drizzle-orm';
import { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { SealContext } from '../crypto/keyring.js';
import { sealedOwner } from './schema/columns.js';
import * as schema from './schema/index.js';
import { connectedAccounts, oauthProviders, oauthStates, secrets, workspaces } from './schema/index.js';

type Row<T extends SQLiteTable> = T['$inferSelect'];
type Key<T extends SQLiteTable> = Extract<keyof Row<T>, string>;

/** One table's sealed columns, with the context builder for its rows. */
export interface SealedTable<T extends SQLiteTable = SQLiteTable> {
  table: T;
  /** SQL table name. */
  name: string;
  /** Property keys of the sealed columns. */
  columns: readonly Key<T>[];
  /** The AAD context of `column` in `row`: the row id and the owner fields its definition names. */
  ctx(row: Pick<Row<T>, 'id'> & Partial<Row<T>>, column: Key<T>): SealContext;
  /** SQL name of a column given its property key. */
  sqlName(key: Key<T>): string;
}

/** The sealed columns of `table` as their definitions declare them (none: an empty list). */
function sealedTable<T extends SQLiteTable>(table: T): SealedTable<T> {
  const defined = getTableColumns(table);
  const name = getTableName(table);
  const sqlName = (k: string) => {
    const column = defined[k];
    if (!column) throw new Error(`${name} has no column ${k}`);
    return column.name;
  };
  const owners = new Map<string, readonly string[]>();
  for (const [key, column] of Object.entries(defined)) {
    const owner = sealedOwner(column);
    if (owner) owners.set(key, owner);
  }
  return {
    table,
    name,
    columns: [...owners.keys()] as Key<T>[],
    sqlName,
    ctx(row, column) {
      const owner = owners.get(column);
      if (!owner) throw new Error(`${name}.${column} is not a sealed column`);
      const r = row as Record<string, unknown>;
      return {
        table: name,
        column: sqlName(column),
        rowId: String(r['id']),
        owner: Object.fromEntries(
          owner.map((o) => {
            // A bug guard: an owner field left out would bind the value to an empty owner.
            if (r[o] === undefined) throw new Error(`sealing ${name}.${column} needs the row's ${o}`);
            return [sqlName(o), String(r[o] ?? '')];
          }),
        ),
      };
    },
  };
}

/** The typed view of each table holding sealed columns, for the code that seals and opens them. */
export const sealedTables = {
  connectedAccounts: sealedTable(connectedAccounts),
  oauthStates: sealedTable(oauthStates),
  oauthProviders: sealedTable(oauthProviders),
  secrets: sealedTable(secrets),
  workspaces: sealedTable(workspaces),
};

/** Every table with a sealed column, found in the schema, by SQL table name: for `keys rotate` and the upgrade. */
export const allSealedTables: readonly SealedTable[] = (Object.values(schema) as unknown[])
  .filter((t): t is SQLiteTable => is(t, SQLiteTable))
  .map((t) => sealedTable(t) as unknown as SealedTable)
  .filter((t) => t.columns.length > 0)
  .sort((a, b) => a.name.localeCompare(b.name));

/** Every sealed column as SQL names: table, column. */
export const sealedColumns = allSealedTables.flatMap((t) =>
  t.columns.map((c) => ({ table: t.name, column: t.sqlName(c) })),
);
