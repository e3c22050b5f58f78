// A store of each dialect for one test file: migrated SQLite in memory and a private Postgres
// server, started before the file's tests and stopped after them.
import { afterAll, beforeAll } from 'vitest';
import type { Store } from '../../src/db/index.js';
import { migratePostgres, pgStore } from '../../src/db/pg/index.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';
import { testStore } from './store.js';

export type Dialect = 'sqlite' | 'postgres';

/** Registers the file's beforeAll/afterAll; the stores are filled in once beforeAll ran. */
export function storesOfBothDialects(): Record<Dialect, Store> {
  let pg: TestPostgres | undefined;
  const stores = {} as Record<Dialect, Store>;
  beforeAll(async () => {
    pg = await startTestPostgres();
    await migratePostgres(pg.url);
    stores.postgres = pgStore(pg.url);
    stores.sqlite = await testStore();
  }, 60_000);
  afterAll(async () => {
    for (const s of Object.values(stores)) await s?.close();
    await pg?.stop();
  });
  return stores;
}
