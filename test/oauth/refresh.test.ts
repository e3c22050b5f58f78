import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { continueFlow } from '../support/oauth-server.js';
import { oauthBed, type Bed } from './bed.js';
import { sealedTables } from '../../src/db/sealed.js';

const openRefresh = async (bed: Bed) => {
  const row = (await bed.connection())!;
  return bed.t.app.keyring.open(row.refreshTokenSealed!, sealedTables.connectedAccounts.ctx(row, 'refreshTokenSealed'));
};

describe("tokens are refreshed in time, once, and never replaced by someone else's", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await oauthBed({ server: { accessTtlSeconds: 30 } });
  });
  afterAll(async () => bed?.stop());
  beforeEach(async () => {
    bed.server.options.accessTtlSeconds = 30;
    bed.server.options.rotate = true;
    await bed.connect();
    // An hour-long grant with 30 s left: inside the 60 s margin (a token that only ever lived 30 s
    // is fresh for 27 s, its margin being a tenth of its lifetime).
    const row = (await bed.connection())!;
    await bed.store.changes(
      bed.store.db
        .update(bed.store.t.connectedAccounts)
        .set({ expiresAt: Date.now() + 30_000, updatedAt: Date.now() - 3_570_000 })
        .where(eq(bed.store.t.connectedAccounts.id, row.id)),
    );
  });
  const token = (opts = {}) => bed.oauth.accessTokenFor(bed.org.id, bed.user.id, 'vendor', opts);

  it('a token expiring in 30 s is refreshed before use, and the rotated refresh token is stored', async () => {
    const before = bed.server.refreshRequests().length;
    const issuedRt = bed.server.issuedRefreshTokens.at(-1)!;
    const r = await token();
    expect(r.kind).toBe('ok');
    expect(bed.server.refreshRequests().length).toBe(before + 1);
    expect(bed.server.refreshRequests().at(-1)!.body['refresh_token']).toBe(issuedRt);
    if (r.kind === 'ok') expect(r.token.reveal()).toBe(bed.server.issuedAccessTokens.at(-1));
    expect(await openRefresh(bed)).toBe(bed.server.issuedRefreshTokens.at(-1));
    expect(await openRefresh(bed)).not.toBe(issuedRt);
  });

  it('an old refresh token is never sent again', async () => {
    for (let i = 0; i < 3; i++) expect((await token({ forceRefresh: true })).kind).toBe('ok');
    const sent = bed.server.refreshRequests().map((r) => r.body['refresh_token']);
    expect(new Set(sent).size).toBe(sent.length);
    expect((await bed.connection())!.status).toBe('active');
  });

  it('forceRefresh on a valid token gets a new one', async () => {
    bed.server.options.accessTtlSeconds = 3600;
    const first = await token();
    const forced = await token({ forceRefresh: true });
    expect(first.kind === 'ok' && forced.kind === 'ok' && first.token.reveal() !== forced.token.reveal()).toBe(true);
    if (forced.kind === 'ok') expect(forced.token.reveal()).toBe(bed.server.issuedAccessTokens.at(-1));
    const again = await token();
    expect(again.kind === 'ok' && forced.kind === 'ok' && again.token.reveal() === forced.token.reveal()).toBe(true);
  });

  it('a response without a refresh token keeps the old one, which keeps working', async () => {
    bed.server.options.rotate = false;
    const rt = await openRefresh(bed);
    expect((await token({ forceRefresh: true })).kind).toBe('ok');
    expect(await openRefresh(bed)).toBe(rt);
    expect((await token({ forceRefresh: true })).kind).toBe('ok');
  });

  it('invalid_grant marks the connection needs_reauth, audits, and stops calling the provider', async () => {
    bed.server.invalidGrantOnce = true;
    const r = await token();
    expect(r.kind).toBe('needs_reauth');
    expect((await bed.connection())!.status).toBe('needs_reauth');
    expect((await bed.t.app.audit.query(bed.org.id)).find((e) => e.action === 'needs_reauth')).toMatchObject({
      onBehalfOfUserId: bed.user.id,
      detail: expect.objectContaining({ provider: 'vendor' }),
    });
    const calls = bed.server.refreshRequests().length;
    expect((await token()).kind).toBe('needs_reauth');
    expect((await token({ forceRefresh: true })).kind).toBe('needs_reauth');
    expect(bed.server.refreshRequests().length).toBe(calls);
  });

  it('a provider 503 is retried with backoff and the connection stays active', async () => {
    bed.server.unavailable = 2;
    const before = bed.server.seen('/token').length;
    const r = await token();
    expect(r.kind).toBe('ok');
    expect(bed.server.seen('/token').length).toBe(before + 3);
    expect((await bed.connection())!.status).toBe('active');
  });

  it('a provider down for longer gives "unavailable", audited, and the connection stays active', async () => {
    bed.server.unavailable = 10;
    const r = await token();
    expect(r.kind).toBe('unavailable');
    expect((await bed.connection())!.status).toBe('active');
    expect((await bed.t.app.audit.query(bed.org.id)).some((e) => e.action === 'refresh_failed')).toBe(true);
    bed.server.unavailable = 0;
    expect((await token()).kind).toBe('ok');
  });

  it('a stale writer cannot overwrite a newer token (version check)', async () => {
    const row = (await bed.connection())!;
    bed.server.options.tokenDelayMs = 300;
    const asked = bed.server.refreshRequests().length;
    const pending = token();
    // The refresh has reached the provider, which answers only after 300 ms.
    await vi.waitFor(() => expect(bed.server.refreshRequests()).toHaveLength(asked + 1), {
      timeout: 2000,
      interval: 5,
    });
    // Meanwhile another writer stores a newer token.
    const newer = bed.t.app.keyring.seal('newer-token', sealedTables.connectedAccounts.ctx(row, 'accessTokenSealed'));
    await bed.store.changes(
      bed.store.db
        .update(bed.store.t.connectedAccounts)
        .set({ accessTokenSealed: newer, expiresAt: Date.now() + 3_600_000, version: row.version + 1 })
        .where(eq(bed.store.t.connectedAccounts.id, row.id)),
    );
    const r = await pending;
    bed.server.options.tokenDelayMs = 0;
    expect(bed.server.refreshRequests().length).toBeGreaterThan(0);
    expect(r.kind === 'ok' && r.token.reveal()).toBe('newer-token');
    expect((await bed.connection())!.accessTokenSealed).toBe(newer);
  });

  it('invalid_grant after another process rotated is not a dead grant: the row is re-read and its token used', async () => {
    const row = (await bed.connection())!;
    bed.server.options.tokenDelayMs = 300;
    bed.server.invalidGrantOnce = true;
    const asked = bed.server.refreshRequests().length;
    const pending = token();
    // The refresh has reached the provider, which answers only after 300 ms.
    await vi.waitFor(() => expect(bed.server.refreshRequests()).toHaveLength(asked + 1), {
      timeout: 2000,
      interval: 5,
    });
    const newer = bed.t.app.keyring.seal(
      'rotated-elsewhere',
      sealedTables.connectedAccounts.ctx(row, 'accessTokenSealed'),
    );
    await bed.store.changes(
      bed.store.db
        .update(bed.store.t.connectedAccounts)
        .set({ accessTokenSealed: newer, expiresAt: Date.now() + 3_600_000, version: row.version + 1 })
        .where(eq(bed.store.t.connectedAccounts.id, row.id)),
    );
    const r = await pending;
    bed.server.options.tokenDelayMs = 0;
    expect(r.kind === 'ok' && r.token.reveal()).toBe('rotated-elsewhere');
    expect((await bed.connection())!.status).toBe('active');
  });

  it('a grant missing required scopes asks for the union and the old grant keeps working until the new one arrives', async () => {
    const r = await token({ requiredScopes: ['repo', 'admin:org'] });
    expect(r).toMatchObject({ kind: 'insufficient_scope', missingScopes: ['admin:org'] });
    const link = await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor', { extraScopes: ['admin:org'] });
    const { res: start } = await continueFlow(link);
    expect(new URL(start.headers.get('location')!).searchParams.get('scope')).toBe('repo admin:org');
    expect((await token()).kind).toBe('ok');
    await bed.connect(bed.user.id, 'vendor', { extraScopes: ['admin:org'] });
    expect((await token({ requiredScopes: ['repo', 'admin:org'] })).kind).toBe('ok');
  });

  it('a token that never expires (GitHub OAuth app) works without refresh', async () => {
    bed.server.options.accessTtlSeconds = 0;
    await bed.connect();
    const calls = bed.server.refreshRequests().length;
    const r = await token();
    expect(r).toMatchObject({ kind: 'ok', expiresAt: null });
    expect(bed.server.refreshRequests().length).toBe(calls);
  });

  it('a user who never connected gets "missing"; an unknown provider is named', async () => {
    const { user: carol } = await bed.t.app.identity.resolve({
      platform: 'shell',
      workspaceId: 'local',
      userId: 'carol',
    });
    expect(await bed.oauth.accessTokenFor(bed.org.id, carol.id, 'vendor')).toMatchObject({ kind: 'missing' });
    expect(await bed.oauth.accessTokenFor(bed.org.id, carol.id, 'nope')).toMatchObject({ kind: 'unknown_provider' });
  });
});
