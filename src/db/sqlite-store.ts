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
  /** A write outside a transaction: when it is alone in its turn, it runs as one statement (no BEGIN … COMMIT). */
  single?: () => number;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
}

/** Bodies one group commit runs at most: bounds how long another process waits for the write lock. */
const GROUP_MAX = 64;

const isBusy = (err: unknown) => (err as { code?: unknown }).code === 'SQLITE_BUSY';

/**
 * The SQLite store over one better-sqlite3 connection (db/store.ts says what a transaction may do).
 *
 * Group commit: SQLite has one writer across processes (a worker process and `serve` share the
 * file), and taking its lock costs a round of file locking each time; while another process holds
 * it, SQLite's own busy handler would sleep inside the call and stall this whole event loop. So
 * every transaction and every write outside one (`changes`) joins a queue, and the queue runs as
 * one BEGIN IMMEDIATE … COMMIT per turn of the event loop (while writes come one at a time, as
 * soon as this turn's microtasks have run): each body under a savepoint of its own (one that
 * throws is rolled back alone and its caller gets the error; the others commit), each caller
 * resolved only after COMMIT; a write alone in its turn runs as its own statement. The
 * connection's busy_timeout is 0: the lock is asked for and, while another process holds it, asked
 * again after yielding to the event loop, up to the busy timeout the connection was opened with;
 * reads go on meanwhile (no transaction is open on the connection until the lock is taken), and a
 * read that meets SQLITE_BUSY is tried once more with SQLite's own wait (#patient).
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
  /** How many bodies the last flush ran. */
  #lastFlush = 0;
  /** When the last two flushes were scheduled (performance.now()), the earlier first. */
  #starts: [number, number] = [-Infinity, -Infinity];
  /** The connection's busy timeout (ms): how long a group commit keeps asking for the write lock. */
  readonly #busyMs: number;
  /** Transaction control, prepared once. */
  readonly #c: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'undo', { run(): unknown }>;

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
    const client = db.$client;
    this.#busyMs = Number(client.pragma('busy_timeout', { simple: true })) || 0;
    // SQLite's busy handler sleeps inside the call; this connection asks again itself (#retrying, #patient).
    client.pragma('busy_timeout = 0');
    const p = (text: string) => client.prepare(text);
    this.#c = {
      begin: p('BEGIN IMMEDIATE'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
      savepoint: p('SAVEPOINT one'),
      release: p('RELEASE one'),
      undo: p('ROLLBACK TO one'),
    };
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
    return this.#patient(() => this.#rows(q, v));
  }
  async first<T>(q: AnyRows<T>, v?: Values): Promise<T | undefined> {
    if (this.#gate) await this.#waitGate();
    return this.#patient(() => this.#first(q, v));
  }
  /** A write outside a transaction: it joins the next group commit (resolves once committed). */
  changes(q: AnyWrite, v?: Values): Promise<number> {
    return this.#enqueue(
      async (tx) => tx.changes(q as PreparedWrite, v as Values),
      () => this.#changes(q, v),
    );
  }
  async execute<T = Record<string, unknown>>(q: SQL): Promise<T[]> {
    if (this.#gate) await this.#waitGate();
    return this.#patient(() => sqliteExecute<T>(this.db, q));
  }

  /**
   * A read outside a transaction that met SQLITE_BUSY (rare under WAL: another connection recovering
   * or restarting the log) is tried once more with SQLite's own wait, as every statement was before.
   */
  #patient<T>(run: () => T): T {
    try {
      return run();
    } catch (err) {
      if (!isBusy(err)) throw err;
      const client = this.db.$client;
      client.pragma(`busy_timeout = ${this.#busyMs}`);
      try {
        return run();
      } finally {
        client.pragma('busy_timeout = 0');
      }
    }
  }

  tx<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#enqueue(body);
  }

  #enqueue<T>(body: (tx: Tx) => Promise<T>, single?: () => number): Promise<T> {
    try {
      this.#refuseInside();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ body, ...(single ? { single } : {}), resolve: resolve as (v: unknown) => void, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        // Under load (the last flush carried several bodies, or this is the third flush within a
        // millisecond), waiting for the end of this turn of the event loop gathers the most into one
        // commit. While writes come one at a time, that wait only adds a turn to each: they run once
        // this turn's microtasks have (bodies queued together still commit together).
        const now = performance.now();
        const busy = this.#lastFlush > 1 || now - this.#starts[0] < 1;
        this.#starts = [this.#starts[1], now];
        if (busy) setImmediate(() => void this.#flush());
        else queueMicrotask(() => void this.#flush());
      }
    });
  }

  /**
   * Runs `take` (which needs the write lock) without sleeping in SQLite: on SQLITE_BUSY it yields to
   * the event loop and tries again, up to the connection's busy timeout.
   */
  async #retrying<T>(take: () => T): Promise<T> {
    const deadline = Date.now() + this.#busyMs;
    for (let n = 0; ; n++) {
      try {
        return take();
      } catch (err) {
        if (!isBusy(err) || Date.now() >= deadline) throw err;
      }
      // Another process holds it for one transaction (well under a millisecond): ask again soon.
      await new Promise<void>((r) => (n < 8 ? setImmediate(r) : setTimeout(r, Math.min(10, n - 7))));
    }
  }

  /** Runs queued bodies as group commits until the queue is empty. */
  async #flush(): Promise<void> {
    const client = this.db.$client;
    let ran = 0;
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0, GROUP_MAX);
        ran += batch.length;
        const only = batch.length === 1 ? batch[0]!.single : undefined;
        if (only) {
          // One write alone in its turn: one statement is its own transaction.
          await this.#retrying(only).then(batch[0]!.resolve, batch[0]!.reject);
          continue;
        }
        const done: (() => void)[] = [];
        let open!: () => void;
        try {
          await this.#retrying(() => this.#c.begin.run());
          this.#gate = new Promise<void>((r) => (open = r));
          for (const item of batch) {
            this.#c.savepoint.run();
            try {
              const result = await inside.run(this, () => item.body(this.#tx));
              this.#c.release.run();
              done.push(() => item.resolve(result));
            } catch (err) {
              // SQLite ended the whole transaction itself (disk full, I/O error): nothing of the batch is stored.
              if (!client.inTransaction) throw err;
              this.#c.undo.run();
              this.#c.release.run();
              done.push(() => item.reject(err));
            }
          }
          this.#c.commit.run();
          for (const d of done) d();
        } catch (err) {
          if (client.inTransaction) this.#c.rollback.run();
          for (const item of batch) item.reject(err);
        } finally {
          const gate = this.#gate;
          this.#gate = undefined;
          if (gate) open();
        }
      }
    } finally {
      this.#flushing = false;
      this.#lastFlush = ran;
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
