// Postgres: the connection and the migrations. The driver is postgres.js (`postgres`), not `pg`:
// it is one package with no dependencies and its own types (pg needs pg-pool, pg-protocol,
// pg-types, pgpass and @types/pg), speaks the extended protocol with prepared statements by
// default, and drizzle supports it fully (driver, migrator, transactions with savepoints).
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { CodedError } from '../../errors.js';
import {
  appVersion,
  knownSchemaVersion,
  refuseNewerSchema,
  SCHEMA_VERSION_ROW,
  type RecordedVersion,
} from '../version.js';
import { pgTables } from './schema.js';
import { PgStore, type Store } from '../store.js';

export { pgTables };

/** The committed Postgres migrations, resolved from the package root. */
export const pgMigrationsFolder = fileURLToPath(new URL('../../../drizzle/postgres', import.meta.url));

/** Arbitrary constant of the advisory lock that serialises migration runs of several replicas. */
const MIGRATION_LOCK = 7_142_003_191;

/** The Postgres database cannot be reached or used (refused, unknown database, bad credentials). */
export class PostgresUnavailableError extends CodedError {
  readonly code = 'postgres_unavailable';
}

/** `host:port/database` of a URL: what a message may show (never the user's password). */
export function describePostgresUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
}

/** A driver or server error as one line naming the database; coded errors pass through. */
function unavailable(url: string, err: unknown): Error {
  if (err instanceof CodedError) return err;
  // drizzle wraps the driver's error as the `cause` of a "Failed query" error.
  let e = err as { code?: string; message?: string; name?: string; cause?: unknown };
  while (e.cause && e.name !== 'PostgresError' && !e.code) e = e.cause as typeof e;
  // Server errors (PostgresError) carry the server's own message; network errors only a code.
  const why = e.name === 'PostgresError' ? e.message : (e.code ?? e.message ?? String(err));
  return new PostgresUnavailableError(
    `cannot use the Postgres database ${describePostgresUrl(url)} of DATABASE_URL: ${why}`,
  );
}

export type PgDb = PostgresJsDatabase<typeof pgTables> & { $client: postgres.Sql };

/** Options for `openPostgres`. */
export interface PgOptions {
  /** Connections in the pool. Default 10. */
  max?: number;
}

/** Opens a pool to `url` (nothing is sent until the first query). Close it with `db.$client.end()`. */
export function openPostgres(url: string, opts: PgOptions = {}): PgDb {
  // `onnotice` off: "relation already exists, skipping" from the migrator is not news. Every
  // connection starts at read committed whatever the server's default, so a transaction at that
  // level (PgStore.tx) need not send its own SET TRANSACTION: one round trip fewer each.
  const client = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => undefined,
    connection: { application_name: 'onbehalf', default_transaction_isolation: 'read committed' },
  });
  return drizzle(client, { schema: pgTables }) as PgDb;
}

async function recordedVersion(db: PgDb): Promise<RecordedVersion | undefined> {
  const rows = await db.execute<{ version: string | number; app_version: string }>(
    sql`select version, app_version from schema_version where id = ${SCHEMA_VERSION_ROW}`,
  );
  const row = rows[0];
  return row ? { version: Number(row.version), appVersion: row.app_version } : undefined;
}

async function tableExists(db: PgDb, name: string): Promise<boolean> {
  const rows = await db.execute(sql`select to_regclass(${name}) is not null as present`);
  return rows[0]?.['present'] === true;
}

async function appliedCount(db: PgDb): Promise<number> {
  if (!(await tableExists(db, 'drizzle.__drizzle_migrations'))) return 0;
  const rows = await db.execute<{ n: string }>(sql`select count(*) as n from drizzle.__drizzle_migrations`);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Applies pending Postgres migrations and records the schema version; refuses (SchemaTooNewError)
 * a database a newer onbehalf migrated. Several replicas starting at once take turns on an
 * advisory lock, so each migration runs once. Returns how many were applied.
 */
export async function migratePostgres(url: string): Promise<number> {
  // One connection: the advisory lock is held by a session, and the migrator must run in it.
  const db = openPostgres(url, { max: 1 });
  try {
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK})`);
    const known = knownSchemaVersion(pgMigrationsFolder);
    const recorded = (await tableExists(db, 'public.schema_version')) ? await recordedVersion(db) : undefined;
    refuseNewerSchema(recorded, known);
    const before = await appliedCount(db);
    await migrate(db, { migrationsFolder: pgMigrationsFolder });
    if (recorded?.version !== known) {
      const row = { id: SCHEMA_VERSION_ROW, version: known, appVersion, migratedAt: Date.now() };
      await db
        .insert(pgTables.schemaVersion)
        .values(row)
        .onConflictDoUpdate({ target: pgTables.schemaVersion.id, set: row });
    }
    return (await appliedCount(db)) - before;
  } catch (err) {
    throw unavailable(url, err);
  } finally {
    await db.$client.end();
  }
}

/** The store (db/store.ts) over a pool to `url`; migrate first (`migratePostgres`). */
export const pgStore = (url: string, opts: PgOptions = {}): Store => new PgStore(openPostgres(url, opts), pgTables);
