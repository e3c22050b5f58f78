import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema/index.js';
import type { Db } from './store.js';
import {
  appVersion,
  knownSchemaVersion,
  refuseNewerSchema,
  SCHEMA_VERSION_ROW,
  type RecordedVersion,
} from './version.js';

export { schema };

/** Options for `openDb`. */
export interface DbOptions {
  /** How long a writer waits for another's lock before SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Apply pending migrations on open. Default true. */
  migrate?: boolean;
}

/** The committed migrations, resolved from the package root so any working directory works. */
export const migrationsFolder = fileURLToPath(new URL('../../drizzle/sqlite', import.meta.url));

/** Opens the SQLite file with WAL, foreign keys and a busy timeout, and applies migrations. */
export function openDb(file: string, opts: DbOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
  sqlite.pragma('synchronous = NORMAL');
  const db = drizzle(sqlite, { schema }) as Db;
  try {
    if (opts.migrate ?? true) runMigrations(db);
    else refuseNewerSchema(recordedVersion(db), knownSchemaVersion(migrationsFolder));
  } catch (err) {
    sqlite.close();
    throw err;
  }
  return db;
}

/** The row of `schema_version`, or undefined before the migration that creates it. */
function recordedVersion(db: Db): RecordedVersion | undefined {
  const exists = db.$client.prepare(`select 1 from sqlite_master where name = 'schema_version'`).get();
  if (!exists) return undefined;
  const row = db.$client
    .prepare('select version, app_version as appVersion from schema_version where id = ?')
    .get(SCHEMA_VERSION_ROW) as RecordedVersion | undefined;
  return row;
}

/** Applies pending migrations; a second run changes nothing. Returns how many were applied. */
export function runMigrations(db: Db): number {
  const count = () => {
    const exists = db.$client.prepare(`select 1 from sqlite_master where name = '__drizzle_migrations'`).get();
    return exists ? (db.$client.prepare('select count(*) as n from __drizzle_migrations').get() as { n: number }).n : 0;
  };
  const known = knownSchemaVersion(migrationsFolder);
  const recorded = recordedVersion(db);
  refuseNewerSchema(recorded, known);
  const before = count();
  migrate(db, { migrationsFolder });
  if (recorded?.version === known) return count() - before;
  // The onbehalf that brought the database to this version is the one a refusal names.
  const row = { id: SCHEMA_VERSION_ROW, version: known, appVersion, migratedAt: Date.now() };
  db.insert(schema.schemaVersion).values(row).onConflictDoUpdate({ target: schema.schemaVersion.id, set: row }).run();
  return count() - before;
}

/** A new random row id. */
export const newId = (): string => crypto.randomUUID();
export {
  PgStore,
  type Db,
  type Queries,
  type RowsQuery,
  type Store,
  type Tables,
  type Tx,
  type TxOptions,
  type WriteQuery,
} from './store.js';
export { SqliteStore, sqliteStore } from './sqlite-store.js';
export {
  prepared,
  preparedSql,
  preparedWrite,
  encoded,
  slot,
  PreparedRows,
  PreparedWrite,
  type Builder,
  type Values,
} from './prepared.js';
export { configCache, type ConfigCache, type ConfigSeen } from './config-cache.js';
