import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { is, Table } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Store } from '../../src/db/index.js';
import { pressContinue, TestBrowser } from '../support/oauth-server.js';
import { CLIENT_SECRET, oauthBed, type Bed } from './bed.js';
import { sealedTables } from '../../src/db/sealed.js';

/** Every row of every table, as text: what the database holds, on either dialect. */
const everyRow = async (store: Store) => {
  const tables = Object.values(store.t).filter((v) => is(v, Table)) as SQLiteTable[];
  return JSON.stringify(await Promise.all(tables.map((table) => store.rows(store.db.select().from(table)))));
};

describe('connecting an account', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await oauthBed();
  });
  afterAll(async () => bed?.stop());

  it('start link → provider → callback leaves an active connection naming the vendor account, sealed, with nothing token-like in logs', async () => {
    const { res, html, authorizeUrl, callbackUrl } = await bed.connect(bed.user.id, 'vendor', {
      resumeCallId: 'call-42',
    });
    expect(res.status).toBe(200);
    // Who connected what, and how to undo it (SECURITY 7).
    expect(html).toContain('@bob');
    expect(html).toContain('Alice');
    expect(html).toContain('Acme');
    expect(html).toContain('/onbehalf disconnect vendor');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);

    // The authorize request: exact redirect URI, S256, state, scopes.
    const a = new URL(authorizeUrl).searchParams;
    expect(a.get('redirect_uri')).toBe(`${bed.t.app.config.publicUrl}/oauth/callback`);
    expect(a.get('code_challenge_method')).toBe('S256');
    expect(a.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.get('state')!.length).toBeGreaterThanOrEqual(43);
    expect(a.get('scope')).toBe('repo');

    const row = (await bed.connection())!;
    expect(row.status).toBe('active');
    expect(row.vendorLogin).toBe('@bob');
    const issued = bed.server.issuedAccessTokens[0]!;
    expect(
      bed.t.app.keyring.open(row.accessTokenSealed!, sealedTables.connectedAccounts.ctx(row, 'accessTokenSealed')),
    ).toBe(issued);
    expect(
      bed.t.app.keyring.open(row.refreshTokenSealed!, sealedTables.connectedAccounts.ctx(row, 'refreshTokenSealed')),
    ).toBe(bed.server.issuedRefreshTokens[0]);
    expect(row.accessTokenSealed).not.toContain(issued.slice(0, 20));

    const r = await bed.oauth.accessTokenFor(bed.org.id, bed.user.id, 'vendor');
    expect(r.kind).toBe('ok');
    if (r.kind === 'ok') {
      expect(r.token.reveal()).toBe(issued);
      expect(r.vendorAccount).toBe('@bob');
      expect(String(r.token)).toBe('[redacted]');
    }
    expect(await bed.oauth.listConnections(bed.org.id, bed.user.id)).toEqual([
      expect.objectContaining({ providerSlug: 'vendor', status: 'active', vendorLogin: '@bob', scopes: ['repo'] }),
    ]);
    const active = bed.events.find((e) => e.name === 'grantArrived');
    expect(active?.payload).toMatchObject({
      providerSlug: 'vendor',
      vendorLogin: '@bob',
      resumeCallId: 'call-42',
      userId: bed.user.id,
    });
    expect(
      (await bed.t.app.audit.query(bed.org.id)).some(
        (e) => e.action === 'connect' && e.outcome === 'connected' && e.vendorAccount === '@bob',
      ),
    ).toBe(true);

    // Nothing token-like in logs, in the event, in any row, or (SQLite) anywhere in the database file.
    const code = new URL(callbackUrl).searchParams.get('code')!;
    const canaries = [issued, bed.server.issuedRefreshTokens[0]!, CLIENT_SECRET, code];
    expect(bed.t.logs.containing(...canaries)).toEqual([]);
    expect(JSON.stringify(bed.events)).not.toContain(issued);
    const rows = await everyRow(bed.store);
    expect(rows).toContain(row.accessTokenSealed);
    for (const c of canaries.slice(0, 3)) expect(rows).not.toContain(c);
    if (bed.store.dialect === 'sqlite') {
      const file =
        readFileSync(bed.t.app.config.databasePath).toString('latin1') +
        readFileSync(`${bed.t.app.config.databasePath}-wal`).toString('latin1');
      for (const c of canaries.slice(0, 3)) expect(file).not.toContain(c);
    }
  });

  it('a connect link for another provider slug that does not exist is refused and stores nothing', async () => {
    const link = await bed.oauth.connectLink(bed.org.id, bed.user.id, 'nope');
    const res = await fetch(link, { redirect: 'manual' });
    expect(res.status).toBe(404);
  });

  it('no route takes a redirect parameter: ?next= on start and callback does not send the browser anywhere else', async () => {
    const link = await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor');
    const browser = new TestBrowser();
    const shown = await browser.fetch(`${link}&next=https://evil.example&return_to=https://evil.example`);
    expect(shown.status).toBe(200);
    const res = await pressContinue(browser, link, await shown.text(), { next: 'https://evil.example' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')!.startsWith(bed.server.issuer)).toBe(true);
    expect(res.headers.get('location')).not.toContain('evil');
    const cb = await fetch(`${bed.t.baseUrl}/oauth/callback?next=https://evil.example`, { redirect: 'manual' });
    expect(cb.status).toBe(400);
    expect(cb.headers.get('location')).toBeNull();
  });

  it('the provider refusing consent becomes a clear page and a failed connect in the audit log, and nothing is stored', async () => {
    const before = (await bed.connection())!.version;
    const link = await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor');
    const browser = new TestBrowser();
    const start = await pressContinue(browser, link, await (await browser.fetch(link)).text());
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const res = await browser.fetch(
      `${bed.t.baseUrl}/oauth/callback?state=${state}&error=access_denied&iss=${encodeURIComponent(bed.server.issuer)}`,
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('declined');
    expect(html).toContain('Nothing was changed');
    expect(
      (await bed.t.app.audit.query(bed.org.id)).some(
        (e) =>
          e.action === 'connect' &&
          e.outcome === 'failed' &&
          e.onBehalfOfUserId === bed.user.id &&
          (e.detail as { error?: string }).error === 'access_denied',
      ),
    ).toBe(true);
    expect((await bed.connection())!.version).toBe(before);
  });
});
