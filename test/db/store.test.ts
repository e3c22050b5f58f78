// The store contract (src/db/store.ts) on both dialects: the same calls, the same answers, and
// transactions that are all-or-nothing and let nothing else in.
import { describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { prepared, preparedWrite, slot, type Queries } from '../../src/db/index.js';
import { storesOfBothDialects } from '../support/store.js';

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
