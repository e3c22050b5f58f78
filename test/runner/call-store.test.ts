// The tool-call rows on both dialects: the per-user caps hold when many enqueues or parks race
// (count then write under the user's lock), and a transition happens once however many workers try.
import { describe, expect, it } from 'vitest';
import { Keyring } from '../../src/crypto/index.js';
import { newId, type Store } from '../../src/db/index.js';
import { Policy } from '../../src/policy/index.js';
import { toolCalls } from '../../src/db/schema/index.js';
import { CallStore, type CallRow } from '../../src/runner/index.js';
import { pending, userLock } from '../../src/runner/calls.js';
import { testKey } from '../support/env.js';
import { storesOfBothDialects } from '../support/store.js';

const stores = storesOfBothDialects();

/** A fresh org with one user (its calls count against that user's caps). */
async function person(s: Store) {
  const orgId = newId();
  const userId = newId();
  await s.changes(s.db.insert(s.t.orgs).values({ id: orgId, name: 'acme' }));
  await s.changes(s.db.insert(s.t.users).values({ id: userId, orgId, displayName: 'alice' }));
  const call = (id = newId()) => ({
    id,
    orgId,
    userId,
    serverId: 'srv',
    tool: 'echo',
    args: {},
    replyTarget: { platform: 'shell' as const, workspaceId: 'local', channelId: 'c', userId: 'u', isDirect: true },
    requestId: 'r',
  });
  return { orgId, userId, call };
}

describe.each(['sqlite', 'postgres'] as const)('%s call store', (dialect) => {
  const s = () => stores[dialect];

  it('twenty enqueues racing at a cap of three: exactly three calls are queued, the rest refused', async () => {
    const calls = new CallStore(s());
    const { call } = await person(s());
    const results = await Promise.all(Array.from({ length: 20 }, () => calls.insertWithin(call(), 3)));
    expect(results.filter((r) => r === 'inserted')).toHaveLength(3);
    expect(results.filter((r) => r === 'full')).toHaveLength(17);
  });

  it("a user's call counts against the cap of queued calls while it is queued, running or awaiting approval, and in no other status", async () => {
    const calls = new CallStore(s());
    const statuses = toolCalls.status.enumValues; // every status a call can have
    const answers: Record<string, string> = {};
    for (const status of statuses) {
      const { call } = await person(s());
      await s().changes(
        s()
          .db.insert(s().t.toolCalls)
          .values({ ...call(), status, updatedAt: Date.now() }),
      );
      answers[status] = await calls.insertWithin(call(), 1);
    }
    expect(answers).toEqual(Object.fromEntries(statuses.map((st) => [st, pending.includes(st) ? 'full' : 'inserted'])));
  });

  it('a retried enqueue of the same call is a duplicate, not a second call, even at the cap', async () => {
    const calls = new CallStore(s());
    const { call } = await person(s());
    const id = newId();
    expect(await calls.insertWithin(call(id), 1)).toBe('inserted');
    expect(await calls.insertWithin(call(id), 1)).toBe('duplicate');
    expect(await calls.insertWithin(call(), 1)).toBe('full');
  });

  it("a call for a server named in chat is recorded against the caller's org's server of that name, never another org's; an unknown name records nothing", async () => {
    const calls = new CallStore(s());
    // The lookup enqueue passes on SQLite (on Postgres it is part of the insert statement).
    const policy = new Policy(s(), new Keyring([testKey()]));
    const lookup = (orgId: string, name: string) => policy.server(orgId, name);
    const server = async (orgId: string, name: string) => {
      const id = newId();
      await s().changes(
        s().db.insert(s().t.mcpServers).values({ id, orgId, name, transport: 'http', url: 'https://x.test' }),
      );
      return id;
    };
    const alice = await person(s());
    const mallory = await person(s());
    const notes = await server(alice.orgId, 'notes');
    await server(mallory.orgId, 'notes');
    await server(mallory.orgId, 'billing'); // alice's org has no server by this name
    const { serverId: _, ...mine } = alice.call();
    expect(await calls.insertForServer(mine, 'notes', 5, lookup)).toBe('inserted');
    expect((await calls.get(mine.id))?.serverId).toBe(notes);
    const { serverId: __, ...other } = alice.call();
    expect(await calls.insertForServer(other, 'billing', 5, lookup)).toBe('unknown_server');
    expect(await calls.get(other.id)).toBeUndefined();
    // The cap and a redelivery answer as insertWithin does.
    expect(await calls.insertForServer(mine, 'notes', 1, lookup)).toBe('duplicate');
    expect(await calls.insertForServer(other, 'notes', 1, lookup)).toBe('full');
  });

  it('ten running calls parking at once at a cap of two: two park, the others are told the cap is reached', async () => {
    const calls = new CallStore(s());
    const { call } = await person(s());
    const rows: CallRow[] = [];
    for (let i = 0; i < 10; i++) {
      const c = call();
      await calls.insert(c);
      expect(await calls.transition(c.id, ['queued'], 'running')).toBe(true);
      rows.push((await calls.get(c.id))!);
    }
    const patch = { parkedProviderId: 'gh', outcome: { parked: { providerSlug: 'gh', reason: 'missing' as const } } };
    const results = await Promise.all(rows.map((r) => calls.parkWithin(r, patch, 2)));
    expect(results.filter((r) => r === 'parked')).toHaveLength(2);
    expect(results.filter((r) => r === 'full')).toHaveLength(8);
    expect(await calls.parkedFor(rows[0]!.orgId, rows[0]!.userId, 'gh')).toHaveLength(2);
  });

  it('five workers moving one call out of queued at once: one of them moves it', async () => {
    const calls = new CallStore(s());
    const { call } = await person(s());
    const c = call();
    await calls.insert(c);
    const moved = await Promise.all(Array.from({ length: 5 }, () => calls.transition(c.id, ['queued'], 'running')));
    expect(moved.filter(Boolean)).toHaveLength(1);
    expect((await calls.get(c.id))!.status).toBe('running');
  });
});

describe('postgres call store', () => {
  it("an enqueue waits while another process holds the user's lock, then counts the calls it queued meanwhile", async () => {
    const s = stores.postgres;
    const calls = new CallStore(s);
    const { orgId, userId, call } = await person(s);
    let answer: string | undefined;
    let enqueue: Promise<unknown> = Promise.resolve();
    await s.tx(async (tx) => {
      await tx.lock(userLock({ orgId, userId }));
      enqueue = calls.insertWithin(call(), 2).then((r) => (answer = r));
      await new Promise((r) => setTimeout(r, 300));
      expect(answer).toBeUndefined(); // still waiting for the lock
      // The other process's two calls fill the cap of two before it lets go.
      for (const c of [call(), call()])
        await tx.changes(tx.db.insert(tx.t.toolCalls).values({ ...c, status: 'queued', updatedAt: Date.now() }));
    });
    await enqueue;
    expect(answer).toBe('full');
  });
});
