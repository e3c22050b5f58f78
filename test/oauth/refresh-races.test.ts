import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import type { Store } from '../../src/db/index.js';
import { Redis } from 'ioredis';
import { sealedTables } from '../../src/db/sealed.js';
import { OAuthService, type OAuthOptions } from '../../src/oauth/index.js';
import { NetGuard } from '../../src/net/index.js';
import { oauthBed, type Bed } from './bed.js';

const openRefresh = async (bed: Bed) => {
  const row = (await bed.connection())!;
  return bed.t.app.keyring.open(row.refreshTokenSealed!, sealedTables.connectedAccounts.ctx(row, 'refreshTokenSealed'));
};

/** Every refresh token the provider received since request `from` is distinct: none was replayed. */
const noReplay = (bed: Bed, from: number) => {
  const sent = bed.server
    .refreshRequests()
    .slice(from)
    .map((r) => r.body['refresh_token']);
  expect(new Set(sent).size).toBe(sent.length);
};

/** From now on every update of a connected account fails, as a broken disk would make it (a trigger of the store's dialect). */
const refuseTokenWrites = async (store: Store) => {
  if (store.dialect === 'sqlite') {
    await store.execute(
      sql.raw(
        `CREATE TRIGGER refuse_token_writes BEFORE UPDATE ON connected_accounts BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`,
      ),
    );
    return;
  }
  await store.execute(
    sql.raw(
      `CREATE OR REPLACE FUNCTION refuse_token_writes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk I/O error (test)'; END $$`,
    ),
  );
  await store.execute(
    sql.raw(
      `CREATE TRIGGER refuse_token_writes BEFORE UPDATE ON connected_accounts FOR EACH ROW EXECUTE FUNCTION refuse_token_writes()`,
    ),
  );
};
const allowTokenWrites = (store: Store) =>
  store.execute(
    sql.raw(
      `DROP TRIGGER IF EXISTS refuse_token_writes${store.dialect === 'postgres' ? ' ON connected_accounts' : ''}`,
    ),
  );

describe('a refresh cannot replay a rotated refresh token or lose it', () => {
  let bed: Bed;
  const redisClients: Redis[] = [];
  beforeAll(async () => {
    bed = await oauthBed();
  });
  afterAll(async () => {
    for (const r of redisClients) r.disconnect();
    await bed?.stop();
  });
  beforeEach(async () => {
    bed.server.options.accessTtlSeconds = 3600;
    bed.server.options.tokenDelayMs = 0;
    bed.server.options.rotate = true;
    await bed.connect();
  });
  afterEach(async () => {
    await allowTokenWrites(bed.store);
  });
  const token = (opts = {}) => bed.oauth.accessTokenFor(bed.org.id, bed.user.id, 'vendor', opts);
  const expire = async () => {
    const { store } = bed;
    const { connectedAccounts } = store.t;
    const id = (await bed.connection())!.id;
    await store.changes(
      store.db
        .update(connectedAccounts)
        .set({ expiresAt: Date.now() - 1000 })
        .where(eq(connectedAccounts.id, id)),
    );
  };

  /** Another worker's token service: same database and Redis, its own Redis connection and options. */
  const anotherWorker = (options: OAuthOptions) => {
    const redis = new Redis(bed.t.app.redisUrl, { maxRetriesPerRequest: 3 });
    redisClients.push(redis);
    const a = bed.t.app;
    return new OAuthService({
      store: a.store,
      keyring: a.keyring,
      links: a.links,
      redis,
      audit: a.audit,
      log: a.log,
      publicUrl: a.config.publicUrl,
      net: new NetGuard({ allowPrivate: true }),
      options,
    });
  };

  it('a provider answering after the lock TTL: two workers send one refresh, no replay, and the grant family stays alive', async () => {
    const [w1, w2] = [anotherWorker({ lockTtlMs: 800 }), anotherWorker({ lockTtlMs: 800 })];
    await expire();
    bed.server.options.tokenDelayMs = 2500; // three lock TTLs
    const before = bed.server.refreshRequests().length;
    const first = w1.accessTokenFor(bed.org.id, bed.user.id, 'vendor');
    await vi.waitFor(() => expect(bed.server.refreshRequests().length).toBe(before + 1));
    // The second worker arrives while the first refresh is in flight and keeps trying past the TTL.
    const second = w2.accessTokenFor(bed.org.id, bed.user.id, 'vendor');
    const [a, b] = await Promise.all([first, second]);
    bed.server.options.tokenDelayMs = 0;

    expect(bed.server.refreshRequests().length - before).toBe(1);
    noReplay(bed, before);
    const fresh = bed.server.issuedAccessTokens.at(-1);
    expect(a.kind === 'ok' && a.token.reveal()).toBe(fresh);
    expect(b.kind === 'ok' && b.token.reveal()).toBe(fresh);
    // The provider did not revoke the family: the stored refresh token still works.
    expect((await w2.accessTokenFor(bed.org.id, bed.user.id, 'vendor', { forceRefresh: true })).kind).toBe('ok');
    expect((await bed.connection())!.status).toBe('active');
    noReplay(bed, before);
  });

  it('a holder whose lock was taken over (it expired meanwhile) does not send the refresh token again until it holds the lock', async () => {
    const w = anotherWorker({ lockTtlMs: 5000, backoffMs: 500 });
    await expire();
    const key = `onbehalf:oauth:refresh:${(await bed.connection())!.id}`;
    const redis = new Redis(bed.t.app.redisUrl);
    redisClients.push(redis);
    bed.server.unavailable = 1; // the first attempt gets a 503; the retry comes after the backoff
    const before = bed.server.refreshRequests().length;
    const pending = w.accessTokenFor(bed.org.id, bed.user.id, 'vendor');
    await vi.waitFor(() => expect(bed.server.refreshRequests().length).toBe(before + 1), { interval: 10 });
    // During the backoff another process owns the lock (as after an expiry).
    await redis.set(key, 'another-process', 'PX', 60_000);
    try {
      await vi.waitFor(() => expect(bed.t.logs.containing('refresh lock lost before sending')).not.toEqual([]));
      expect(bed.server.refreshRequests().length).toBe(before + 1);
    } finally {
      // The other owner frees the lock without having stored anything.
      await redis.del(key);
    }
    const r = await pending;
    expect(r.kind).toBe('ok');
    // Once it held the lock again it retried the request the provider had answered with 503: the grant is alive.
    expect(bed.server.refreshRequests().length).toBe(before + 2);
    expect((await w.accessTokenFor(bed.org.id, bed.user.id, 'vendor', { forceRefresh: true })).kind).toBe('ok');
    expect((await bed.connection())!.status).toBe('active');
  });

  it('the database refuses the rotated tokens: the call still works, the next one stores them, and the old refresh token is never sent again', async () => {
    await expire();
    const oldRt = await openRefresh(bed);
    const before = bed.server.refreshRequests().length;
    await refuseTokenWrites(bed.store);

    const r1 = await token();
    expect(bed.server.refreshRequests().length).toBe(before + 1);
    const newAccess = bed.server.issuedAccessTokens.at(-1)!;
    const newRt = bed.server.issuedRefreshTokens.at(-1)!;
    expect(r1.kind === 'ok' && r1.token.reveal()).toBe(newAccess);
    expect(await openRefresh(bed)).toBe(oldRt); // the database still holds the old one

    // The rotated set waits in Redis, sealed: no token in plaintext there.
    const redis = new Redis(bed.t.app.redisUrl);
    redisClients.push(redis);
    const stashed = await redis.get(`onbehalf:oauth:stash:${(await bed.connection())!.id}`);
    expect(stashed).toBeTruthy();
    expect(stashed).not.toContain(newRt);
    expect(stashed).not.toContain(newAccess);

    // Still failing: the stashed token is used, nothing is sent to the provider.
    const r2 = await token();
    expect(r2.kind === 'ok' && r2.token.reveal()).toBe(newAccess);
    expect(bed.server.refreshRequests().length).toBe(before + 1);

    await allowTokenWrites(bed.store);
    const r3 = await token();
    expect(r3.kind === 'ok' && r3.token.reveal()).toBe(newAccess);
    expect(bed.server.refreshRequests().length).toBe(before + 1);
    expect(await openRefresh(bed)).toBe(newRt);
    expect(await redis.get(`onbehalf:oauth:stash:${(await bed.connection())!.id}`)).toBeNull();

    // The next refresh sends the new refresh token, the grant is alive, no invalid_grant anywhere.
    expect((await token({ forceRefresh: true })).kind).toBe('ok');
    expect(bed.server.refreshRequests().at(-1)!.body['refresh_token']).toBe(newRt);
    expect(bed.server.refreshRequests().filter((r) => r.body['refresh_token'] === oldRt)).toHaveLength(1);
    expect((await bed.connection())!.status).toBe('active');
    noReplay(bed, before);
  });

  it('a 2-second token: 50 concurrent calls after it expired make exactly 1 refresh, and the new token is not stale on arrival', async () => {
    bed.server.options.accessTtlSeconds = 2;
    await bed.connect();
    const row = (await bed.connection())!;
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(row.expiresAt!), { timeout: 5000, interval: 50 });
    const before = bed.server.refreshRequests().length;
    const results = await Promise.all(Array.from({ length: 50 }, () => token()));
    expect(bed.server.refreshRequests().length - before).toBe(1);
    const fresh = bed.server.issuedAccessTokens.at(-1);
    expect(results.every((r) => r.kind === 'ok' && r.token.reveal() === fresh)).toBe(true);
    expect((await token()).kind).toBe('ok');
    expect(bed.server.refreshRequests().length - before).toBe(1);
  });
});
