// The store contract (src/db/store.ts) on both dialects: the same calls, the same answers, and
// transactions that are all-or-nothing and let nothing else in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { openDb, prepared, preparedWrite, slot, sqliteStore, type Queries } from '../../src/db/index.js';
import postgres from 'postgres';
import { pgStore } from '../../src/db/pg/index.js';
import { storesOfBothDialects, testPostgresUrl } from '../support/store.js';

const stores = storesOfBothDialects({ max: 10 });

const org = (s: Queries, id: string) => s.db.insert(s.t.orgs).values({ id, name: id });

const orgById = prepared('test.orgById', ({ db, t }) =>
  db
    .select()
    .from(t.orgs)
    .where(eq(t.orgs.id, sql.placeholder('id'))),
);
const renameOrg = preparedWrite('test.renameOrg', ({ db, t }) =>
  db
    .update(t.orgs)
    .set({ name: slot<string>('name') })
    .where(eq(t.orgs.id, sql.placeholder('id'))),
);

describe.each(['sqlite', 'postgres'] as const)('%s store', (dialect) => {
  const s = () => stores[dialect];

  it('rows, first and changes answer the same on both dialects', async () => {
    const { orgs } = s().t;
    expect(await s().changes(org(s(), `${dialect}-a`))).toBe(1);
    const addB = () =>
      s().changes(
        s()
          .db.insert(orgs)
          .values({ id: `${dialect}-b`, name: 'b' })
          .onConflictDoNothing(),
      );
    expect(await addB()).toBe(1);
    expect(await addB()).toBe(0);
    const row = await s().first(
      s()
        .db.select()
        .from(orgs)
        .where(eq(orgs.id, `${dialect}-a`)),
    );
    expect(row).toMatchObject({ id: `${dialect}-a`, name: `${dialect}-a` });
    expect(typeof row!.createdAt).toBe('number');
    expect(await s().first(s().db.select().from(orgs).where(eq(orgs.id, 'nobody')))).toBeUndefined();
    const renamed = await s().rows(
      s()
        .db.update(orgs)
        .set({ name: 'renamed' })
        .where(eq(orgs.id, `${dialect}-b`))
        .returning({ name: orgs.name }),
    );
    expect(renamed).toEqual([{ name: 'renamed' }]);
    expect(await s().changes(s().db.delete(orgs).where(eq(orgs.id, 'nobody')))).toBe(0);
  });

  it('a prepared query runs with new values each time, on the store and inside a transaction', async () => {
    const id = `${dialect}-prepared`;
    await s().changes(org(s(), id));
    expect(await s().first(orgById, { id })).toMatchObject({ id, name: id });
    expect(await s().first(orgById, { id: 'nobody' })).toBeUndefined();
    expect(await s().changes(renameOrg, { id, name: 'once' })).toBe(1);
    expect(await s().changes(renameOrg, { id: 'nobody', name: 'x' })).toBe(0);
    expect((await s().rows(orgById, { id })).map((r) => r.name)).toEqual(['once']);
    await expect(
      s().tx(async (tx) => {
        expect(await tx.changes(renameOrg, { id, name: 'inside' })).toBe(1);
        expect((await tx.first(orgById, { id }))?.name).toBe('inside');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    // The prepared write ran in the transaction: it rolled back with it.
    expect((await s().first(orgById, { id }))?.name).toBe('once');
  });

  it('a transaction that throws leaves nothing behind', async () => {
    const { orgs } = s().t;
    await expect(
      s().tx(async (tx) => {
        await tx.changes(org(tx, `${dialect}-rolled-back`));
        expect(
          await tx.first(
            tx.db
              .select()
              .from(orgs)
              .where(eq(orgs.id, `${dialect}-rolled-back`)),
          ),
        ).toBeDefined();
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(
      await s().first(
        s()
          .db.select()
          .from(orgs)
          .where(eq(orgs.id, `${dialect}-rolled-back`)),
      ),
    ).toBeUndefined();
  });

  it('twenty concurrent read-then-write transactions on one counter lose no update', async () => {
    const { orgs } = s().t;
    const id = `${dialect}-counter`;
    await s().changes(s().db.insert(orgs).values({ id, name: '0' }));
    await Promise.all(
      Array.from({ length: 20 }, () =>
        s().tx(async (tx) => {
          await tx.lock(`counter:${id}`);
          const row = await tx.first(tx.forUpdate(tx.db.select().from(orgs).where(eq(orgs.id, id))));
          await tx.changes(
            tx.db
              .update(orgs)
              .set({ name: String(Number(row!.name) + 1) })
              .where(eq(orgs.id, id)),
          );
        }),
      ),
    );
    expect((await s().first(s().db.select().from(orgs).where(eq(orgs.id, id))))!.name).toBe('20');
  });

  it('exclusive: bodies holding one key never overlap (a failed one frees it), while another key is not held up', async () => {
    const { orgs } = s().t;
    const id = `${dialect}-exclusive`;
    await s().changes(s().db.insert(orgs).values({ id, name: '0' }));
    // Read, yield, write outside any transaction: only the lock keeps the increments from being lost.
    const bump = () =>
      s().exclusive('test-counter', async () => {
        const row = await s().first(s().db.select().from(orgs).where(eq(orgs.id, id)));
        await new Promise((r) => setImmediate(r));
        await s().changes(
          s()
            .db.update(orgs)
            .set({ name: String(Number(row!.name) + 1) })
            .where(eq(orgs.id, id)),
        );
      });
    const failing = s().exclusive('test-counter', async () => {
      throw new Error('body failed');
    });
    const other = s().exclusive('test-other', async () => 'not held up');
    const results = await Promise.allSettled([...Array.from({ length: 6 }, bump), failing, other]);
    expect(results.map((r) => r.status)).toEqual([...Array(6).fill('fulfilled'), 'rejected', 'fulfilled']);
    expect((await s().first(s().db.select().from(orgs).where(eq(orgs.id, id))))!.name).toBe('6');
  });
});

describe('postgres: isolation', () => {
  it("a transaction is read committed, or the level it asks for, even where the database's default is serializable", async () => {
    const url = await testPostgresUrl();
    const admin = postgres(url, { max: 1, onnotice: () => undefined });
    await admin.unsafe(
      `alter database ${new URL(url).pathname.slice(1)} set default_transaction_isolation = 'serializable'`,
    );
    await admin.end();
    const store = pgStore(url, { max: 2 });
    try {
      const level = (tx: Queries) => tx.execute<{ transaction_isolation: string }>(sql`show transaction_isolation`);
      expect((await store.tx(level))[0]!.transaction_isolation).toBe('read committed');
      expect((await store.tx(level, { isolation: 'serializable' }))[0]!.transaction_isolation).toBe('serializable');
      expect((await store.tx(level, { isolation: 'repeatable read' }))[0]!.transaction_isolation).toBe(
        'repeatable read',
      );
    } finally {
      await store.close();
    }
  });
});

describe('sqlite: the transaction holds the connection', () => {
  it('a query from elsewhere waits for the commit and is not undone by a rollback', async () => {
    const s = stores.sqlite;
    const { orgs } = s.t;
    let inside!: () => void;
    const entered = new Promise<void>((r) => (inside = r));
    let finish!: () => void;
    const held = new Promise<void>((r) => (finish = r));
    const tx = s.tx(async (t) => {
      await t.changes(org(t, 'in-tx'));
      inside();
      await held;
      throw new Error('roll back');
    });
    await entered;
    // Issued while the transaction is open: on the same connection it would join it and vanish with it.
    const outside = s.changes(org(s, 'outside'));
    finish();
    await expect(tx).rejects.toThrow('roll back');
    expect(await outside).toBe(1);
    expect(await s.first(s.db.select().from(orgs).where(eq(orgs.id, 'outside')))).toBeDefined();
    expect(await s.first(s.db.select().from(orgs).where(eq(orgs.id, 'in-tx')))).toBeUndefined();
  });

  it('using the store instead of the transaction inside one is an error, not a deadlock', async () => {
    const s = stores.sqlite;
    await expect(s.tx(async () => s.first(s.db.select().from(s.t.orgs)))).rejects.toThrow(
      'store code inside a transaction must use the transaction (tx), not the store',
    );
  });
});

describe('sqlite: group commit', () => {
  it('bodies of one turn commit together; one that throws is undone alone and only its caller hears of it', async () => {
    const s = stores.sqlite;
    const { orgs } = s.t;
    // Issued in one turn of the event loop: one group commit runs them all.
    const a = s.tx(async (t) => t.changes(org(t, 'group-a')));
    const b = s.tx(async (t) => {
      await t.changes(org(t, 'group-b'));
      throw new Error('b fails after writing');
    });
    const c = s.changes(org(s, 'group-c'));
    const d = s.changes(org(s, 'group-a')); // the same id again: a constraint error, for its caller only
    expect(await a).toBe(1);
    await expect(b).rejects.toThrow('b fails after writing');
    expect(await c).toBe(1);
    await expect(d).rejects.toThrow(/UNIQUE/);
    const ids = (await s.rows(s.db.select({ id: orgs.id }).from(orgs))).map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining(['group-a', 'group-c']));
    expect(ids).not.toContain('group-b');
  });

  it("a write waiting for another process's lock keeps this event loop running, and lands once the lock is free", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'onbehalf-group-'));
    const file = path.join(dir, 'db.sqlite');
    const store = sqliteStore(openDb(file));
    // Another process's writer, as `serve` is to a worker process: it holds the write lock.
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      const released = new Promise<void>((r) =>
        setTimeout(() => {
          other.exec('COMMIT');
          r();
        }, 150),
      );
      const started = Date.now();
      const write = store.changes(org(store, 'after-the-lock'));
      // SQLite's busy handler would sleep inside the call: no timer of this process (the release above
      // included) would run until its busy timeout ended in SQLITE_BUSY.
      expect(await write).toBe(1);
      await released;
      clearInterval(ticker);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(ticks).toBeGreaterThanOrEqual(5);
      const { orgs } = store.t;
      expect(await store.first(store.db.select().from(orgs).where(eq(orgs.id, 'after-the-lock')))).toBeDefined();
    } finally {
      other.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
