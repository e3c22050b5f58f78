// The types store code is written against (see store.ts).
import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type * as schema from './schema/index.js';

/** The SQLite drizzle database; also the type of the query builder on Postgres. */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

/** The tables, as store code names them (`store.t.links`, never an import of db/schema). */
export type Tables = typeof schema;

/** A drizzle query that yields rows (a select, or a write with `.returning()`). */
export interface RowsQuery<T> {
  all(values?: Record<string, unknown>): T[];
}
/** A drizzle write without `.returning()`. */
export interface WriteQuery {
  run(values?: Record<string, unknown>): { changes: number };
}
