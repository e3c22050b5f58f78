// The database a test's store code runs on: an in-memory SQLite store, migrated.
import { openDb, sqliteStore, type Store } from '../../src/db/index.js';

/** A fresh, migrated, empty store. Close it in afterEach/afterAll (`store.close()`). */
export async function testStore(): Promise<Store> {
  return sqliteStore(openDb(':memory:'));
}
