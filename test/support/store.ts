// The one way a test gets a store: `testStore()` for the run's dialect (in-memory SQLite, or under
// `npm run test:pg` (ONBEHALF_TEST_DB=postgres) a fresh Postgres database copied from the run's
// migrated template), `testStore(dialect)` for a given one, and `storesOfBothDialects()` for a file
// that runs each test on both. Outside `npm run test:pg` a Postgres store comes from a private server
// this file starts (with its own migrated template), stopped by `storesOfBothDialects`'s afterAll.
import { afterAll, beforeAll, inject } from 'vitest';
import postgres from 'postgres';
import { openDb, sqliteStore, type Store } from '../../src/db/index.js';
import { migratePostgres, pgStore } from '../../src/db/pg/index.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';

export type Dialect = 'sqlite' | 'postgres';

/** Which dialect this run's stores use. */
export const testDialect: Dialect = process.env['ONBEHALF_TEST_DB'] === 'postgres' ? 'postgres' : 'sqlite';

let made = 0;
/** This file's private server and its template, when the run provides none. */
let own: Promise<{ pg: TestPostgres; template: string }> | undefined;

async function templateUrl(): Promise<string> {
  const provided = inject('pgTemplateUrl') as string | undefined;
  if (provided) return provided;
  own ??= (async () => {
    const pg = await startTestPostgres();
    const template = await pg.createDatabase('onbehalf_template');
    await migratePostgres(template);
    return { pg, template };
  })();
  return (await own).template;
}

/** A new empty database copied from the migrated template; returns its URL. */
export async function testPostgresUrl(): Promise<string> {
  const template = new URL(await templateUrl());
  const name = `t_${process.pid}_${++made}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(new URL('/postgres', template).href, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database ${name} template ${template.pathname.slice(1)}`);
  } finally {
    await admin.end();
  }
  return new URL(`/${name}`, template).href;
}

/** A fresh, migrated, empty store (default: the run's dialect). Close it in afterEach/afterAll (`store.close()`). */
export async function testStore(dialect: Dialect = testDialect, opts: { max?: number } = {}): Promise<Store> {
  if (dialect === 'postgres') return pgStore(await testPostgresUrl(), { max: opts.max ?? 4 });
  return sqliteStore(openDb(':memory:'));
}

/**
 * A store of each dialect for one test file, made in beforeAll and closed in afterAll (with this
 * file's private Postgres server, if it started one). `max`: the Postgres pool size (default 4).
 */
export function storesOfBothDialects(opts: { max?: number } = {}): Record<Dialect, Store> {
  const stores = {} as Record<Dialect, Store>;
  beforeAll(async () => {
    stores.postgres = await testStore('postgres', opts);
    stores.sqlite = await testStore('sqlite');
  }, 60_000);
  afterAll(async () => {
    for (const s of Object.values(stores)) await s?.close();
    const started = await own;
    own = undefined;
    await started?.pg.stop();
  });
  return stores;
}
