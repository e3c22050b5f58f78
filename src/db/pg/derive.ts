// The Postgres tables, derived from the SQLite schema in ../schema/, which stays the one description
// of every table. Deriving (rather than writing a second schema by hand) means a column, index or
// foreign key added to ../schema/ exists on Postgres the moment it is defined; a kind of column or
// default this file cannot translate stops the program at load instead of drifting silently.
// test/db/dialects.test.ts proves the two migrated databases have the same shape.
import { getTableColumns, is, SQL, sql, StringChunk } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  foreignKey,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  type AnyPgColumn,
  type PgColumn,
  type PgTable,
  type PgTableWithColumns,
} from 'drizzle-orm/pg-core';
import { getTableConfig, SQLiteTable, type SQLiteColumn } from 'drizzle-orm/sqlite-core';

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });

/**
 * SQL defaults of the SQLite schema and their Postgres spelling. Times are epoch milliseconds in
 * both; `clock_timestamp()` (not `now()`, the transaction's start) matches SQLite's per-statement clock.
 */
const defaults: Record<string, string> = {
  "(unixepoch('subsec') * 1000)": '(floor(extract(epoch from clock_timestamp()) * 1000))::bigint',
  "'[]'": "'[]'::jsonb",
  "'{}'": "'{}'::jsonb",
};

/** The text of a plain `sql\`…\`` default (no parameters), or undefined for anything else. */
function sqlText(value: SQL): string | undefined {
  const chunks = value.queryChunks;
  if (!chunks.every((c) => is(c, StringChunk))) return undefined;
  return chunks.map((c) => (c as StringChunk).value.join('')).join('');
}

/**
 * One column's Postgres type: text → text (JSON mode → jsonb), integer → bigint (epoch-ms times
 * overflow int4; read as JS numbers), integer boolean mode → boolean, real → double precision,
 * blob → bytea.
 */
function pgType(c: SQLiteColumn): unknown {
  const name = c.name;
  switch (c.columnType) {
    case 'SQLiteText':
      return c.enumValues?.length ? text(name, { enum: c.enumValues as [string, ...string[]] }) : text(name);
    case 'SQLiteTextJson':
      return jsonb(name);
    case 'SQLiteInteger':
    case 'SQLiteTimestamp':
      return bigint(name, { mode: 'number' });
    case 'SQLiteBoolean':
      return boolean(name);
    case 'SQLiteReal':
      return doublePrecision(name);
    case 'SQLiteBlobBuffer':
    case 'SQLiteBlobJson':
      return bytea(name);
    default:
      throw new Error(`${name}: no Postgres type for the SQLite column type ${c.columnType}`);
  }
}

type Builder = ReturnType<typeof text> & ReturnType<typeof bigint>;

/** The Postgres builder of one SQLite column: type, not null, default, primary key. */
function pgColumn(table: string, c: SQLiteColumn): Builder {
  let b = pgType(c) as Builder;
  if (c.primary) b = b.primaryKey() as Builder;
  if (c.notNull && !c.primary) b = b.notNull() as Builder;
  if (c.defaultFn || c.onUpdateFn)
    throw new Error(`${table}.${c.name}: a JS-side default is not translated; use a SQL default`);
  if (c.hasDefault && c.default !== undefined) {
    if (is(c.default, SQL)) {
      const text = sqlText(c.default);
      const translated = text === undefined ? undefined : defaults[text];
      if (!translated) throw new Error(`${table}.${c.name}: no Postgres spelling for the default ${text ?? '(sql)'}`);
      b = b.default(sql.raw(translated)) as Builder;
    } else {
      b = b.default(c.default as never) as Builder;
    }
  }
  return b;
}

type Cols = Record<string, AnyPgColumn>;

/** The Postgres table of one SQLite table; `byName` resolves the tables its foreign keys name (lazily). */
function pgTableOf(source: SQLiteTable, byName: Map<string, PgTable>): PgTable {
  const config = getTableConfig(source);
  // Keyed by the same property keys as the SQLite table, so one query builder call fits both.
  const columns = Object.entries(getTableColumns(source)) as [string, SQLiteColumn][];
  const keyOf = new Map(columns.map(([k, c]) => [c.name, k]));
  const builders = Object.fromEntries(columns.map(([k, c]) => [k, pgColumn(config.name, c)]));
  const pick = (t: Cols, cols: { name: string }[]) =>
    cols.map((c) => t[keyOf.get(c.name)!]!) as [AnyPgColumn, ...AnyPgColumn[]];
  return pgTable(config.name, builders, (t: Cols) => [
    ...config.indexes.map(({ config: ix }) => {
      const make = ix.unique ? uniqueIndex(ix.name) : index(ix.name);
      const built = make.on(...pick(t, ix.columns as SQLiteColumn[]));
      // A partial index's predicate is carried over as written: plain SQL naming columns by name.
      return ix.where ? built.where(ix.where) : built;
    }),
    ...config.foreignKeys.map((fk) => {
      const ref = fk.reference();
      const target = getTableColumns(byName.get(getTableConfig(ref.foreignTable).name)!) as Cols;
      const targetCols = ref.foreignColumns.map((c) => Object.values(target).find((x) => x.name === c.name)!);
      let built = foreignKey({
        name: fk.getName(),
        columns: pick(t, ref.columns),
        foreignColumns: targetCols as [AnyPgColumn, ...AnyPgColumn[]],
      });
      if (fk.onDelete) built = built.onDelete(fk.onDelete);
      if (fk.onUpdate) built = built.onUpdate(fk.onUpdate);
      return built;
    }),
    ...config.primaryKeys.map((pk) => primaryKey({ name: pk.getName(), columns: pick(t, pk.columns) })),
    // SQLite has no unique constraint apart from its index: drizzle-kit writes both kinds of
    // `unique` as a unique index, so Postgres gets the same unique index, under the same name.
    ...config.columns
      .filter((c) => c.isUnique)
      .map((c) => uniqueIndex(c.uniqueName ?? `${config.name}_${c.name}_unique`).on(...pick(t, [c]))),
    ...config.uniqueConstraints.map((u) => uniqueIndex(u.getName()).on(...pick(t, u.columns))),
    ...config.checks.map((c) => {
      throw new Error(`${config.name}.${c.name}: a check constraint is not translated`);
    }),
  ]);
}

/** A SQLite column's type parameters as a Postgres column's: the same name, data and nullability. */
type PgColumnOf<C extends SQLiteColumn> = PgColumn<{
  name: C['_']['name'];
  tableName: C['_']['tableName'];
  dataType: C['_']['dataType'];
  columnType: string;
  data: C['_']['data'];
  driverParam: unknown;
  notNull: C['_']['notNull'];
  hasDefault: C['_']['hasDefault'];
  isPrimaryKey: C['_']['isPrimaryKey'];
  isAutoincrement: false;
  hasRuntimeDefault: C['_']['hasRuntimeDefault'];
  enumValues: C['_']['enumValues'];
  baseColumn: never;
  identity: undefined;
  generated: undefined;
}>;

/** The Postgres table derived from SQLite table `T`, typed column by column as `T` is. */
export type PgTableOf<T extends SQLiteTable> = PgTableWithColumns<{
  name: T['_']['name'];
  schema: undefined;
  dialect: 'pg';
  columns: { [K in keyof T['_']['columns']]: PgColumnOf<T['_']['columns'][K]> };
}>;

/** The Postgres table of every SQLite table among `schema`'s exports, under the same export names. */
export function derivePgTables<S extends Record<string, unknown>>(
  schema: S,
): { [K in keyof S as S[K] extends SQLiteTable ? K : never]: S[K] extends SQLiteTable ? PgTableOf<S[K]> : never } {
  const byName = new Map<string, PgTable>();
  const out: Record<string, PgTable> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!is(value, SQLiteTable)) continue;
    const table = pgTableOf(value, byName);
    byName.set(getTableConfig(value).name, table);
    out[key] = table;
  }
  return out as never;
}
