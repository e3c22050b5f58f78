import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { copyFileSync, readFileSync } from 'node:fs';
import { openDb, runMigrations, newId, sqliteStore } from '../../src/db/index.js';
import { Keyring, rotateKeys } from '../../src/crypto/index.js';
import { connectedAccounts, oauthProviders, orgs, secrets, users, linkedAccounts } from '../../src/db/schema/index.js';
import { sealedTables } from '../../src/db/sealed.js';
import { tempDir, testKey } from '../support/env.js';
import { runCli } from '../support/cli.js';

function seed(file: string, ring: Keyring) {
  const db = openDb(file);
  const orgId = newId();
  const userId = newId();
  const providerId = newId();
  const connId = newId();
  const secretId = newId();
  db.insert(orgs).values({ id: orgId, name: 'Acme' }).run();
  db.insert(users).values({ id: userId, orgId, displayName: 'Alice' }).run();
  db.insert(oauthProviders)
    .values({
      id: providerId,
      orgId,
      slug: 'github',
      kind: 'github',
      displayName: 'GitHub',
      clientId: 'cid',
      clientSecretSealed: ring.seal(
        'client-secret-canary',
        sealedTables.oauthProviders.ctx({ id: providerId, orgId, slug: 'github' }, 'clientSecretSealed'),
      ),
      authorizeUrl: 'https://github.com/login/oauth/authorize',
      tokenUrl: 'https://github.com/login/oauth/access_token',
    })
    .run();
  db.insert(connectedAccounts)
    .values({
      id: connId,
      orgId,
      userId,
      providerId,
      status: 'active',
      updatedAt: Date.now(),
      accessTokenSealed: ring.seal(
        'gho_access_canary',
        sealedTables.connectedAccounts.ctx({ id: connId, orgId, userId, providerId }, 'accessTokenSealed'),
      ),
      refreshTokenSealed: ring.seal(
        'ghr_refresh_canary',
        sealedTables.connectedAccounts.ctx({ id: connId, orgId, userId, providerId }, 'refreshTokenSealed'),
      ),
    })
    .run();
  db.insert(secrets)
    .values({
      id: secretId,
      orgId,
      scope: 'org',
      scopeId: orgId,
      name: 'key',
      updatedAt: Date.now(),
      valueSealed: ring.seal(
        'org-secret-canary',
        sealedTables.secrets.ctx({ id: secretId, orgId, scope: 'org', scopeId: orgId, name: 'key' }, 'valueSealed'),
      ),
    })
    .run();
  return { db, orgId, userId, providerId, connId, secretId };
}

describe('storage', () => {
  it('migrations apply to an empty file, and a second run changes nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'x.db');
      const db = openDb(file, { migrate: false });
      expect(runMigrations(db)).toBeGreaterThan(0);
      const schemaBefore = db.$client.prepare('select sql from sqlite_master order by name').all();
      expect(runMigrations(db)).toBe(0);
      expect(db.$client.prepare('select sql from sqlite_master order by name').all()).toEqual(schemaBefore);
      db.$client.close();
      const first = await runCli(['migrate'], { cwd: dir, env: { DATABASE_URL: `file:${path.join(dir, 'cli.db')}` } });
      expect(first.stdout).toMatch(/Applied \d+ migration/);
      const second = await runCli(['migrate'], { cwd: dir, env: { DATABASE_URL: `file:${path.join(dir, 'cli.db')}` } });
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/up to date/);
    } finally {
      cleanup();
    }
  });

  it('runs with WAL, foreign keys and a busy timeout', () => {
    const db = openDb(':memory:');
    expect(db.$client.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.$client.pragma('busy_timeout', { simple: true })).toBe(5000);
    const { dir, cleanup } = tempDir();
    const fileDb = openDb(path.join(dir, 'w.db'));
    expect(fileDb.$client.pragma('journal_mode', { simple: true })).toBe('wal');
    fileDb.$client.close();
    cleanup();
  });

  it('unique constraints hold the invariants', () => {
    const ring = new Keyring([testKey()]);
    const { dir, cleanup } = tempDir();
    const { db, orgId, userId, providerId } = seed(path.join(dir, 'u.db'), ring);
    expect(() =>
      db
        .insert(connectedAccounts)
        .values({ id: newId(), orgId, userId, providerId, status: 'active', updatedAt: 0 })
        .run(),
    ).toThrow(/UNIQUE/);
    db.insert(linkedAccounts)
      .values({ id: newId(), orgId, userId, platform: 'slack', workspaceId: 'T1', platformUserId: 'U1' })
      .run();
    expect(() =>
      db
        .insert(linkedAccounts)
        .values({ id: newId(), orgId, userId, platform: 'slack', workspaceId: 'T1', platformUserId: 'U1' })
        .run(),
    ).toThrow(/UNIQUE/);
    expect(() => db.insert(users).values({ id: newId(), orgId: 'no-such-org', displayName: 'x' }).run()).toThrow(
      /FOREIGN KEY/,
    );
    db.$client.close();
    cleanup();
  });

  it('a copy of the SQLite file shows no token or secret in plaintext', () => {
    const ring = new Keyring([testKey()]);
    const { dir, cleanup } = tempDir();
    const file = path.join(dir, 's.db');
    const { db } = seed(file, ring);
    db.$client.pragma('wal_checkpoint(TRUNCATE)');
    copyFileSync(file, path.join(dir, 'copy.db'));
    const bytes = readFileSync(path.join(dir, 'copy.db')).toString('latin1');
    expect(bytes).toContain('cid'); // the data really is in the copy
    for (const canary of ['client-secret-canary', 'gho_access_canary', 'ghr_refresh_canary', 'org-secret-canary']) {
      expect(bytes).not.toContain(canary);
    }
    db.$client.close();
    cleanup();
  });

  it('keys rotate re-seals values written under an old key, and they still open', async () => {
    const oldKey = testKey('old');
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'r.db');
      const { db, connId, secretId, orgId, userId, providerId } = seed(file, new Keyring([oldKey]));
      const newKey = testKey('new');
      const ring = new Keyring([newKey, oldKey]);
      const report = await rotateKeys(sqliteStore(db), ring);
      expect(report.columns.reduce((n, c) => n + c.resealed, 0)).toBe(4);
      const row = db.$client
        .prepare('select access_token_sealed a from connected_accounts where id = ?')
        .get(connId) as { a: string };
      expect(row.a).toMatch(/^v2\.new\./);
      expect(
        new Keyring([newKey]).open(
          row.a,
          sealedTables.connectedAccounts.ctx({ id: connId, orgId, userId, providerId }, 'accessTokenSealed'),
        ),
      ).toBe('gho_access_canary');
      expect((await rotateKeys(sqliteStore(db), ring)).columns.reduce((n, c) => n + c.resealed, 0)).toBe(0);
      const s = db.$client.prepare('select value_sealed v from secrets where id = ?').get(secretId) as { v: string };
      expect(
        new Keyring([newKey]).open(
          s.v,
          sealedTables.secrets.ctx({ id: secretId, orgId, scope: 'org', scopeId: orgId, name: 'key' }, 'valueSealed'),
        ),
      ).toBe('org-secret-canary');
      db.$client.close();

      // The CLI does the same and reports counts; a missing old key fails closed and changes nothing.
      const { db: db2 } = seed(path.join(dir, 'cli.db'), new Keyring([oldKey]));
      db2.$client.close();
      const env = { DATABASE_URL: `file:${path.join(dir, 'cli.db')}`, ONBEHALF_DATA_DIR: dir };
      const missing = await runCli(['keys', 'rotate'], { cwd: dir, env: { ...env, ONBEHALF_KEYS: newKey } });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/key "old", which is not in ONBEHALF_KEYS/);
      const ok = await runCli(['keys', 'rotate'], { cwd: dir, env: { ...env, ONBEHALF_KEYS: `${newKey},${oldKey}` } });
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/Re-sealed 4 value\(s\) under key new/);
      expect(ok.stdout + ok.stderr).not.toContain(newKey.slice(4));
    } finally {
      cleanup();
    }
  });
});
