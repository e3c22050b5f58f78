// What policy guarantees when admins change the same things at the same time (the guards hold on
// Postgres too: see the comments at each site).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keyring, Secret } from '../../src/crypto/index.js';
import { newId, type Store } from '../../src/db/index.js';
import { NetGuard } from '../../src/net/index.js';
import { Policy } from '../../src/policy/index.js';
import { testKey } from '../support/env.js';
import { testStore } from '../support/store.js';

let store: Store;
let policy: Policy;
let orgId: string;

beforeEach(async () => {
  store = await testStore();
  policy = new Policy(store, new Keyring([testKey()]), { net: new NetGuard({ allowPrivate: true }) });
  orgId = newId();
  await store.changes(store.db.insert(store.t.orgs).values({ id: orgId, name: 'Acme' }));
});
afterEach(async () => {
  await store.close();
});

/** Lets `n` turns of queued promise callbacks run. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

describe('concurrent admin changes', () => {
  it('two admins adding a server of one name at once: one is added, the other told it exists', async () => {
    const add = () => policy.addServer(orgId, { name: 'gh', transport: 'http', url: 'http://127.0.0.1:9/mcp' });
    const results = await Promise.all([add(), add(), add()]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([
      { ok: false, error: { kind: 'server_exists', name: 'gh' } },
      { ok: false, error: { kind: 'server_exists', name: 'gh' } },
    ]);
    expect(await policy.servers(orgId)).toHaveLength(1);
  });

  it('two admins creating a team of one name at once: one is created, the other told it exists', async () => {
    const results = await Promise.all([1, 2, 3].map(() => policy.team(orgId, 'create', 'ops')));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.error.kind === 'team_exists')).toHaveLength(2);
  });

  it('a team secret stored while the team is deleted never outlives the team', async () => {
    // The store starts a few turns after the deletion, so it finds the team before the deletion
    // commits and writes after it, at some offset: unguarded, such a secret stays behind.
    for (let offset = 0; offset < 30; offset++) {
      expect((await policy.team(orgId, 'create', 'ops')).ok).toBe(true);
      const deleting = policy.team(orgId, 'delete', 'ops');
      await turns(offset);
      const storing = policy.setSecret(orgId, 'team', 'ops', 'deploy_key', new Secret(`canary-${offset}`));
      const [deleted, stored] = await Promise.all([deleting, storing]);
      expect(deleted.ok).toBe(true);
      if (!stored.ok) expect(stored.error).toEqual({ kind: 'unknown_team', name: 'ops' });
      const teams = new Set((await policy.teams.list(orgId)).map((t) => t.team.id));
      const orphans = (await policy.secrets.list(orgId, 'team')).filter((s) => !teams.has(s.scopeId));
      expect(orphans, `offset ${offset}`).toEqual([]);
    }
  });
});
