// `store.exclusive(key, body)`: one holder of a key at a time across every process on the database,
// for work that spans many queries and services (the config file's start-up apply), where one
// transaction cannot hold it all.

/** A postgres.js pool, seen through what a reserved connection needs. */
export interface Reservable {
  reserve(): Promise<{ unsafe(query: string, args: string[]): PromiseLike<unknown>; release(): void }>;
}

/**
 * Postgres: a session advisory lock on a connection reserved from the pool for the body's length;
 * the body's own queries use the rest of the pool as usual. A holder that dies ends its session,
 * which frees the lock. PgStore runs it inside LocalLocks, so a process reserves one connection per
 * key, never a pool of waiters.
 */
export async function pgExclusive<T>(pool: Reservable, key: string, body: () => Promise<T>): Promise<T> {
  const conn = await pool.reserve();
  try {
    await conn.unsafe('select pg_advisory_lock(hashtext($1))', [key]);
    try {
      return await body();
    } finally {
      await conn.unsafe('select pg_advisory_unlock(hashtext($1))', [key]);
    }
  } finally {
    conn.release();
  }
}

/** Bodies of one key run in turn within this process (SQLite's whole lock: a database file serves one process). */
export class LocalLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  async exclusive<T>(key: string, body: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const run = before.then(body, body);
    const tail = run.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
