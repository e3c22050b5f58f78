// The one way store code reaches the database, on SQLite or Postgres alike. Queries are built with
// drizzle on `store.db` over the tables of `store.t`, and run through `rows` / `first` / `changes`
// (or a transaction's), which await on both dialects. The builder is typed by the SQLite schema;
// on Postgres it is postgres.js's drizzle over the tables derived from it (db/pg/derive.ts): the
// same property keys and the same JS values, so one call fits both.
//
// Transactions: `store.tx(async (tx) => …)`. The body only awaits `tx`'s own queries (never other
// I/O): on SQLite it holds the one connection. SQLite runs it inside a group commit, one BEGIN
// IMMEDIATE … COMMIT with the other transactions and writes of the same turn of the event loop, each
// under its own savepoint (db/sqlite-store.ts; one writer across processes), and every other query
// of this process waits at a gate until it ends, so nothing else lands inside it. Postgres runs it
// in a real transaction (read committed unless `isolation` says otherwise; a serializable one is
// retried on a serialization failure), with `tx.forUpdate` and `tx.lock` for the row and advisory
// locks each site needs.
import { sql, type SQL } from 'drizzle-orm';
import { compile, preparedSql, PreparedRows, PreparedWrite, type PgStatement, type Values } from './prepared.js';
import type { Db, RowsQuery, Tables, WriteQuery } from './types.js';
import { LocalLocks, pgExclusive, type Reservable } from './exclusive.js';

export type { Db, RowsQuery, Tables, WriteQuery } from './types.js';

/** What a store and a transaction both offer. */
export interface Queries {
  readonly dialect: 'sqlite' | 'postgres';
  /** The query builder (see the top of this file). */
  readonly db: Db;
  readonly t: Tables;
  /** The rows of a query, or of a prepared one (db/prepared.ts) with its placeholders' values. */
  rows<T>(q: RowsQuery<T>): Promise<T[]>;
  rows<T>(q: PreparedRows<T>, values: Values): Promise<T[]>;
  /** The first row, or undefined (add `.limit(1)` where more could match). */
  first<T>(q: RowsQuery<T>): Promise<T | undefined>;
  first<T>(q: PreparedRows<T>, values: Values): Promise<T | undefined>;
  /** How many rows a write changed. */
  changes(q: WriteQuery): Promise<number>;
  changes(q: PreparedWrite, values: Values): Promise<number>;
  /** Raw SQL: the rows it yields (column names as the database spells them), or none (DDL, a write). */
  execute<T = Record<string, unknown>>(q: SQL): Promise<T[]>;
}

/** Inside `store.tx`. */
export interface Tx extends Queries {
  /** The select locks the rows it reads until the transaction ends (Postgres `FOR UPDATE`; SQLite's transaction already excludes every other writer). */
  forUpdate<Q>(q: Q): Q;
  /** Serialises transactions that take the same key (Postgres advisory transaction lock; SQLite: already one writer). */
  lock(key: string): Promise<void>;
}

export interface TxOptions {
  /** Postgres isolation; serializable bodies are retried (up to 5 times) on a serialization failure. */
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
}

export interface Store extends Queries {
  tx<T>(body: (tx: Tx) => Promise<T>, opts?: TxOptions): Promise<T>;
  /** Runs `body` as the only holder of `key` across every process on this database (db/exclusive.ts). */
  exclusive<T>(key: string, body: () => Promise<T>): Promise<T>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type AnyRows<T> = RowsQuery<T> | PreparedRows<T>;
export type AnyWrite = WriteQuery | PreparedWrite;

/** A drizzle Postgres database (postgres-js), seen through the types store code uses. */
interface PgLike {
  execute(q: SQL): Promise<unknown[]>;
  transaction<T>(body: (tx: PgLike) => Promise<T>, config?: { isolationLevel?: TxOptions['isolation'] }): Promise<T>;
}

/** Postgres error codes after which a whole transaction may be tried again. */
const RETRYABLE = new Set(['40001', '40P01']);
const codeOf = (err: unknown): string | undefined => {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e)
    if (typeof e.code === 'string') return e.code;
  return undefined;
};

/** A transaction's advisory lock on a key (Tx.lock), held until it ends. */
const advisoryLock = preparedSql(
  'store.lock',
  () => sql`select pg_advisory_xact_lock(hashtext(${sql.placeholder('key')}::text))`,
);

/** The queries of the pool or of one transaction; `statement` gives a prepared handle's compiled query there. */
function pgQueries(db: PgLike, t: Tables, statement: (p: PreparedRows<unknown> | PreparedWrite) => PgStatement): Tx {
  const builder = db as unknown as Db;
  // On Postgres a drizzle query is awaited: rows for a select or `.returning()`, a result with `count` for a write.
  const run = async (q: AnyRows<unknown> | AnyWrite, v?: Values): Promise<unknown> =>
    q instanceof PreparedRows || q instanceof PreparedWrite
      ? statement(q).execute(v ?? {})
      : (q as unknown as PromiseLike<unknown>);
  return {
    dialect: 'postgres',
    db: builder,
    t,
    rows: async <T>(q: AnyRows<T>, v?: Values) => (await run(q, v)) as T[],
    first: async <T>(q: AnyRows<T>, v?: Values) => ((await run(q, v)) as T[])[0],
    changes: async (q: AnyWrite, v?: Values) => ((await run(q, v)) as { count: number }).count,
    execute: async <T>(q: SQL) => (await db.execute(q)) as T[],
    forUpdate: <Q>(q: Q) => (q as unknown as { for(s: 'update'): Q }).for('update'),
    lock: async (key) => void (await statement(advisoryLock).execute({ key })),
  };
}

/** The Postgres store over a postgres.js pool (db/pg). */
export class PgStore implements Store {
  readonly dialect = 'postgres' as const;
  readonly db: Db;
  readonly t: Tables;
  readonly #q: Tx;
  readonly #locks = new LocalLocks();
  /** The pool's compiled prepared handles. */
  readonly #cache = new Map<object, PgStatement>();

  constructor(
    readonly pg: PgLike & { $client: Reservable & { end(): Promise<void> } },
    tables: unknown,
  ) {
    this.t = tables as Tables;
    this.db = pg as unknown as Db;
    this.#q = pgQueries(pg, this.t, (p) => this.#compiled(p));
  }

  rows<T>(q: AnyRows<T>, v?: Values): Promise<T[]> {
    return this.#q.rows(q as PreparedRows<T>, v ?? {});
  }
  first<T>(q: AnyRows<T>, v?: Values): Promise<T | undefined> {
    return this.#q.first(q as PreparedRows<T>, v ?? {});
  }
  changes(q: AnyWrite, v?: Values): Promise<number> {
    return this.#q.changes(q as PreparedWrite, v ?? {});
  }
  execute<T = Record<string, unknown>>(q: SQL) {
    return this.#q.execute<T>(q);
  }

  async tx<T>(body: (tx: Tx) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const isolationLevel = opts.isolation ?? 'read committed';
    // Read committed is every connection's default (db/pg openPostgres): no SET TRANSACTION for it.
    const config = isolationLevel === 'read committed' ? undefined : { isolationLevel };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pg.transaction((tx) => body(pgQueries(tx, this.t, this.#onTransaction(tx))), config);
      } catch (err) {
        const again = isolationLevel !== 'read committed' && RETRYABLE.has(codeOf(err) ?? '') && attempt < 5;
        if (!again) throw err;
      }
    }
  }

  /** The pool's compiled handle of `p` (built on first use). */
  #compiled(p: PreparedRows<unknown> | PreparedWrite): PgStatement {
    let s = this.#cache.get(p);
    if (!s) this.#cache.set(p, (s = compile<PgStatement>(p, { db: this.db, t: this.t })));
    return s;
  }

  /**
   * A transaction's compiled queries: the pool's, run on the transaction's connection, instead of
   * building each query again (drizzle binds a prepared query to the connection it was built on: its
   * `client`, which a transaction's session holds). Where that shape is not found, the query is
   * built on the transaction, as drizzle would.
   */
  #onTransaction(tx: PgLike): (p: PreparedRows<unknown> | PreparedWrite) => PgStatement {
    const client = (tx as { session?: { client?: unknown } }).session?.client;
    return (p) => {
      const pooled = this.#compiled(p);
      return client && 'client' in pooled
        ? (Object.create(pooled, { client: { value: client } }) as PgStatement)
        : compile<PgStatement>(p, { db: tx as unknown as Db, t: this.t });
    };
  }

  exclusive<T>(key: string, body: () => Promise<T>): Promise<T> {
    return this.#locks.exclusive(key, () => pgExclusive(this.pg.$client, key, body));
  }

  async ping(): Promise<void> {
    await this.execute(sql`select 1`);
  }
  async close(): Promise<void> {
    await this.pg.$client.end();
  }
}
