import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import type { OAuthTestServer } from '../support/oauth-server.js';
import { startTestRedis } from '../support/redis.js';
import { faultBed, until, type FaultBed } from './bed.js';

const CLIENT_SECRET = 'drill-client-secret-canary-51c2';

describe('the OAuth provider is down while a token must be refreshed', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let provider: OAuthTestServer;
  let mcp: TestMcpHttpServer;
  let bed: FaultBed;
  let userId: string;
  const status = async () => {
    const { connectedAccounts } = bed.app.store.t;
    const q = bed.app.store.db.select().from(connectedAccounts).where(eq(connectedAccounts.userId, userId)).limit(1);
    return (await bed.app.store.first(q))?.status;
  };
  // Each call finds an hour-long token with 30 s left, inside the 60 s margin: it refreshes first.
  const nearExpiry = () => {
    const { connectedAccounts } = bed.app.store.t;
    return bed.app.store.changes(
      bed.app.store.db
        .update(connectedAccounts)
        .set({ expiresAt: Date.now() + 30_000, updatedAt: Date.now() - 3_570_000 })
        .where(eq(connectedAccounts.userId, userId)),
    );
  };
  const run = async (what: string) => {
    await nearExpiry();
    const s = await bed.send('alice', 'run tools.whoami {}');
    expect(s.ok, what).toBe(true);
    await until(() => bed.noticesFor(s.requestId).length > 0, 30_000, what);
    const [n] = bed.noticesFor(s.requestId);
    if (n?.kind !== 'outcome') throw new Error(`${what}: expected an outcome`);
    return n;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    bed = await faultBed(
      { REDIS_URL: redis.url },
      {
        tuning: { attempts: 3, backoffMs: 200 },
        world: {
          users: ['alice'],
          provider: 'gh',
          client: { id: 'drill-client', secret: CLIENT_SECRET },
          oauth: { accessTtlSeconds: 30 },
          servers: [{ name: 'tools', grant: true }],
        },
      },
    );
    ({ provider, mcp } = bed);
    userId = (await bed.world.user('alice')).id;
    // A first connect from this unproven browser is held until Alice confirms it in chat.
    const { res } = await bed.world.connect('alice', { confirm: false });
    expect(res.status).toBe(200);
    expect(await status()).toBe('held');
    expect(await bed.app.oauth.confirmHeld(await bed.orgId(), userId, 'gh')).toMatchObject({ ok: true });
    expect(await status()).toBe('active');
  });

  afterAll(async () => {
    await bed?.stop();
    await redis?.stop();
  });

  it('a brief outage (two 503s) is retried inside the call: it succeeds with the refreshed token, connection active', async () => {
    const before = provider.refreshRequests().length;
    provider.unavailable = 2;
    const n = await run('the call during a brief outage');
    expect(n.outcome).toMatchObject({ kind: 'result', isError: false });
    expect(provider.refreshRequests().length).toBe(before + 3);
    expect(mcp.calls.at(-1)!.seen['authorization']).toBe(`Bearer ${provider.issuedAccessTokens.at(-1)}`);
    expect(await status()).toBe('active');
  });

  it('a long outage: the call retries within bounds, then fails clearly; the connection stays active; provider back → calls succeed', async () => {
    const before = provider.refreshRequests().length;
    const seenBefore = mcp.calls.length;
    provider.unavailable = 10_000;
    const t0 = Date.now();
    const n = await run('the call during a long outage');
    const took = Date.now() - t0;
    provider.unavailable = 0;
    expect(n.outcome.kind).toBe('failed');
    expect(n.text).toMatch(/`tools\.whoami` failed: .*(unavailable|503|could not)/i);
    // Bounded: 3 job attempts × 3 refresh attempts each, with backoff; no endless hammering.
    const tries = provider.refreshRequests().length - before;
    expect(tries).toBeGreaterThanOrEqual(3);
    expect(tries).toBeLessThanOrEqual(9);
    expect(took).toBeLessThan(20_000);
    // No stale or missing token was sent meanwhile, and nobody was told to reconnect.
    expect(mcp.calls.length).toBe(seenBefore);
    expect(bed.notifier.notices.filter((x) => x.kind === 'connect')).toEqual([]);
    expect(await status()).toBe('active');

    const back = await run('the call after the provider is back');
    expect(back.outcome).toMatchObject({ kind: 'result', isError: false });
    expect(mcp.calls.at(-1)!.seen['authorization']).toBe(`Bearer ${provider.issuedAccessTokens.at(-1)}`);
    expect(await status()).toBe('active');
    expect(
      bed.t.logs.containing(CLIENT_SECRET, ...provider.issuedAccessTokens, ...provider.issuedRefreshTokens),
    ).toEqual([]);
  });
});
