import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { Keyring, LinkSigner, Secret, SealError, SealedValueMismatch } from '../../src/crypto/index.js';
import { getTableColumns, getTableName, is } from 'drizzle-orm';
import { SQLiteTable } from 'drizzle-orm/sqlite-core';
import * as schema from '../../src/db/schema/index.js';
import { sealedColumns, sealedTables } from '../../src/db/sealed.js';
import { testKey } from '../support/env.js';

const ctx = {
  table: 'secrets',
  column: 'value_sealed',
  rowId: 'row-1',
  owner: { org_id: 'org-1', scope: 'org', scope_id: 'org-1', name: 'key' },
};

describe('sealing', () => {
  it('opens what it sealed, and the sealed form names the key but not the value', () => {
    const k = new Keyring([testKey('k1')]);
    const sealed = k.seal('ghp_canary_value', ctx);
    expect(sealed).toMatch(/^v2\.k1\./);
    expect(sealed).not.toContain('ghp_canary_value');
    expect(k.open(sealed, ctx)).toBe('ghp_canary_value');
    expect(k.seal('ghp_canary_value', ctx)).not.toBe(sealed); // fresh IV every time
  });

  it('tampered ciphertext does not open', () => {
    const k = new Keyring([testKey()]);
    const sealed = k.seal('value', ctx);
    const body = Buffer.from(sealed.split('.')[2]!, 'base64url');
    body[14] = body[14]! ^ 0x01;
    const tampered = `v2.k1.${body.toString('base64url')}`;
    expect(() => k.open(tampered, ctx)).toThrow(SealError);
  });

  it('a value moved to another row, column or table does not open', () => {
    const k = new Keyring([testKey()]);
    const sealed = k.seal('value', ctx);
    expect(() => k.open(sealed, { ...ctx, rowId: 'row-2' })).toThrow(/does not open/);
    expect(() => k.open(sealed, { ...ctx, column: 'other' })).toThrow(SealError);
    expect(() => k.open(sealed, { ...ctx, table: 'connected_accounts' })).toThrow(SealError);
  });

  it('a value read for another owner does not open, whatever the field, and says where without the value', () => {
    const k = new Keyring([testKey()]);
    const sealed = k.seal('owner-canary', ctx);
    for (const owner of [
      { ...ctx.owner, org_id: 'org-2' },
      { ...ctx.owner, scope: 'team' },
      { ...ctx.owner, scope_id: 'u-9' },
      { ...ctx.owner, name: 'other' },
      {},
    ]) {
      let caught: unknown;
      try {
        k.open(sealed, { ...ctx, owner });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SealedValueMismatch);
      expect((caught as SealedValueMismatch).code).toBe('sealed_value_mismatch');
      expect((caught as Error).message).toBe(
        'sealed value in secrets.value_sealed (row row-1) does not open: it was moved to another row or owner, tampered with, or sealed under a wrong key',
      );
    }
    // The order owner fields are listed in does not matter; their values do.
    expect(k.open(sealed, { ...ctx, owner: Object.fromEntries(Object.entries(ctx.owner).reverse()) })).toBe(
      'owner-canary',
    );
  });

  it('owner-bound contexts come from one declaration per table', () => {
    const k = new Keyring([testKey()]);
    const grant = { id: 'c1', orgId: 'o1', userId: 'alice', providerId: 'p1' };
    const sealed = k.seal('grant-canary', sealedTables.connectedAccounts.ctx(grant, 'accessTokenSealed'));
    expect(k.open(sealed, sealedTables.connectedAccounts.ctx(grant, 'accessTokenSealed'))).toBe('grant-canary');
    expect(() =>
      k.open(sealed, sealedTables.connectedAccounts.ctx({ ...grant, userId: 'bob' }, 'accessTokenSealed')),
    ).toThrow(SealedValueMismatch);
    expect(() => k.open(sealed, sealedTables.connectedAccounts.ctx(grant, 'refreshTokenSealed'))).toThrow(
      SealedValueMismatch,
    );
    const bot = k.seal(
      'xoxb-canary',
      sealedTables.workspaces.ctx({ id: 'w1', platform: 'slack', workspaceId: 'T1' }, 'botTokenSealed'),
    );
    expect(() =>
      k.open(bot, sealedTables.workspaces.ctx({ id: 'w1', platform: 'slack', workspaceId: 'T2' }, 'botTokenSealed')),
    ).toThrow(SealedValueMismatch);
    const client = k.seal(
      'client-canary',
      sealedTables.oauthProviders.ctx({ id: 'p1', orgId: 'o1', slug: 'github' }, 'clientSecretSealed'),
    );
    expect(() =>
      k.open(client, sealedTables.oauthProviders.ctx({ id: 'p1', orgId: 'o1', slug: 'gitlab' }, 'clientSecretSealed')),
    ).toThrow(SealedValueMismatch);
    expect(sealedColumns).toEqual([
      { table: 'connected_accounts', column: 'access_token_sealed' },
      { table: 'connected_accounts', column: 'refresh_token_sealed' },
      { table: 'connected_accounts', column: 'id_token_sealed' },
      { table: 'oauth_providers', column: 'client_secret_sealed' },
      { table: 'oauth_states', column: 'code_verifier_sealed' },
      { table: 'secrets', column: 'value_sealed' },
      { table: 'workspaces', column: 'bot_token_sealed' },
    ]);
  });

  it('every `_sealed` column of the schema is declared with its owner, so none is left row-bound or unrotated', () => {
    const inSchema = (Object.values(schema) as unknown[])
      .filter((t): t is SQLiteTable => is(t, SQLiteTable))
      .flatMap((t) =>
        Object.values(getTableColumns(t))
          .filter((c) => c.name.endsWith('_sealed'))
          .map((c) => `${getTableName(t)}.${c.name}`),
      );
    expect(inSchema.sort()).toEqual(sealedColumns.map((c) => `${c.table}.${c.column}`).sort());
  });

  it('a value of the first (row-only) format is refused by open; only the upgrade reads it', () => {
    const k = new Keyring([testKey('k1')]);
    const sealed = k.seal('value', ctx);
    const v1 = `v1${sealed.slice(2)}`;
    expect(() => k.open(v1, ctx)).toThrow(/old row-only format/);
    expect(() => k.openLegacy(v1, ctx)).toThrow(SealedValueMismatch); // not sealed under the v1 AAD
    expect(() => k.openLegacy(sealed, ctx)).toThrow(/not of the first format/);
  });

  it('an unknown key id fails closed with a message naming the key id', () => {
    const sealed = new Keyring([testKey('old')]).seal('value', ctx);
    expect(() => new Keyring([testKey('new')]).open(sealed, ctx)).toThrow(/key "old", which is not in ONBEHALF_KEYS/);
  });

  it('a wrong key under the same id fails closed', () => {
    const sealed = new Keyring([testKey('k1')]).seal('value', ctx);
    expect(() => new Keyring([testKey('k1')]).open(sealed, ctx)).toThrow(SealError);
  });

  it('the first key seals and every key opens', () => {
    const oldKey = testKey('old');
    const sealedOld = new Keyring([oldKey]).seal('value', ctx);
    const ring = new Keyring([testKey('new'), oldKey]);
    expect(ring.open(sealedOld, ctx)).toBe('value');
    expect(ring.seal('value', ctx)).toMatch(/^v2\.new\./);
  });

  it('malformed values and missing keys are clear errors', () => {
    const k = new Keyring([testKey()]);
    expect(() => k.open('plaintext', ctx)).toThrow(/malformed/);
    expect(() => new Keyring([])).toThrow(/ONBEHALF_KEYS/);
  });
});

describe('Secret', () => {
  it('prints as [redacted] everywhere but reveal()', () => {
    const s = new Secret('xoxb-canary');
    expect(String(s)).toBe('[redacted]');
    expect(`${s}`).toBe('[redacted]');
    expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
    expect(inspect({ s })).not.toContain('xoxb-canary');
    expect(s.reveal()).toBe('xoxb-canary');
  });
});

describe('signed links', () => {
  it('verify for their purpose only, and not after a key change', async () => {
    const ring = new Keyring([testKey('k1')]);
    const links = new LinkSigner(ring);
    const t = await links.sign('oauth-start', { org: 'o', user: 'u' });
    const ok = await links.verify<{ org: string }>('oauth-start', t);
    expect(ok.kind).toBe('ok');
    if (ok.kind === 'ok') expect(ok.claims.org).toBe('o');
    expect((await links.verify('other-purpose', t)).kind).toBe('invalid');
    expect((await new LinkSigner(new Keyring([testKey('k1')])).verify('oauth-start', t)).kind).toBe('invalid');
    const tampered = t.slice(0, -3) + (t.endsWith('AAA') ? 'BBB' : 'AAA');
    expect((await links.verify('oauth-start', tampered)).kind).toBe('invalid');
  });

  it('expired links say so', async () => {
    const links = new LinkSigner(new Keyring([testKey()]));
    const t = await links.sign('oauth-start', {}, -10);
    expect((await links.verify('oauth-start', t)).kind).toBe('expired');
  });

  it('links signed under an older key still verify while it is in the ring', async () => {
    const oldKey = testKey('old');
    const t = await new LinkSigner(new Keyring([oldKey])).sign('p', {});
    expect((await new LinkSigner(new Keyring([testKey('new'), oldKey])).verify('p', t)).kind).toBe('ok');
  });
});
