// The SQLite store (see db/store.ts for what every store offers): one better-sqlite3 connection,
// its writes gathered into group commits.
import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type SQL } from 'drizzle-orm';
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import * as schema from './schema/index.js';
import { compile, PreparedRows, PreparedWrite, type SqliteStatement, type Values } from './prepared.js';
import { LocalLocks } from './exclusive.js';
import type { AnyRows, AnyWrite, Store, Tx } from './store.js';
import type { Db } from './types.js';

const inside = new AsyncLocalStorage<object>();
const sqliteDialect = new SQLiteSyncDialect();

/** Raw SQL on SQLite: better-sqlite3 refuses `all()` of a statement without rows (DDL), so those run. */
function sqliteExecute<T>(db: Db, q: SQL): T[] {
  const { sql: text, params } = sqliteDialect.sqlToQuery(q);
  const stmt = db.$client.prepare(text);
  if (stmt.reader) return stmt.all(...params) as T[];
  stmt.run(...params);
  return [];
}

/** A transaction body waiting for the next group commit, and whom to tell how it ended. */
interface Queued {
  body: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
}

/** Bodies one group commit runs at most: bounds how long another process waits for the write lock. */
const GROUP_MAX = 64;

const isBusy = (err: unknown) => (err as { code?: unknown }).code === 'SQLITE_BUSY';

/**
 * The SQLite store over one better-sqlite3 connection (see the top of this file for transactions).
 *
 * Group commit: SQLite has one writer across processes (a worker process and `serve` share the
 * file), and taking its lock costs a round of file locking each time; while another process holds
 * it, SQLite's own busy handler would sleep inside the call and stall this whole event loop. So
 * every transaction and every write outside one (`changes`) joins a queue, and the queue runs as
 * one BEGIN IMMEDIATE … COMMIT per turn of the event loop: each body under a savepoint of its own
 * (one that throws is rolled back alone and its caller gets the error; the others commit), each
 * caller resolved only after COMMIT. The lock is asked for without waiting (busy_timeout 0 for
 * that one statement) and asked again after yielding to the event loop, up to the connection's
 * busy timeout; reads go on meanwhile (no transaction is open on the connection until it is taken).
 */
export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly t = schema;
  #gate: Promise<void> | undefined;
  readonly #tx: Tx;
  /** Prepared handles compiled on this connection (one better-sqlite3 statement each). */
  readonly #statements = new Map<object, SqliteStatement>();
  readonly #locks = new LocalLocks();
  readonly #queue: Queued[] = [];
  #flushing = false;
  /** The connection's busy timeout (ms): how long a group commit keeps asking for the write lock. */
  readonly #busyMs: number;

  constructor(readonly db: Db) {
    this.#tx = {
      dialect: 'sqlite',
      db,
      t: schema,
      rows: async <T>(q: AnyRows<T>, v?: Values) => this.#rows(q, v),
      first: async <T>(q: AnyRows<T>, v?: Values) => this.#first(q, v),
      changes: async (q: AnyWrite, v?: Values) => this.#changes(q, v),
      execute: async <T>(q: SQL) => sqliteExecute<T>(db, q),
      forUpdate: (q) => q,
      lock: async () => undefined,
    };
    this.#busyMs = Number(db.$client.pragma('busy_timeout', { simple: true })) || 0;
  }

  #statement(p: PreparedRows<unknown> | PreparedWrite): SqliteStatement {
    let s = this.#statements.get(p);
    if (!s) this.#statements.set(p, (s = compile<SqliteStatement>(p, this)));
    return s;
  }
  #rows<T>(q: AnyRows<T>, v?: Values): T[] {
    return q instanceof PreparedRows ? (this.#statement(q).all(v ?? {}) as T[]) : q.all();
  }
  #first<T>(q: AnyRows<T>, v?: Values): T | undefined {
    return q instanceof PreparedRows ? (this.#statement(q).get(v ?? {}) as T | undefined) : q.all()[0];
  }
  #changes(q: AnyWrite, v?: Values): number {
    return q instanceof PreparedWrite ? this.#statement(q).run(v ?? {}).changes : q.run().changes;
  }

  #refuseInside(): void {
    if (inside.getStore() === this)
      throw new Error('store code inside a transaction must use the transaction (tx), not the store');
  }

  async #waitGate(): Promise<void> {
    while (this.#gate) {
      this.#refuseInside();
      await this.#gate;
    }
  }

  // No transaction open (the common case): the query runs at once, without waiting on the gate.
  async rows<T>(q: AnyRows<T>, v?: Values): Promise<T[]> {
    if (this.#gate) await this.#waitGate();
    return this.#rows(q, v);
  }
  async first<T>(q: AnyRows<T>, v?: Values): Promise<T | undefined> {
    if (this.#gate) await this.#waitGate();
    return this.#first(q, v);
  }
  /** A write outside a transaction: it joins the next group commit (resolves once committed). */
  changes(q: AnyWrite, v?: Values): Promise<number> {
    return this.tx(async (tx) => tx.changes(q as PreparedWrite, v as Values));
  }
  async execute<T = Record<string, unknown>>(q: SQL): Promise<T[]> {
    if (this.#gate) await this.#waitGate();
    return sqliteExecute<T>(this.db, q);
  }

  tx<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      this.#refuseInside();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ body, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  /** Takes the write lock without sleeping in SQLite: yields to the event loop between tries. */
  async #begin(): Promise<void> {
    const client = this.db.$client;
    const deadline = Date.now() + this.#busyMs;
    for (let n = 0; ; n++) {
      // SQLite applies this pragma when it is compiled, so it is run anew each time (not a prepared handle).
      client.pragma('busy_timeout = 0');
      try {
        client.exec('BEGIN IMMEDIATE');
        return;
      } catch (err) {
        if (!isBusy(err) || Date.now() >= deadline) throw err;
      } finally {
        client.pragma(`busy_timeout = ${this.#busyMs}`);
      }
      // Another process holds it for one transaction (well under a millisecond): ask again soon.
      await new Promise<void>((r) => (n < 8 ? setImmediate(r) : setTimeout(r, Math.min(10, n - 7))));
    }
  }

  /** Runs queued bodies as group commits until the queue is empty. */
  async #flush(): Promise<void> {
    const client = this.db.$client;
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0, GROUP_MAX);
        const done: (() => void)[] = [];
        let open!: () => void;
        try {
          await this.#begin();
          this.#gate = new Promise<void>((r) => (open = r));
          const alone = batch.length === 1;
          for (const item of batch) {
            if (!alone) client.exec('SAVEPOINT one');
            try {
              const result = await inside.run(this, () => item.body(this.#tx));
              if (!alone) client.exec('RELEASE one');
              done.push(() => item.resolve(result));
            } catch (err) {
              // SQLite ended the whole transaction itself (disk full, I/O error): nothing of the batch is stored.
              if (!client.inTransaction) throw err;
              client.exec(alone ? 'ROLLBACK' : 'ROLLBACK TO one; RELEASE one');
              done.push(() => item.reject(err));
            }
          }
          if (client.inTransaction) client.exec('COMMIT');
          for (const d of done) d();
        } catch (err) {
          if (client.inTransaction) client.exec('ROLLBACK');
          for (const item of batch) item.reject(err);
        } finally {
          const gate = this.#gate;
          this.#gate = undefined;
          if (gate) open();
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  exclusive<T>(key: string, body: () => Promise<T>): Promise<T> {
    return this.#locks.exclusive(key, body);
  }

  async ping(): Promise<void> {
    await this.execute(sql`select 1`);
  }
  async close(): Promise<void> {
    while (this.#flushing || this.#gate) await new Promise<void>((r) => setImmediate(r));
    this.db.$client.close();
  }
}

export const sqliteStore = (db: Db): Store => new SqliteStore(db);
