// What the database alone guarantees when many requests race for one thing (a state, a rotation,
// a held grant): one wins, the rest change nothing. Runs on the test store (test/support/store.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keyring, Secret } from '../../src/crypto/index.js';
import { newId, type Store } from '../../src/db/index.js';
import { createLogger } from '../../src/log.js';
import { FlowStates, hash } from '../../src/oauth/states.js';
import { ConnectionStore } from '../../src/oauth/store.js';
import { testKey } from '../support/env.js';
import { testStore } from '../support/store.js';

let store: Store;
let deps: { store: Store; keyring: Keyring; log: ReturnType<typeof createLogger> };
const ids = { orgId: newId(), userId: newId(), providerId: newId() };
const who = { id: 'vendor-alice', login: 'alice' };
const tokens = (n: number) => ({
  accessToken: new Secret(`access-${n}`),
  refreshToken: new Secret(`refresh-${n}`),
  expiresAt: Date.now() + 3_600_000,
});

beforeEach(async () => {
  store = await testStore();
  deps = { store, keyring: new Keyring([testKey()]), log: createLogger('silent') };
  const { orgs, users, oauthProviders } = store.t;
  await store.changes(store.db.insert(orgs).values({ id: ids.orgId, name: 'Acme' }));
  await store.changes(store.db.insert(users).values({ id: ids.userId, orgId: ids.orgId, displayName: 'Alice' }));
  await store.changes(
    store.db.insert(oauthProviders).values({
      id: ids.providerId,
      orgId: ids.orgId,
      slug: 'vendor',
      kind: 'oauth2',
      displayName: 'Vendor',
      clientId: 'client',
      authorizeUrl: 'http://127.0.0.1:1/authorize',
      tokenUrl: 'http://127.0.0.1:1/token',
    }),
  );
});

afterEach(async () => {
  await store.close();
});

describe('one winner among concurrent requests', () => {
  it('20 callbacks at once with one state: exactly one consumes it, the other 19 are told it was used', async () => {
    const states = new FlowStates(deps);
    const browser = 'browser-cookie';
    const fields = { ...ids, issuer: null, scopes: ['read'], resumeCallId: null };
    const { state } = await states.create(fields, 'connect', hash(browser));
    const claims = await Promise.all(Array.from({ length: 20 }, () => states.claim(state, browser)));
    const refused = claims.flatMap((c) => ('kind' in c ? [c.problem.kind] : []));
    expect(claims.length - refused.length).toBe(1);
    expect(refused).toEqual(Array.from({ length: 19 }, () => 'state_used'));
  });

  it('20 writers of a rotated token set from one version: one writes it, the other 19 change nothing', async () => {
    const conns = new ConnectionStore(deps);
    const row = await conns.saveGrant(ids.orgId, ids.userId, ids.providerId, tokens(0), ['read'], who);
    const wrote = await Promise.all(Array.from({ length: 20 }, (_, i) => conns.writeRefreshed(row, tokens(i + 1))));
    expect(wrote.filter(Boolean)).toHaveLength(1);
    const winner = wrote.indexOf(true) + 1;
    const now = (await conns.byId(row.id))!;
    expect(now.version).toBe(row.version + 1);
    expect(conns.open(now, 'refresh')!.reveal()).toBe(`refresh-${winner}`);
    expect(conns.open(now, 'access')!.reveal()).toBe(`access-${winner}`);
  });

  it('20 confirmations of one held grant at once: one releases it', async () => {
    const conns = new ConnectionStore(deps);
    const row = await conns.saveGrant(ids.orgId, ids.userId, ids.providerId, tokens(0), ['read'], who, 'held');
    const released = await Promise.all(Array.from({ length: 20 }, () => conns.release(row.id)));
    expect(released.filter(Boolean)).toHaveLength(1);
    expect((await conns.byId(row.id))!.status).toBe('active');
  });

  it('20 connects at once for one user and provider leave one grant, the last one saved', async () => {
    const conns = new ConnectionStore(deps);
    const saved = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        conns.saveGrant(ids.orgId, ids.userId, ids.providerId, tokens(i), ['read'], who),
      ),
    );
    expect(new Set(saved.map((r) => r.id)).size).toBe(1);
    const rows = await conns.listFor(ids.orgId, ids.userId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.version).toBe(20);
    expect(conns.open(rows[0]!, 'access')).toBeDefined();
  });
});
