import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/db/index.js';
import { Identity, LinkCodes } from '../../src/identity/index.js';

const slackAlice = { platform: 'slack' as const, workspaceId: 'T1', userId: 'U1', displayName: 'Alice' };
const discordAlice = { platform: 'discord' as const, workspaceId: 'G1', userId: '1001', displayName: 'alice#1' };

function setup() {
  const db = openDb(':memory:');
  return { db, identity: new Identity(db, ['slack:T1:UADMIN']), codes: new LinkCodes(db) };
}

describe('identities and link codes', () => {
  it('first contact creates the org and the user; admins come from ONBEHALF_ADMINS', () => {
    const { identity } = setup();
    const a = identity.resolve(slackAlice);
    expect(a.user.role).toBe('member');
    expect(identity.resolve(slackAlice).user.id).toBe(a.user.id);
    const admin = identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'UADMIN' });
    expect(admin.user.role).toBe('admin');
    expect(admin.org.id).toBe(a.org.id);
    expect(identity.resolve({ platform: 'slack', workspaceId: 'T2', userId: 'U1' }).org.id).not.toBe(a.org.id);
  });

  it('a code from Slack merges the Discord identity into the same user', () => {
    const { identity, codes } = setup();
    const alice = identity.resolve(slackAlice);
    const other = identity.resolve(discordAlice);
    expect(other.user.id).not.toBe(alice.user.id);
    const { code } = codes.create(alice.org.id, alice.user.id);
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    const r = codes.redeem(discordAlice, code.toLowerCase());
    expect(r).toMatchObject({ kind: 'linked', userId: alice.user.id, orgId: alice.org.id });
    const now = identity.resolve(discordAlice);
    expect(now.user.id).toBe(alice.user.id);
    expect(now.org.id).toBe(alice.org.id);
    expect(identity.linkedIdentities(alice.org.id, alice.user.id).map((l) => l.platform).sort()).toEqual(['discord', 'slack']);
    // The guild now belongs to Alice's org: a new Discord member of it lands there too.
    expect(identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '2002' }).org.id).toBe(alice.org.id);
  });

  it('a used code does not work twice', () => {
    const { identity, codes } = setup();
    const alice = identity.resolve(slackAlice);
    identity.resolve(discordAlice);
    const { code } = codes.create(alice.org.id, alice.user.id);
    expect(codes.redeem(discordAlice, code).kind).toBe('linked');
    const mallory = { platform: 'discord' as const, workspaceId: 'G1', userId: '666' };
    identity.resolve(mallory);
    expect(codes.redeem(mallory, code).kind).toBe('invalid');
    expect(identity.resolve(mallory).user.id).not.toBe(alice.user.id);
  });

  it('an expired code does not work', () => {
    const db = openDb(':memory:');
    const identity = new Identity(db);
    const codes = new LinkCodes(db, { ttlMs: -1 });
    const alice = identity.resolve(slackAlice);
    identity.resolve(discordAlice);
    const { code } = codes.create(alice.org.id, alice.user.id);
    expect(codes.redeem(discordAlice, code).kind).toBe('invalid');
  });

  it('five wrong codes start a cool-down in which even the right code is refused', () => {
    const { identity, codes } = setup();
    const alice = identity.resolve(slackAlice);
    identity.resolve(discordAlice);
    const { code } = codes.create(alice.org.id, alice.user.id);
    for (let i = 0; i < 5; i++) expect(codes.redeem(discordAlice, 'ZZZZZZZZ').kind).toBe('invalid');
    const r = codes.redeem(discordAlice, code);
    expect(r.kind).toBe('cooldown');
    if (r.kind === 'cooldown') expect(r.retryAfterMs).toBeGreaterThan(9 * 60_000);
    expect(identity.resolve(discordAlice).user.id).not.toBe(alice.user.id);
  });

  it('a workspace that is already an org with other people is not taken over by a link', () => {
    const { identity, codes } = setup();
    const alice = identity.resolve(slackAlice);
    identity.resolve(discordAlice);
    identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '2002' });
    const { code } = codes.create(alice.org.id, alice.user.id);
    expect(codes.redeem(discordAlice, code)).toMatchObject({ kind: 'conflict' });
  });

  it('a user id from another org is not found (queries are org-scoped)', () => {
    const { identity } = setup();
    const a = identity.resolve(slackAlice);
    const b = identity.resolve({ platform: 'slack', workspaceId: 'T9', userId: 'U9' });
    expect(identity.user(b.org.id, a.user.id)).toBeUndefined();
    expect(identity.userByRef(b.org.id, 'slack', 'T9', `<@U1>`)).toBeUndefined();
    expect(identity.userByRef(a.org.id, 'slack', 'T1', `<@U1>`)?.id).toBe(a.user.id);
  });
});
