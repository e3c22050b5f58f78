// What identity promises when the same thing happens at once, on SQLite and on Postgres (where the
// statements of concurrent transactions really interleave): first contact makes one user, a code
// works once, wrong codes are capped, and two orgs joining each other end up as one.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { Identity, LinkCodes, OrgJoins, type ChatIdentity } from '../../src/identity/index.js';
import { storesOfBothDialects } from '../support/store.js';

const N = 20;
const stores = storesOfBothDialects({ max: N });

describe.each(['sqlite', 'postgres'] as const)('%s: at the same time', (dialect) => {
  const store = () => stores[dialect];
  const slack = (workspaceId: string, userId: string): ChatIdentity => ({ platform: 'slack', workspaceId, userId });

  it(`${N} first messages of one new chat identity make one user and one linked account`, async () => {
    const identity = new Identity(store());
    const who = slack(`T-first-${dialect}`, 'UNEW');
    const seen = await Promise.all(Array.from({ length: N }, () => identity.resolve(who)));
    const { orgs, users, linkedAccounts, workspaces } = store().t;
    const las = await store().rows(
      store().db.select().from(linkedAccounts).where(eq(linkedAccounts.workspaceId, who.workspaceId)),
    );
    expect(las).toHaveLength(1);
    const orgId = las[0]!.orgId;
    expect(await store().rows(store().db.select().from(users).where(eq(users.orgId, orgId)))).toHaveLength(1);
    expect(new Set(seen.map((r) => r.user.id))).toEqual(new Set([las[0]!.userId]));
    expect(new Set(seen.map((r) => r.linkedAccountId))).toEqual(new Set([las[0]!.id]));
    const ws = await store().rows(
      store().db.select().from(workspaces).where(eq(workspaces.workspaceId, who.workspaceId)),
    );
    expect(ws.map((w) => w.orgId)).toEqual([orgId]);
    expect(new Set(seen.map((r) => r.org.id))).toEqual(new Set([orgId]));
    // Nor is an org left behind by a first contact that lost the race for the workspace.
    const named = await store().rows(
      store()
        .db.select()
        .from(orgs)
        .where(eq(orgs.name, `slack ${who.workspaceId}`)),
    );
    expect(named.map((o) => o.id)).toEqual([orgId]);
  });

  it(`one link code redeemed by ${N} identities at once links exactly one`, async () => {
    const identity = new Identity(store());
    const codes = new LinkCodes(store());
    const team = `T-code-${dialect}`;
    const owner = await identity.resolve(slack(team, 'UOWNER'));
    const others = Array.from({ length: N }, (_, i) => slack(team, `UOTHER${i}`));
    for (const o of others) await identity.resolve(o);
    const { code } = await codes.create(owner.org.id, owner.user.id);
    const results = await Promise.all(others.map((o) => codes.redeem(o, code)));
    expect(results.filter((r) => r.kind === 'linked')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'invalid')).toHaveLength(N - 1);
    expect(await identity.linkedIdentities(owner.org.id, owner.user.id)).toHaveLength(2);
  });

  it(`a user whose ${N} chat identities are linked away at once is removed, not left with none`, async () => {
    const identity = new Identity(store());
    const codes = new LinkCodes(store());
    const team = `T-away-${dialect}`;
    const mine = Array.from({ length: N }, (_, i) => slack(team, `UMINE${i}`));
    const before = await identity.resolve(mine[0]!);
    for (const m of mine.slice(1)) {
      await identity.resolve(m);
      const { code } = await codes.create(before.org.id, before.user.id);
      expect(await codes.redeem(m, code)).toMatchObject({ kind: 'linked', userId: before.user.id });
    }
    const target = await identity.resolve(slack(team, 'UTARGET'));
    const fresh = await Promise.all(mine.map(() => codes.create(target.org.id, target.user.id)));
    const results = await Promise.all(mine.map((m, i) => codes.redeem(m, fresh[i]!.code)));
    expect(results.every((r) => r.kind === 'linked')).toBe(true);
    expect(await identity.linkedIdentities(target.org.id, target.user.id)).toHaveLength(N + 1);
    expect(await identity.user(before.org.id, before.user.id)).toBeUndefined();
  });

  it(`${N} wrong codes at once from one identity: five are counted, the rest wait out the cool-down`, async () => {
    const identity = new Identity(store());
    const codes = new LinkCodes(store());
    const guesser = slack(`T-guess-${dialect}`, 'UGUESS');
    await identity.resolve(guesser);
    const results = await Promise.all(Array.from({ length: N }, () => codes.redeem(guesser, 'ZZZZZZZZ')));
    expect(results.filter((r) => r.kind === 'invalid')).toHaveLength(5);
    expect(results.filter((r) => r.kind === 'cooldown')).toHaveLength(N - 5);
  });

  it('two orgs redeeming invites into each other at once end up as one org', async () => {
    const a = `T-a-${dialect}`;
    const b = `T-b-${dialect}`;
    const identity = new Identity(store(), [`slack:${a}:UADMIN`, `slack:${b}:UADMIN`]);
    const joins = new OrgJoins(store());
    const adminA = await identity.resolve(slack(a, 'UADMIN'));
    const adminB = await identity.resolve(slack(b, 'UADMIN'));
    await identity.resolve(slack(a, 'UMEMBER'));
    await identity.resolve(slack(b, 'UMEMBER'));
    const intoA = (await joins.invite(adminA.org.id, adminA.user.id)).code;
    const intoB = (await joins.invite(adminB.org.id, adminB.user.id)).code;
    const results = await Promise.all([
      joins.join(slack(b, 'UADMIN'), adminB.org.id, intoA),
      joins.join(slack(a, 'UADMIN'), adminA.org.id, intoB),
    ]);
    expect(results.map((r) => r.kind).sort()).toEqual(['invalid', 'joined']);
    const { users, workspaces } = store().t;
    const ws = await store().rows(store().db.select().from(workspaces).where(eq(workspaces.platform, 'slack')));
    const orgOf = (id: string) => ws.find((w) => w.workspaceId === id)!.orgId;
    expect(orgOf(a)).toBe(orgOf(b));
    const people = await store().rows(
      store()
        .db.select()
        .from(users)
        .where(eq(users.orgId, orgOf(a))),
    );
    expect(people).toHaveLength(4);
  });
});
