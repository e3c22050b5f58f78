// The audit writer on the app's store: concurrent events go in together, each stored once, and a
// bad one fails alone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/index.js';
import type { Store } from '../../src/db/index.js';
import { testStore } from '../support/store.js';

let store: Store;
beforeAll(async () => {
  store = await testStore();
  await store.changes(store.db.insert(store.t.orgs).values({ id: 'org-a', name: 'A' }));
});
afterAll(async () => {
  await store?.close();
});

it('thirty events written at once are each stored once; one naming an unknown org is refused alone', async () => {
  const audit = new AuditLog(store);
  const event = (i: number, orgId = 'org-a') =>
    audit.write({ orgId, category: 'tool_call', action: 'call', outcome: 'ok', requestId: `r${i}`, detail: { i } });
  const writes = Array.from({ length: 30 }, (_, i) => event(i, i === 17 ? 'no-such-org' : 'org-a'));
  const settled = await Promise.allSettled(writes);
  expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(1);
  expect(settled[17]!.status).toBe('rejected');
  const ids = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  expect(new Set(ids).size).toBe(29);
  const stored = await audit.query('org-a', { limit: 100 });
  expect(stored.map((e) => e.id).sort()).toEqual([...ids].sort());
  expect(stored.map((e) => e.requestId).sort()).toEqual(
    Array.from({ length: 30 }, (_, i) => `r${i}`)
      .filter((r) => r !== 'r17')
      .sort(),
  );
  expect(stored.find((e) => e.requestId === 'r3')?.detail).toEqual({ i: 3 });
  // Written after the burst: stored at once, alone.
  const late = await event(99);
  expect((await audit.query('org-a', { limit: 1 }))[0]?.id).toBe(late);
});
