// Statements built once and run many times: the hot path's queries (a call's row, its server, its
// user's grant, the audit insert). A handle names a query whose values are `sql.placeholder(name)`;
// `store.rows(handle, values)` (or `first` / `changes`, or a transaction's) runs it. Each store
// compiles a handle the first time it runs it and keeps the result: on SQLite one better-sqlite3
// statement (no drizzle build, no SQL parse per call), on Postgres a drizzle prepared query whose
// text postgres.js prepares once per connection (a named statement). Handles hold no state, so
// they are module constants beside the code that runs them.
import { is, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db, RowsQuery, Tables, WriteQuery } from './types.js';

/** The values of a prepared query's placeholders, by name. */
export type Values = Record<string, unknown>;

/** What a prepared query is built from (a store's or a transaction's builder and tables). */
export interface Builder {
  readonly db: Db;
  readonly t: Tables;
}

/** A query yielding rows, built once per store. */
export class PreparedRows<T> {
  constructor(
    readonly name: string,
    readonly build: (q: Builder) => RowsQuery<T>,
  ) {}
}

/** A write without `.returning()`, built once per store. */
export class PreparedWrite {
  constructor(
    readonly name: string,
    readonly build: (q: Builder) => WriteQuery,
  ) {}
}

/** A select (or a write with `.returning()`) whose values are `sql.placeholder(...)`; `name` is unique per query. */
export const prepared = <T>(name: string, build: (q: Builder) => RowsQuery<T>): PreparedRows<T> =>
  new PreparedRows(name, build);

/** A write whose values are `sql.placeholder(...)`; `name` is unique per query. */
export const preparedWrite = (name: string, build: (q: Builder) => WriteQuery): PreparedWrite =>
  new PreparedWrite(name, build);

/**
 * A statement drizzle's builders cannot say (a data-modifying WITH, a call of a function of ours),
 * built once per store as the others are: its values are `sql.placeholder(name)`, or `encoded(name,
 * column)` where the column's mapping applies. Postgres only. Without it such a statement goes
 * through `execute`, which builds the query again on every call and sends it unnamed (parsed and
 * planned again on the server each time).
 */
export const preparedSql = <T>(name: string, build: (q: Builder) => SQL): PreparedRows<T> =>
  new PreparedRows(name, (q) => {
    // drizzle's own path for a prepared select, given the built query: the session prepares it by name.
    const db = q.db as unknown as {
      dialect?: unknown;
      session?: { prepareQuery(query: unknown, fields: undefined, name: string, arrayMode: boolean): unknown };
    };
    if (!is(db.dialect, PgDialect) || !db.session)
      throw new Error(`preparedSql ${name}: a statement for Postgres only, run on another store`);
    const query = db.dialect.sqlToQuery(build(q));
    return { prepare: (n: string) => db.session!.prepareQuery(query, undefined, n, false) } as unknown as RowsQuery<T>;
  });

/**
 * A placeholder whose value is stored as `column` stores it (its JSON, for a jsonb column), cast to
 * the column's type (a parameter in a SELECT list has none of its own); null stays SQL NULL.
 */
export const encoded = (name: string, column: { getSQLType(): string; mapToDriverValue(v: unknown): unknown }): SQL =>
  sql`${sql.param(sql.placeholder(name), { mapToDriverValue: (v: unknown) => (v === null ? null : column.mapToDriverValue(v)) })}::${sql.raw(column.getSQLType())}`;

/**
 * A placeholder where drizzle's types want a column's value (`.set({ name: slot('name') })`,
 * `.values({ … })`): drizzle encodes the value given at run time with that column's mapping (JSON,
 * booleans), as it would a literal.
 */
export const slot = <T>(name: string): T => sql.placeholder(name) as unknown as T;

/** A drizzle SQLite prepared query, as the store runs it. */
export interface SqliteStatement {
  all(values: Values): unknown[];
  get(values: Values): unknown;
  run(values: Values): { changes: number };
}

/** A drizzle Postgres prepared query: rows, or a result with `count` for a write. */
export interface PgStatement {
  execute(values: Values): Promise<unknown>;
}

/** Compiles a handle with the builder's own `prepare` (drizzle: SQLite takes no name, Postgres one). */
export function compile<S>(p: PreparedRows<unknown> | PreparedWrite, q: Builder): S {
  return (p.build(q) as unknown as { prepare(name: string): S }).prepare(p.name);
}
