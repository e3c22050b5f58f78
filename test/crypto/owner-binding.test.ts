import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { createCipheriv, randomBytes } from 'node:crypto';
import path from 'node:path';
import { Keyring, Secret, rotateKeys, upgradeSeals } from '../../src/crypto/index.js';
import { newId, openDb } from '../../src/db/index.js';
import { sealedTables } from '../../src/db/sealed.js';
import { ShellOutbound } from '../../src/platforms/shell/index.js';
import { oauthBed, CLIENT_SECRET, type Bed } from '../oauth/bed.js';
import { startMcpHttpServer, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { ShellSession } from '../support/shell.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { startTestApp } from '../support/app.js';
import { tempDir, testKey } from '../support/env.js';
import { testStore } from '../support/store.js';

// The attacker can write the database (a stolen backup restored, a shared SQLite file, a SQL
// injection elsewhere) but not read the sealing key. Every attack below is plain SQL on the real
// file the app uses, through a connection of the attacker's own.

const GRANT_WARN = 'a stored grant does not open for its owner; it needs reconnecting';

describe('a sealed value moved to another owner does not open (SECURITY 8, 38)', () => {
  let bed: Bed;
  let mcp: TestMcpHttpServer;
  let sql: Database.Database;
  const sessions = new Map<string, ShellSession>();
  const as = (user: string) => {
    if (!sessions.has(user)) sessions.set(user, new ShellSession(bed.t.app.chat, user));
    return sessions.get(user)!;
  };
  const userId = async (name: string) =>
    (await bed.t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: name })).user.id;
  const rowOf = (uid: string, providerSlug = 'vendor') =>
    sql
      .prepare(
        'select c.* from connected_accounts c join oauth_providers p on p.id = c.provider_id where c.user_id = ? and p.slug = ?',
      )
      .get(uid, providerSlug) as
      { id: string; access_token_sealed: string; refresh_token_sealed: string; status: string } | undefined;
  const providerId = (orgId: string, slug: string) =>
    (sql.prepare('select id from oauth_providers where org_id = ? and slug = ?').get(orgId, slug) as { id: string }).id;
  const callsWith = (header: string, value: string) => mcp.calls.filter((c) => c.seen[header] === value).length;

  // Each connect uses a vendor account new to the org: one vendor account serves one person (SECURITY 32).
  let logins = 0;
  const connectFresh = () => {
    bed.server.login = `alice-at-vendor-${++logins}`;
    return bed.connect();
  };

  beforeAll(async () => {
    bed = await oauthBed({ server: { refreshTokens: true } });
    mcp = await startMcpHttpServer();
    bed.t.app.outbound.register('shell', new ShellOutbound((u) => sessions.get(u)?.stream));
    const { org } = bed;
    const oauth = bed.oauth;
    const added = await oauth.addProvider(org.id, {
      slug: 'other',
      kind: 'oauth2',
      clientId: 'client-2',
      clientSecret: new Secret('other-secret-canary-91c2'),
      scopes: ['repo'],
      ...bed.server.endpoints,
    });
    if (!added.ok) throw new Error(JSON.stringify(added.error));
    const p = bed.t.app.policy;
    for (const [name, target, source, template] of [
      ['tools', 'Authorization', 'oauth:vendor', 'Bearer {token}'],
      ['keyed', 'X-Deploy', 'org_secret:deploy', undefined],
      ['mine', 'X-Token', 'user_secret:token', undefined],
    ] as const) {
      expect((await p.addServer(org.id, { name, transport: 'http', url: mcp.url })).ok).toBe(true);
      expect((await p.bind(org.id, name, 'header', target, source, template)).ok).toBe(true);
    }
    sql = new Database(bed.t.app.config.databasePath);
    sql.pragma('busy_timeout = 5000');
  });
  afterAll(async () => {
    sql?.close();
    for (const s of sessions.values()) await s.close();
    await mcp?.stop();
    await bed?.stop();
  });

  it("Alice's grant moved to Bob does not open: Bob's call never presents Alice's token, he is asked to connect, and it is logged once", async () => {
    const alice = bed.user.id;
    const bob = await userId('bob');
    await connectFresh();
    const aliceToken = bed.server.issuedAccessTokens.at(-1)!;
    // Her own call works and carries her token (the setup is real).
    const a = as('alice');
    await a.send('/onbehalf run tools.whoami {}');
    await vi.waitFor(() => expect(callsWith('authorization', `Bearer ${aliceToken}`)).toBe(1), { timeout: 15_000 });

    sql.prepare('update connected_accounts set user_id = ? where user_id = ?').run(bob, alice);

    const b = as('bob');
    for (let i = 0; i < 2; i++) {
      const from = b.output.length;
      await b.send('/onbehalf run tools.whoami {}');
      await b.waitFor(/→ Reconnect vendor: \S+/, from);
    }
    expect(callsWith('authorization', `Bearer ${aliceToken}`)).toBe(1);
    expect(rowOf(bob)!.status).toBe('needs_reauth');
    const warns = bed.t.logs.lines.filter((l) => l.includes(GRANT_WARN));
    expect(warns).toHaveLength(1);
    expect(JSON.parse(warns[0]!)).toMatchObject({ level: 40, sealError: 'sealed_value_mismatch' });
    expect(bed.t.logs.containing(aliceToken)).toEqual([]);
    expect(b.output).not.toMatch(/\n\s+at |Error:/);
  });

  it('a grant moved to another provider of the same user does not open', async () => {
    const alice = bed.user.id;
    await connectFresh();
    const token = bed.server.issuedAccessTokens.at(-1)!;
    const row = rowOf(alice)!;
    sql
      .prepare('update connected_accounts set provider_id = ? where id = ?')
      .run(providerId(bed.org.id, 'other'), row.id);
    const r = await bed.oauth.accessTokenFor(bed.org.id, alice, 'other');
    expect(r).toMatchObject({ kind: 'needs_reauth', providerSlug: 'other', reason: 'sealed_value_mismatch' });
    expect(JSON.stringify(r)).not.toContain(token);
  });

  it('an expired grant moved to another user is not refreshed with its refresh token: that user must reconnect', async () => {
    const alice = bed.user.id;
    const dave = await userId('dave');
    await connectFresh();
    const row = rowOf(alice)!;
    const refreshes = bed.server.refreshRequests().length;
    sql
      .prepare('update connected_accounts set user_id = ?, expires_at = ? where id = ?')
      .run(dave, Date.now() - 60_000, row.id);
    const r = await bed.oauth.accessTokenFor(bed.org.id, dave, 'vendor');
    expect(r).toMatchObject({ kind: 'needs_reauth', providerSlug: 'vendor', reason: 'sealed_value_mismatch' });
    expect(bed.server.refreshRequests()).toHaveLength(refreshes);
    expect(rowOf(dave)!.status).toBe('needs_reauth');
  });

  it('a grant moved to a user and provider of another org does not open', async () => {
    const alice = bed.user.id;
    const { org: evil, user: eve } = await bed.t.app.identity.resolve({
      platform: 'shell',
      workspaceId: 'elsewhere',
      userId: 'eve',
      workspaceName: 'Evil',
    });
    expect(evil.id).not.toBe(bed.org.id);
    const added = await bed.oauth.addProvider(evil.id, {
      slug: 'vendor',
      kind: 'oauth2',
      clientId: 'client-3',
      scopes: ['repo'],
      ...bed.server.endpoints,
    });
    if (!added.ok) throw new Error(JSON.stringify(added.error));
    await connectFresh();
    const token = bed.server.issuedAccessTokens.at(-1)!;
    const row = rowOf(alice)!;
    sql
      .prepare('update connected_accounts set org_id = ?, user_id = ?, provider_id = ? where id = ?')
      .run(evil.id, eve.id, providerId(evil.id, 'vendor'), row.id);
    const r = await bed.oauth.accessTokenFor(evil.id, eve.id, 'vendor');
    expect(r).toMatchObject({ kind: 'needs_reauth', reason: 'sealed_value_mismatch' });
    expect(JSON.stringify(r)).not.toContain(token);
  });

  it("Alice's sealed tokens copied into another user's row do not open there; that user is asked to reconnect", async () => {
    const alice = bed.user.id;
    const carol = await userId('carol');
    await bed.connect(carol);
    const carolToken = bed.server.issuedAccessTokens.at(-1)!;
    await connectFresh();
    const aliceToken = bed.server.issuedAccessTokens.at(-1)!;
    const mine = rowOf(alice)!;
    sql
      .prepare('update connected_accounts set access_token_sealed = ?, refresh_token_sealed = ? where id = ?')
      .run(mine.access_token_sealed, mine.refresh_token_sealed, rowOf(carol)!.id);
    const r = await bed.oauth.accessTokenFor(bed.org.id, carol, 'vendor');
    expect(r).toMatchObject({ kind: 'needs_reauth', reason: 'sealed_value_mismatch' });
    expect(JSON.stringify(r)).not.toContain(aliceToken);
    expect(carolToken).not.toBe(aliceToken);
    // Alice's own grant is untouched.
    const own = await bed.oauth.accessTokenFor(bed.org.id, alice, 'vendor');
    expect(own.kind === 'ok' && own.token.reveal()).toBe(aliceToken);
  });

  it('a secret moved to another name, scope id or scope refuses to open; the call fails with one line and the server never sees it', async () => {
    const org = bed.org.id;
    const bob = await userId('bob');
    const policy = bed.t.app.policy;
    await policy.setSecret(org, 'org', org, 'unused', new Secret('moved-name-canary-5d1'));
    await policy.setSecret(org, 'user', bed.user.id, 'token', new Secret('moved-user-canary-8e2'));
    const b = as('bob');

    // Renamed: the value of `unused` now answers to `deploy`.
    sql.prepare("update secrets set name = 'deploy' where name = 'unused'").run();
    let from = b.output.length;
    await b.send('/onbehalf run keyed.whoami {}');
    let line = (await b.waitFor(/^.*org secret deploy that keyed needs does not open.*$/m, from))[0];
    expect(line).toMatch(/an admin must set it again/);
    expect(callsWith('x-deploy', 'moved-name-canary-5d1')).toBe(0);

    // Moved to another user: Alice's user secret now claims to be Bob's.
    sql.prepare("update secrets set scope_id = ? where name = 'token'").run(bob);
    from = b.output.length;
    await b.send('/onbehalf run mine.whoami {}');
    line = (await b.waitFor(/^.*user secret token that mine needs does not open.*$/m, from))[0];
    expect(callsWith('x-token', 'moved-user-canary-8e2')).toBe(0);
    expect(b.output.slice(from)).not.toMatch(/\n\s+at |Error:/);

    // Moved to another scope: a team's secret relabelled as the org's.
    expect((await policy.team(org, 'create', 'ops')).ok).toBe(true);
    const teamId = (sql.prepare("select id from teams where name = 'ops'").get() as { id: string }).id;
    await policy.setSecret(org, 'team', 'ops', 'promoted', new Secret('moved-scope-canary-3a7'));
    sql
      .prepare("update secrets set scope = 'org', scope_id = ? where scope_id = ? and name = 'promoted'")
      .run(org, teamId);
    const r = await policy.secrets.read(org, 'org', org, 'promoted');
    expect(r.kind).toBe('unreadable');
    if (r.kind !== 'unreadable') return;
    expect(r.error.code).toBe('sealed_value_mismatch');
    expect(r.error.message).toMatch(/^sealed value in secrets\.value_sealed \(row [0-9a-f-]{36}\) does not open/);
    expect(r.error.message).not.toContain('moved-scope-canary-3a7');
    expect(bed.t.logs.containing('moved-name-canary-5d1', 'moved-user-canary-8e2', 'moved-scope-canary-3a7')).toEqual(
      [],
    );
  });

  it("a connect flow moved to another user mid-way is refused at the callback: Alice's consent never becomes Bob's grant", async () => {
    const bob = await userId('bob');
    sql.prepare('delete from connected_accounts where user_id = ?').run(bob);
    const link = await bed.oauth.connectLink(bed.org.id, bed.user.id, 'vendor');
    const step = await authorizeInBrowser(link);
    if (!('callbackUrl' in step)) throw new Error(`start failed: ${step.status}`);
    const tokenRequests = bed.server.seen('/token').length;
    const state = sql.prepare('select id from oauth_states order by created_at desc limit 1').get() as { id: string };
    sql.prepare('update oauth_states set user_id = ? where id = ?').run(bob, state.id);
    const res = await step.browser.fetch(step.callbackUrl);
    const html = await res.text();
    expect(res.status).toBe(400);
    expect(html).toMatch(/does not match what was stored for it/);
    expect(bed.server.seen('/token').length).toBe(tokenRequests);
    expect(rowOf(bob)).toBeUndefined();
  });

  it("a provider's client secret moved with its row into another org is never sent to a token endpoint", async () => {
    const { org: evil, user: eve } = await bed.t.app.identity.resolve({
      platform: 'shell',
      workspaceId: 'elsewhere',
      userId: 'eve',
    });
    sql.prepare("update oauth_providers set org_id = ? where org_id = ? and slug = 'other'").run(evil.id, bed.org.id);
    const link = await bed.oauth.connectLink(evil.id, eve.id, 'other');
    const step = await authorizeInBrowser(link);
    if (!('callbackUrl' in step)) throw new Error(`start failed: ${step.status}`);
    const res = await step.browser.fetch(step.callbackUrl);
    const html = await res.text();
    expect(res.status).toBe(502);
    expect(html).toMatch(/client_secret_does_not_open/);
    expect(bed.server.seen('/token').filter((r) => JSON.stringify(r).includes('other-secret-canary-91c2'))).toEqual([]);
    expect(bed.t.logs.containing('other-secret-canary-91c2', CLIENT_SECRET)).toEqual([]);
  });
});

/** A value sealed the way the first format did: AAD `onbehalf:table:column:rowId`, prefix `v1`. */
function sealV1(entry: string, plaintext: string, table: string, column: string, rowId: string): string {
  const i = entry.indexOf(':');
  const key = Buffer.from(entry.slice(i + 1), 'base64');
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(`onbehalf:${table}:${column}:${rowId}`));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return `v1.${entry.slice(0, i)}.${Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64url')}`;
}

describe('the start-up upgrade of first-format values', () => {
  it('re-seals v1 rows with the owner-bound AAD once; they keep their plaintext, and a v1 value planted afterwards never opens', async () => {
    const key = testKey('k1');
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'old.db');
      const db = openDb(file);
      const ids = {
        org: newId(),
        alice: newId(),
        bob: newId(),
        provider: newId(),
        conn: newId(),
        secret: newId(),
        ws: newId(),
        state: newId(),
      };
      const s = db.$client;
      s.prepare('insert into orgs (id, name) values (?, ?)').run(ids.org, 'Acme');
      s.prepare('insert into users (id, org_id, display_name) values (?, ?, ?), (?, ?, ?)').run(
        ids.alice,
        ids.org,
        'Alice',
        ids.bob,
        ids.org,
        'Bob',
      );
      s.prepare(
        'insert into workspaces (id, org_id, platform, workspace_id, bot_token_sealed) values (?, ?, ?, ?, ?)',
      ).run(ids.ws, ids.org, 'slack', 'T1', sealV1(key, 'xoxb-old-canary', 'workspaces', 'bot_token_sealed', ids.ws));
      s.prepare(
        "insert into oauth_providers (id, org_id, slug, kind, display_name, client_id, client_secret_sealed, authorize_url, token_url) values (?, ?, 'gh', 'github', 'GitHub', 'cid', ?, 'https://a', 'https://t')",
      ).run(
        ids.provider,
        ids.org,
        sealV1(key, 'client-old-canary', 'oauth_providers', 'client_secret_sealed', ids.provider),
      );
      const v1Access = sealV1(key, 'gho-old-canary', 'connected_accounts', 'access_token_sealed', ids.conn);
      s.prepare(
        "insert into connected_accounts (id, org_id, user_id, provider_id, status, access_token_sealed, refresh_token_sealed, updated_at) values (?, ?, ?, ?, 'active', ?, ?, 0)",
      ).run(
        ids.conn,
        ids.org,
        ids.alice,
        ids.provider,
        v1Access,
        sealV1(key, 'ghr-old-canary', 'connected_accounts', 'refresh_token_sealed', ids.conn),
      );
      s.prepare(
        "insert into secrets (id, org_id, scope, scope_id, name, value_sealed, updated_at) values (?, ?, 'org', ?, 'deploy', ?, 0)",
      ).run(ids.secret, ids.org, ids.org, sealV1(key, 'secret-old-canary', 'secrets', 'value_sealed', ids.secret));
      s.prepare(
        "insert into oauth_states (id, org_id, user_id, provider_id, state_hash, code_verifier_sealed, expires_at) values (?, ?, ?, ?, 'h', ?, 0)",
      ).run(
        ids.state,
        ids.org,
        ids.alice,
        ids.provider,
        sealV1(key, 'verifier-old-canary', 'oauth_states', 'code_verifier_sealed', ids.state),
      );
      s.close();

      const env = { DATABASE_URL: `file:${file}`, ONBEHALF_KEYS: key };
      const first = await startTestApp(env, 'cli');
      const ring = first.app.keyring;
      // The ids are our own UUIDs: inlined as literals.
      const read = async (q: string, ...a: string[]) => {
        const text = a.reduce((t, v) => t.replace('?', `'${v}'`), q);
        return Object.values((await first.app.store.execute<Record<string, string>>(sql.raw(text)))[0]!)[0]!;
      };
      const grant = { id: ids.conn, orgId: ids.org, userId: ids.alice, providerId: ids.provider };
      const access = await read('select access_token_sealed from connected_accounts where id = ?', ids.conn);
      expect(access).toMatch(/^v2\.k1\./);
      expect(ring.open(access, sealedTables.connectedAccounts.ctx(grant, 'accessTokenSealed'))).toBe('gho-old-canary');
      expect(
        ring.open(
          await read('select refresh_token_sealed from connected_accounts where id = ?', ids.conn),
          sealedTables.connectedAccounts.ctx(grant, 'refreshTokenSealed'),
        ),
      ).toBe('ghr-old-canary');
      expect(
        ring.open(
          await read('select value_sealed from secrets where id = ?', ids.secret),
          sealedTables.secrets.ctx(
            { id: ids.secret, orgId: ids.org, scope: 'org', scopeId: ids.org, name: 'deploy' },
            'valueSealed',
          ),
        ),
      ).toBe('secret-old-canary');
      expect(
        ring.open(
          await read('select client_secret_sealed from oauth_providers where id = ?', ids.provider),
          sealedTables.oauthProviders.ctx({ id: ids.provider, orgId: ids.org, slug: 'gh' }, 'clientSecretSealed'),
        ),
      ).toBe('client-old-canary');
      expect(
        ring.open(
          await read('select bot_token_sealed from workspaces where id = ?', ids.ws),
          sealedTables.workspaces.ctx({ id: ids.ws, platform: 'slack', workspaceId: 'T1' }, 'botTokenSealed'),
        ),
      ).toBe('xoxb-old-canary');
      expect(
        ring.open(
          await read('select code_verifier_sealed from oauth_states where id = ?', ids.state),
          sealedTables.oauthStates.ctx(
            { id: ids.state, orgId: ids.org, userId: ids.alice, providerId: ids.provider },
            'codeVerifierSealed',
          ),
        ),
      ).toBe('verifier-old-canary');
      // Now bound to Alice: the same value read as Bob's does not open.
      expect(() =>
        ring.open(access, sealedTables.connectedAccounts.ctx({ ...grant, userId: ids.bob }, 'accessTokenSealed')),
      ).toThrow(/does not open/);
      expect(
        first.logs.lines.some(
          (l) => l.includes('sealed values upgraded to owner-bound AAD') && l.includes('"resealed":6'),
        ),
      ).toBe(true);
      // keys rotate re-seals under a new key and keeps the owner binding.
      const newKey = testKey('k2');
      const rotated = await rotateKeys(first.app.store, new Keyring([newKey, key]));
      expect(rotated.columns.reduce((n, c) => n + c.resealed, 0)).toBe(6);
      const after = await read('select access_token_sealed from connected_accounts where id = ?', ids.conn);
      expect(new Keyring([newKey]).open(after, sealedTables.connectedAccounts.ctx(grant, 'accessTokenSealed'))).toBe(
        'gho-old-canary',
      );
      expect(() =>
        new Keyring([newKey]).open(
          after,
          sealedTables.connectedAccounts.ctx({ ...grant, userId: ids.bob }, 'accessTokenSealed'),
        ),
      ).toThrow(/does not open/);
      await first.stop();

      // The attacker moves the row to Bob and puts back the old v1 value (row-bound only), and even
      // deletes the upgrade record; start-up does not bless it, and it does not open.
      const attacker = new Database(file);
      attacker
        .prepare('update connected_accounts set user_id = ?, access_token_sealed = ? where id = ?')
        .run(ids.bob, v1Access, ids.conn);
      attacker.prepare('delete from storage_meta').run();
      attacker.close();
      const second = await startTestApp({ ...env, ONBEHALF_KEYS: `${newKey},${key}` }, 'cli');
      const [planted = ''] = (
        await second.app.store.execute<{ access_token_sealed: string }>(
          sql`select access_token_sealed from connected_accounts where id = ${ids.conn}`,
        )
      ).map((r) => r.access_token_sealed);
      expect(planted).toBe(v1Access);
      expect(() =>
        second.app.keyring.open(
          planted,
          sealedTables.connectedAccounts.ctx({ ...grant, userId: ids.bob }, 'accessTokenSealed'),
        ),
      ).toThrow(/old row-only format/);
      expect(second.logs.lines.some((l) => l.includes('"reason":"mixed_formats"') && l.includes(ids.conn))).toBe(true);
      expect(
        second.logs.containing('gho-old-canary', 'ghr-old-canary', 'secret-old-canary', 'client-old-canary'),
      ).toEqual([]);
      await second.stop();
    } finally {
      cleanup();
    }
  });

  it('replicas starting at once upgrade once: one re-seals, the others find it done, and a rotation afterwards re-seals each under the new key', async () => {
    const key = testKey('k1');
    const ring = new Keyring([key]);
    const store = await testStore();
    try {
      const { orgs, secrets } = store.t;
      const org = newId();
      const ids = [newId(), newId(), newId()];
      await store.changes(store.db.insert(orgs).values({ id: org, name: 'Acme' }));
      for (const [i, id] of ids.entries()) {
        const valueSealed = sealV1(key, `replica-canary-${i}`, 'secrets', 'value_sealed', id);
        await store.changes(
          store.db
            .insert(secrets)
            .values({ id, orgId: org, scope: 'org', scopeId: org, name: `s${i}`, valueSealed, updatedAt: 0 }),
        );
      }
      const [a, b, c] = await Promise.all([
        upgradeSeals(store, ring),
        upgradeSeals(store, ring),
        upgradeSeals(store, ring),
      ]);
      expect([a, b, c].filter((r) => r.ran)).toEqual([{ ran: true, resealed: 3, leftUnopened: [] }]);
      expect([a, b, c].filter((r) => !r.ran)).toHaveLength(2);
      const k2 = testKey('k2');
      const rotated = await rotateKeys(store, new Keyring([k2, key]));
      expect(rotated.columns.find((x) => x.table === 'secrets')?.resealed).toBe(3);
      const after = new Keyring([k2]);
      for (const row of await store.rows(store.db.select().from(secrets)))
        expect(after.open(row.valueSealed, sealedTables.secrets.ctx(row, 'valueSealed'))).toMatch(/^replica-canary-/);
    } finally {
      await store.close();
    }
  });
});
