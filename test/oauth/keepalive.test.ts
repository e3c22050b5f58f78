import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppBase } from '../../src/app.js';
import { replicas, type Replicas } from '../support/replicas.js';
import { world, type World } from '../support/world.js';

/** The provider kills a refresh token left unused this long. */
const PROVIDER_IDLE_MS = 1500;
/** Keep-alive in milliseconds: a sweep every 200 ms refreshes grants idle for 300 ms. */
const KEEPALIVE = { idleMs: 300, everyMs: 200, batch: 10 };
const wait = { timeout: 15_000, interval: 25 };

/** Keep-alive audit events of `userId`, oldest first. */
const keepAlives = async (app: AppBase, userId: string, action: 'keepalive_refresh' | 'keepalive_failed') => {
  const { auditEvents } = app.store.t;
  const rows = await app.store.rows(
    app.store.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, action), eq(auditEvents.onBehalfOfUserId, userId))),
  );
  return rows.sort((x, y) => x.at - y.at);
};

describe('keep-alive: grants at a provider that expires idle refresh tokens', () => {
  let w: World;
  beforeAll(async () => {
    w = await world({
      users: ['alice', 'bob', 'carol', 'dave'],
      provider: 'vendor',
      connect: true,
      servers: [{ name: 'web', grant: true }],
      // Access tokens live 1 s, so a call after the provider's idle limit must refresh.
      oauth: { accessTtlSeconds: 1, refreshIdleMs: PROVIDER_IDLE_MS },
      app: { keepAlive: KEEPALIVE },
    });
  });
  afterAll(async () => w?.stop());

  it("an idle grant stays usable past the provider's idle limit, and the owner's later call runs without a prompt", async () => {
    const alice = w.as('alice');
    const since = Date.now();
    const refreshed = () => w.oauth.refreshRequests().filter((r) => r.body['refresh_token']).length;
    const before = refreshed();
    // Nobody calls anything for twice the provider's idle limit; the provider sees keep-alive refreshes meanwhile.
    await vi.waitFor(() => {
      expect(Date.now() - since).toBeGreaterThan(2 * PROVIDER_IDLE_MS);
      expect(refreshed() - before).toBeGreaterThanOrEqual(3);
    }, wait);
    expect((await keepAlives(w.app, (await w.user('alice')).id, 'keepalive_refresh')).length).toBeGreaterThanOrEqual(2);
    const from = alice.output.length;
    expect(await alice.send('/onbehalf run web.whoami {}')).toMatch(/Running `web\.whoami` as you/);
    await alice.waitFor(/fp:/, from);
    expect(alice.output.slice(from)).not.toMatch(/connect/i);
    expect((await w.app.oauth.listConnections(w.org.id, (await w.user('alice')).id))[0]!.status).toBe('active');
  });

  it('a grant the provider refuses at keep-alive needs reconnecting; its owner is told once where last seen, and the next call asks to reconnect', async () => {
    const carol = w.as('carol');
    const dave = w.as('dave'); // never asked for a tool: told by direct message
    const bob = await w.user('bob');
    const from0 = carol.output.length;
    expect(await carol.send('/onbehalf run web.whoami {}')).toMatch(/Running `web\.whoami` as you/);
    await carol.waitFor(/fp:/, from0);
    w.oauth.killRefreshTokensOf('carol-at-vendor');
    w.oauth.killRefreshTokensOf('dave-at-vendor');
    const expired = (who: string) => `Your vendor connection \\(@?${who}-at-vendor\\) has expired`;
    const toCarol = new RegExp(`only you\\): ${expired('carol')}`, 'g');
    const toDave = new RegExp(`direct message\\): ${expired('dave')}`, 'g');
    await carol.waitFor(toCarol);
    await dave.waitFor(toDave);
    const conns = await w.app.oauth.listConnections(w.org.id, (await w.user('carol')).id);
    expect(conns[0]!.status).toBe('needs_reauth');
    const failed = await keepAlives(w.app, (await w.user('carol')).id, 'keepalive_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.outcome).toBe('needs_reauth');
    // Several more sweeps run (bob's grant is kept alive twice more); each owner was told exactly once.
    const bobs = (await keepAlives(w.app, bob.id, 'keepalive_refresh')).length;
    await vi.waitFor(
      async () => expect((await keepAlives(w.app, bob.id, 'keepalive_refresh')).length).toBeGreaterThan(bobs + 2),
      wait,
    );
    expect(carol.output.match(toCarol)).toHaveLength(1);
    expect(carol.output.match(/has expired/g)).toHaveLength(1);
    expect(dave.output.match(toDave)).toHaveLength(1);
    expect(await keepAlives(w.app, (await w.user('carol')).id, 'keepalive_failed')).toHaveLength(1);
    const from = carol.output.length;
    await carol.send('/onbehalf run web.whoami {}');
    await carol.waitFor(/expired or was revoked[\s\S]*Reconnect vendor/, from);
  });
});

describe('keep-alive with two processes', () => {
  let r: Replicas;
  beforeAll(async () => {
    r = await replicas({
      users: ['alice'],
      provider: 'vendor',
      // Every sweep refreshes every grant (idle for 1 ms), so two uncoordinated sweepers would refresh twice as often.
      app: { keepAlive: { idleMs: 1, everyMs: 300, batch: 10 } },
    });
  });
  afterAll(async () => r?.stop());

  it('one keep-alive refresh per grant per interval, whichever process sweeps', async () => {
    await r.w.connect('alice');
    const alice = await r.w.user('alice');
    await vi.waitFor(
      async () => expect((await keepAlives(r.a.app, alice.id, 'keepalive_refresh')).length).toBeGreaterThan(6),
      wait,
    );
    const times = (await keepAlives(r.a.app, alice.id, 'keepalive_refresh')).map((e) => e.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // The period's key lives 300 ms, so sweeps are at least 300 ms apart (less the refresh's own time).
    // Two sweepers each on its own 300 ms tick would interleave, leaving some gap of at most 150 ms.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(160);
    expect(r.w.oauth.refreshRequests().length).toBeLessThanOrEqual(times.length + 1);
  });
});

describe('keep-alive racing a call', () => {
  let w: World;
  beforeAll(async () => {
    // The provider takes 300 ms per token request, so the two refreshes would overlap.
    w = await world({ users: ['alice'], provider: 'vendor', connect: true, oauth: { tokenDelayMs: 300 } });
  });
  afterAll(async () => w?.stop());

  it("a keep-alive and the owner's call at the same moment make one refresh, and both get the new token", async () => {
    const alice = await w.user('alice');
    // Idle for 13 hours (past the default half-day) and expiring in a second: both want to refresh it.
    await w.app.store.changes(
      w.app.store.db
        .update(w.app.store.t.connectedAccounts)
        .set({ expiresAt: Date.now() + 1000, updatedAt: Date.now() - 13 * 3_600_000 })
        .where(eq(w.app.store.t.connectedAccounts.userId, alice.id)),
    );
    const before = w.oauth.refreshRequests().length;
    const [swept, token] = await Promise.all([w.app.oauth.keepAlive.sweep(), w.tokenOf('alice')]);
    expect(swept).toBe(1);
    expect(w.oauth.refreshRequests().length).toBe(before + 1);
    expect(token).toBe(w.oauth.issuedAccessTokens.at(-1));
    expect(await keepAlives(w.app, alice.id, 'keepalive_refresh')).toHaveLength(1);
    expect(await w.tokenOf('alice')).toBe(token);
  });
});
