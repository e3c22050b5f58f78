// Thread memory on both dialects: messages keep the order they were written in (their `seq`), even
// when many are appended to one thread at once, and a database from before `seq` keeps its order.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { newId, openDb, sqliteStore, type Store } from '../../src/db/index.js';
import { ThreadMemory } from '../../src/agent/index.js';
import { tempDir } from '../support/env.js';
import { migrateBefore } from '../support/migrations.js';
import { storesOfBothDialects } from '../support/store.js';

const stores = storesOfBothDialects();

const said = (userId: string, content: string) =>
  ({ role: 'user', userId, author: userId, requestId: `r-${content}`, content }) as const;

async function anOrg(s: Store): Promise<string> {
  const orgId = newId();
  await s.changes(s.db.insert(s.t.orgs).values({ id: orgId, name: 'acme' }));
  return orgId;
}

describe.each(['sqlite', 'postgres'] as const)('%s thread memory', (dialect) => {
  const s = () => stores[dialect];

  it('thirty messages appended to one thread at once are all kept, each with its own place', async () => {
    const memory = new ThreadMemory(s(), 100);
    const orgId = await anOrg(s());
    await Promise.all(Array.from({ length: 30 }, (_, i) => memory.append(orgId, 'T', said('alice', `m${i}`))));
    const seqs = (await memory.recent(orgId, 'T')).map((m) => m.seq);
    expect(seqs).toHaveLength(30);
    expect(new Set(seqs).size).toBe(30);
  });

  it('the latest messages come oldest first, written in the same millisecond or not, and page back by seq', async () => {
    const memory = new ThreadMemory(s(), 3);
    const orgId = await anOrg(s());
    for (const m of ['one', 'two', 'three', 'four', 'five']) await memory.append(orgId, 'T', said('bob', m));
    await memory.append(orgId, 'other thread', said('bob', 'elsewhere'));
    const latest = await memory.recent(orgId, 'T');
    expect(latest.map((m) => m.content)).toEqual(['three', 'four', 'five']);
    const earlier = await memory.recent(orgId, 'T', latest[0]!.seq);
    expect(earlier.map((m) => m.content)).toEqual(['one', 'two']);
    expect((await memory.question(orgId, 'T', 'r-four', 'bob'))?.content).toBe('four');
  });
});

describe('a database from before messages were numbered', () => {
  it('keeps each thread in the order its messages were written', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'old.db');
      migrateBefore(dir, file, '0010_thread-seq');
      const old = new Database(file);
      old.prepare(`insert into orgs (id, name) values ('o', 'acme')`).run();
      const insert = old.prepare(
        `insert into thread_messages (id, org_id, thread_key, role, content, created_at) values (?, 'o', 'T', 'user', ?, ?)`,
      );
      // Written in this order, with clocks that disagree: the order written is the order kept.
      insert.run('z', 'first', 3000);
      insert.run('a', 'second', 1000);
      insert.run('m', 'third', 2000);
      old.close();
      const store = sqliteStore(openDb(file));
      const memory = new ThreadMemory(store);
      await memory.append('o', 'T', said('carol', 'fourth'));
      expect((await memory.recent('o', 'T')).map((m) => m.content)).toEqual(['first', 'second', 'third', 'fourth']);
      await store.close();
    } finally {
      cleanup();
    }
  });
});
