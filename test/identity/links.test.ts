import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/db/index.js';
import { Identity, LinkCodes, OrgJoins } from '../../src/identity/index.js';

const slackAlice = { platform: 'slack' as const, workspaceId: 'T1', userId: 'U1', displayName: 'Alice' };
const discordAlice = { platform: 'discord' as const, workspaceId: 'G1', userId: '1001', displayName: 'alice#1' };

function setup() {
  const db = openDb(':memory:');
  // discord:G1:1001 starts as the guild's admin, so the guild can be joined to the Slack org.
  return {
    db,
    identity: new Identity(db, ['slack:T1:UADMIN', 'discord:G1:1001']),
    codes: new LinkCodes(db),
    joins: new OrgJoins(db),
  };
}

/** Links across platforms need one org: an admin of each side joins the guild to the Slack org first. */
function joinGuildToSlackOrg({ identity, joins }: ReturnType<typeof setup>) {
  const admin = identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'UADMIN' });
  const guild = identity.resolve(discordAlice);
  const { code } = joins.invite(admin.org.id, admin.user.id);
  expect(joins.join(discordAlice, guild.org.id, code)).toMatchObject({ kind: 'joined', intoOrgId: admin.org.id });
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

  it('a code from Slack merges the Discord identity into the same user, once an admin joined the guild to the org', () => {
    const s = setup();
    const { identity, codes } = s;
    const alice = identity.resolve(slackAlice);
    const other = identity.resolve(discordAlice);
    expect(other.user.id).not.toBe(alice.user.id);
    joinGuildToSlackOrg(s);
    const { code } = codes.create(alice.org.id, alice.user.id);
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    const r = codes.redeem(discordAlice, code.toLowerCase());
    expect(r).toMatchObject({ kind: 'linked', userId: alice.user.id, orgId: alice.org.id });
    const now = identity.resolve(discordAlice);
    expect(now.user.id).toBe(alice.user.id);
    expect(now.org.id).toBe(alice.org.id);
    expect(
      identity
        .linkedIdentities(alice.org.id, alice.user.id)
        .map((l) => l.platform)
        .sort(),
    ).toEqual(['discord', 'slack']);
    // The guild now belongs to Alice's org: a new Discord member of it lands there too.
    expect(identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '2002' }).org.id).toBe(alice.org.id);
  });

  it('a used code does not work twice', () => {
    const s = setup();
    const { identity, codes } = s;
    const alice = identity.resolve(slackAlice);
    identity.resolve(discordAlice);
    joinGuildToSlackOrg(s);
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
    const guild = identity.resolve(discordAlice);
    identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '2002' });
    const { code } = codes.create(alice.org.id, alice.user.id);
    expect(codes.redeem(discordAlice, code)).toMatchObject({ kind: 'other_org' });
    expect(identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '2002' }).org.id).toBe(guild.org.id);
  });

  it("a link code never moves a new workspace into the code owner's org, even when its redeemer is the only one there", () => {
    const { identity, codes } = setup();
    const stranger = identity.resolve(slackAlice);
    const first = identity.resolve(discordAlice);
    const { code } = codes.create(stranger.org.id, stranger.user.id);
    expect(codes.redeem(discordAlice, code)).toEqual({ kind: 'other_org' });
    expect(identity.resolve(discordAlice).user.id).toBe(first.user.id);
    const colleague = identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '3003' });
    expect(colleague.org.id).toBe(first.org.id);
    expect(colleague.org.id).not.toBe(stranger.org.id);
    // The refusal spent nothing: the code still works for its owner's own org.
    const sameOrg = { platform: 'slack' as const, workspaceId: 'T1', userId: 'U2' };
    identity.resolve(sameOrg);
    expect(codes.redeem(sameOrg, code)).toMatchObject({ kind: 'linked', userId: stranger.user.id });
  });

  it("an invite stops working when its issuer is no longer an admin, and a joined org's own invites die with the join", () => {
    const s = setup();
    const { identity, joins } = s;
    const admin = identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'UADMIN' });
    const guild = identity.resolve(discordAlice);
    const stale = joins.invite(admin.org.id, admin.user.id).code;
    identity.setRole(admin.org.id, admin.user.id, 'member');
    expect(joins.join(discordAlice, guild.org.id, stale)).toEqual({ kind: 'invalid' });
    expect(identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '2002' }).org.id).toBe(guild.org.id);
    identity.setRole(admin.org.id, admin.user.id, 'admin');

    // The guild's admin issued an invite into the guild's org before it joined the Slack org.
    const guildInvite = joins.invite(guild.org.id, guild.user.id).code;
    const { code } = joins.invite(admin.org.id, admin.user.id);
    expect(joins.join(discordAlice, guild.org.id, code)).toMatchObject({ kind: 'joined' });
    const third = { platform: 'slack' as const, workspaceId: 'T3', userId: 'U3' };
    const t3 = identity.resolve(third);
    expect(joins.join(third, t3.org.id, guildInvite)).toEqual({ kind: 'invalid' });
    expect(identity.resolve(third).org.id).toBe(t3.org.id);
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
