// The database a test's store code runs on: an in-memory SQLite store, or under `npm run test:pg`
// (ONBEHALF_TEST_DB=postgres) a fresh Postgres database copied from the run's migrated template.
import { inject } from 'vitest';
import postgres from 'postgres';
import { openDb, sqliteStore, type Store } from '../../src/db/index.js';
import { pgStore } from '../../src/db/pg/index.js';

/** Which dialect this run's stores use. */
export const testDialect: 'sqlite' | 'postgres' =
  process.env['ONBEHALF_TEST_DB'] === 'postgres' ? 'postgres' : 'sqlite';

let made = 0;

/** A new empty database copied from the migrated template; returns its URL. */
export async function testPostgresUrl(): Promise<string> {
  const template = new URL(inject('pgTemplateUrl'));
  const name = `t_${process.pid}_${++made}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(new URL('/postgres', template).href, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database ${name} template ${template.pathname.slice(1)}`);
  } finally {
    await admin.end();
  }
  return new URL(`/${name}`, template).href;
}

/** A fresh, migrated, empty store. Close it in afterEach/afterAll (`store.close()`). */
export async function testStore(): Promise<Store> {
  if (testDialect === 'postgres') return pgStore(await testPostgresUrl(), { max: 4 });
  return sqliteStore(openDb(':memory:'));
}
