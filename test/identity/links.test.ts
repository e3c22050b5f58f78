import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/db/index.js';
import { Identity, LinkCodes, OrgJoins } from '../../src/identity/index.js';
import { testStore } from '../support/store.js';

const slackAlice = { platform: 'slack' as const, workspaceId: 'T1', userId: 'U1', displayName: 'Alice' };
const discordAlice = { platform: 'discord' as const, workspaceId: 'G1', userId: '1001', displayName: 'alice#1' };

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** A fresh store, closed after the test. */
async function freshStore(): Promise<Store> {
  const store = await testStore();
  stores.push(store);
  return store;
}

async function setup() {
  const store = await freshStore();
  // discord:G1:1001 starts as the guild's admin, so the guild can be joined to the Slack org.
  return {
    store,
    identity: new Identity(store, ['slack:T1:UADMIN', 'discord:G1:1001']),
    codes: new LinkCodes(store),
    joins: new OrgJoins(store),
  };
}

/** Links across platforms need one org: an admin of each side joins the guild to the Slack org first. */
async function joinGuildToSlackOrg({ identity, joins }: Awaited<ReturnType<typeof setup>>) {
  const admin = await identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'UADMIN' });
  const guild = await identity.resolve(discordAlice);
  const { code } = await joins.invite(admin.org.id, admin.user.id);
  expect(await joins.join(discordAlice, guild.org.id, code)).toMatchObject({ kind: 'joined', intoOrgId: admin.org.id });
}

describe('identities and link codes', () => {
  it('first contact creates the org and the user; admins come from ONBEHALF_ADMINS', async () => {
    const { identity } = await setup();
    const a = await identity.resolve(slackAlice);
    expect(a.user.role).toBe('member');
    expect((await identity.resolve(slackAlice)).user.id).toBe(a.user.id);
    const admin = await identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'UADMIN' });
    expect(admin.user.role).toBe('admin');
    expect(admin.org.id).toBe(a.org.id);
    expect((await identity.resolve({ platform: 'slack', workspaceId: 'T2', userId: 'U1' })).org.id).not.toBe(a.org.id);
  });

  it('a code from Slack merges the Discord identity into the same user, once an admin joined the guild to the org', async () => {
    const s = await setup();
    const { identity, codes } = s;
    const alice = await identity.resolve(slackAlice);
    const other = await identity.resolve(discordAlice);
    expect(other.user.id).not.toBe(alice.user.id);
    await joinGuildToSlackOrg(s);
    const { code } = await codes.create(alice.org.id, alice.user.id);
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    const r = await codes.redeem(discordAlice, code.toLowerCase());
    expect(r).toMatchObject({ kind: 'linked', userId: alice.user.id, orgId: alice.org.id });
    const now = await identity.resolve(discordAlice);
    expect(now.user.id).toBe(alice.user.id);
    expect(now.org.id).toBe(alice.org.id);
    expect((await identity.linkedIdentities(alice.org.id, alice.user.id)).map((l) => l.platform).sort()).toEqual([
      'discord',
      'slack',
    ]);
    // The guild now belongs to Alice's org: a new Discord member of it lands there too.
    expect((await identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '2002' })).org.id).toBe(
      alice.org.id,
    );
  });

  it('a used code does not work twice', async () => {
    const s = await setup();
    const { identity, codes } = s;
    const alice = await identity.resolve(slackAlice);
    await identity.resolve(discordAlice);
    await joinGuildToSlackOrg(s);
    const { code } = await codes.create(alice.org.id, alice.user.id);
    expect((await codes.redeem(discordAlice, code)).kind).toBe('linked');
    const mallory = { platform: 'discord' as const, workspaceId: 'G1', userId: '666' };
    await identity.resolve(mallory);
    expect((await codes.redeem(mallory, code)).kind).toBe('invalid');
    expect((await identity.resolve(mallory)).user.id).not.toBe(alice.user.id);
  });

  it('an expired code does not work', async () => {
    const store = await freshStore();
    const identity = new Identity(store);
    const codes = new LinkCodes(store, { ttlMs: -1 });
    const alice = await identity.resolve(slackAlice);
    await identity.resolve(discordAlice);
    const { code } = await codes.create(alice.org.id, alice.user.id);
    expect((await codes.redeem(discordAlice, code)).kind).toBe('invalid');
  });

  it('five wrong codes start a cool-down in which even the right code is refused', async () => {
    const { identity, codes } = await setup();
    const alice = await identity.resolve(slackAlice);
    await identity.resolve(discordAlice);
    const { code } = await codes.create(alice.org.id, alice.user.id);
    for (let i = 0; i < 5; i++) expect((await codes.redeem(discordAlice, 'ZZZZZZZZ')).kind).toBe('invalid');
    const r = await codes.redeem(discordAlice, code);
    expect(r.kind).toBe('cooldown');
    if (r.kind === 'cooldown') expect(r.retryAfterMs).toBeGreaterThan(9 * 60_000);
    expect((await identity.resolve(discordAlice)).user.id).not.toBe(alice.user.id);
  });

  it('a workspace that is already an org with other people is not taken over by a link', async () => {
    const { identity, codes } = await setup();
    const alice = await identity.resolve(slackAlice);
    const guild = await identity.resolve(discordAlice);
    await identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '2002' });
    const { code } = await codes.create(alice.org.id, alice.user.id);
    expect(await codes.redeem(discordAlice, code)).toMatchObject({ kind: 'other_org' });
    expect((await identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '2002' })).org.id).toBe(
      guild.org.id,
    );
  });

  it("a link code never moves a new workspace into the code owner's org, even when its redeemer is the only one there", async () => {
    const { identity, codes } = await setup();
    const stranger = await identity.resolve(slackAlice);
    const first = await identity.resolve(discordAlice);
    const { code } = await codes.create(stranger.org.id, stranger.user.id);
    expect(await codes.redeem(discordAlice, code)).toEqual({ kind: 'other_org' });
    expect((await identity.resolve(discordAlice)).user.id).toBe(first.user.id);
    const colleague = await identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '3003' });
    expect(colleague.org.id).toBe(first.org.id);
    expect(colleague.org.id).not.toBe(stranger.org.id);
    // The refusal spent nothing: the code still works for its owner's own org.
    const sameOrg = { platform: 'slack' as const, workspaceId: 'T1', userId: 'U2' };
    await identity.resolve(sameOrg);
    expect(await codes.redeem(sameOrg, code)).toMatchObject({ kind: 'linked', userId: stranger.user.id });
  });

  it("an invite stops working when its issuer is no longer an admin, and a joined org's own invites die with the join", async () => {
    const s = await setup();
    const { identity, joins } = s;
    const admin = await identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'UADMIN' });
    const guild = await identity.resolve(discordAlice);
    const stale = (await joins.invite(admin.org.id, admin.user.id)).code;
    await identity.setRole(admin.org.id, admin.user.id, 'member');
    expect(await joins.join(discordAlice, guild.org.id, stale)).toEqual({ kind: 'invalid' });
    expect((await identity.resolve({ platform: 'discord', workspaceId: 'G1', userId: '2002' })).org.id).toBe(
      guild.org.id,
    );
    await identity.setRole(admin.org.id, admin.user.id, 'admin');

    // The guild's admin issued an invite into the guild's org before it joined the Slack org.
    const guildInvite = (await joins.invite(guild.org.id, guild.user.id)).code;
    const { code } = await joins.invite(admin.org.id, admin.user.id);
    expect(await joins.join(discordAlice, guild.org.id, code)).toMatchObject({ kind: 'joined' });
    const third = { platform: 'slack' as const, workspaceId: 'T3', userId: 'U3' };
    const t3 = await identity.resolve(third);
    expect(await joins.join(third, t3.org.id, guildInvite)).toEqual({ kind: 'invalid' });
    expect((await identity.resolve(third)).org.id).toBe(t3.org.id);
  });

  it('a user id from another org is not found (queries are org-scoped)', async () => {
    const { identity } = await setup();
    const a = await identity.resolve(slackAlice);
    const b = await identity.resolve({ platform: 'slack', workspaceId: 'T9', userId: 'U9' });
    expect(await identity.user(b.org.id, a.user.id)).toBeUndefined();
    expect(await identity.userByRef(b.org.id, 'slack', 'T9', `<@U1>`)).toBeUndefined();
    expect((await identity.userByRef(a.org.id, 'slack', 'T1', `<@U1>`))?.id).toBe(a.user.id);
  });
});
