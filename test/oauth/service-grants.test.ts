import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { world, type World } from '../support/world.js';

const wait = { timeout: 15_000, interval: 25 };
const LINK = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/start\?t=[^\s)>`]+)/g;

/** The last connect link shown to a session since `from`. */
const lastLink = (out: string, from = 0) => [...out.slice(from).matchAll(LINK)].at(-1)?.[1];

describe('service grants: one org-level connection an admin made, used for the members the rules allow', () => {
  let w: World;
  beforeAll(async () => {
    w = await world({
      users: ['ada', 'alice', 'bob', 'carol'],
      provider: 'vendor',
      // Access tokens live 1 s: the members' calls refresh the service grant headlessly.
      oauth: { accessTtlSeconds: 1 },
      servers: [{ name: 'ci' }, { name: 'web', grant: true }],
      env: { ONBEHALF_ADMINS: 'shell:local:ada' },
    });
    const ada = w.as('ada');
    expect(
      await ada.send('/onbehalf admin bind ci header Authorization service:vendor/builds --template "Bearer {token}"'),
    ).toMatch(/bound|Authorization/i);
  });
  afterAll(async () => w?.stop());

  /** The service grant's current access token (through the same engine the runner uses). */
  const serviceToken = async () => {
    const r = await w.app.oauth.serviceTokenFor(w.org.id, 'vendor', 'builds');
    if (r.kind !== 'ok') throw new Error(`no service token: ${r.kind}`);
    return r.token.reveal();
  };

  /** Tool-call audit events of server `ci` for `userId`. */
  const callAudits = async (userId: string) => {
    const { auditEvents } = w.app.store.t;
    return w.app.store.rows(
      w.app.store.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.action, 'call'), eq(auditEvents.server, 'ci'), eq(auditEvents.actorUserId, userId))),
    );
  };

  it('a service source must name a provider and a service', async () => {
    const said = await w.as('ada').send('/onbehalf admin bind ci header X-Token service:vendor');
    expect(said).toMatch(/service:<provider>\/<name> needs a provider slug and a service name/);
  });

  it('before an admin connects it, a member is told it is not connected yet (and gets no personal prompt)', async () => {
    const alice = w.as('alice');
    const from = alice.output.length;
    await alice.send('/onbehalf run ci.whoami {}');
    await alice.waitFor(/service connection "builds" is not connected yet/, from);
    expect(alice.output.slice(from)).not.toMatch(/oauth\/start/);
  });

  it('an admin connects once, privately; two members calls act as that account, and the audit names each member', async () => {
    const ada = w.as('ada');
    const from = ada.output.length;
    await ada.send('/onbehalf admin connect vendor --service builds');
    await ada.waitFor(/only you/, from);
    const link = lastLink(ada.output, from);
    expect(link).toBeDefined();
    // Nobody else saw the link.
    for (const other of ['alice', 'bob']) expect(lastLink(w.as(other).output)).toBeUndefined();
    const done = await w.connectVia(link!, { login: 'builds-bot' });
    expect(done.res.status).toBe(200);
    // The shell proves no browser: the grant waits for the admin's word in chat before anyone's call uses it.
    expect(done.html).toMatch(/service connection <strong>builds<\/strong>, and is on hold/);
    await ada.waitFor(
      /connected as the org's vendor service connection "builds" from a browser that was not shown/,
      from,
    );
    const early = w.as('alice');
    const earlyFrom = early.output.length;
    await early.send('/onbehalf run ci.whoami {}');
    await early.waitFor(/service connection "builds" is not connected yet/, earlyFrom);
    expect(await ada.send('/onbehalf admin services')).toMatch(/@?builds-bot: on hold until an admin confirms it/);
    expect(await ada.send('/onbehalf admin connect confirm vendor --service builds')).toMatch(
      /Confirmed: vendor account @?builds-bot is now the org's vendor service connection "builds"/,
    );
    await ada.waitFor(/@?builds-bot is now the org's vendor service connection "builds"/, from);
    expect(await ada.send('/onbehalf admin connect confirm vendor --service builds')).toMatch(
      /No vendor service connection "builds" is waiting for confirmation/,
    );
    // The admin's own grants are untouched: the service grant is not theirs.
    const adaId = (await w.user('ada')).id;
    expect(await w.app.oauth.listConnections(w.org.id, adaId)).toEqual([]);

    const first = await w.app.oauth.serviceTokenFor(w.org.id, 'vendor', 'builds');
    if (first.kind !== 'ok') throw new Error(first.kind);
    const seenBefore = w.mcp.calls.length;
    const refreshesBefore = w.oauth.refreshRequests().length;
    for (const name of ['alice', 'bob']) {
      // Bob calls after the first access token expired: his call refreshes the service grant headlessly.
      if (name === 'bob') await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(first.expiresAt!), wait);
      const s = w.as(name);
      const at = s.output.length;
      await s.send('/onbehalf run ci.whoami {}');
      await s.waitFor(/fp:/, at);
      expect(s.output.slice(at)).not.toMatch(/oauth\/start|connect your/i);
    }
    const calls = w.mcp.calls.slice(seenBefore).filter((c) => c.tool === 'whoami');
    expect(calls).toHaveLength(2);
    // Alice's call used the token the admin's connect got; Bob's the refreshed one; neither a personal grant.
    expect(calls[0]!.seen['authorization']).toBe(`Bearer ${first.token.reveal()}`);
    expect(calls[1]!.seen['authorization']).toBe(`Bearer ${await serviceToken()}`);
    expect(calls[1]!.seen['authorization']).not.toBe(calls[0]!.seen['authorization']);
    expect(w.oauth.refreshRequests().length - refreshesBefore).toBe(1);
    for (const name of ['alice', 'bob']) {
      const u = await w.user(name);
      const events = await vi.waitFor(async () => {
        const ev = (await callAudits(u.id)).filter((e) => e.outcome === 'ok');
        expect(ev).toHaveLength(1);
        return ev;
      }, wait);
      const e = events[0]!;
      expect(e.actorUserId).toBe(u.id);
      expect(e.onBehalfOfUserId).toBe(u.id);
      expect(e.credentialKinds).toEqual(['service']);
      expect(e.vendorAccount).toMatch(/^@?builds-bot$/);
      expect(e.detail).toMatchObject({ serviceGrants: ['service:vendor/builds'] });
    }
    const ls = await ada.send('/onbehalf admin services');
    expect(ls).toMatch(/service:vendor\/builds as @?builds-bot: working/);
  });

  it("a forwarded service link opened by someone else stays on hold; the admin rejects it: revoked, and nobody's call acts as it", async () => {
    const ada = w.as('ada');
    const from = ada.output.length;
    await ada.send('/onbehalf admin connect vendor --service deploys');
    const link = lastLink(ada.output, from);
    expect(link).toBeDefined();
    // Mallory, handed the link, connects her own account as the org's service connection.
    const done = await w.connectVia(link!, { login: 'mallory' });
    expect(done.html).toMatch(/is on hold/);
    await ada.waitFor(/@?mallory was connected as the org's vendor service connection "deploys"/, from);
    const token = await w.app.oauth.serviceTokenFor(w.org.id, 'vendor', 'deploys');
    expect(token.kind).toBe('missing');
    const revokedBefore = w.oauth.revoked.length;
    expect(await ada.send('/onbehalf admin connect reject vendor --service deploys')).toMatch(
      /Removed the org's vendor service connection "deploys" \(@?mallory\) and revoked it at the provider/,
    );
    expect(w.oauth.revoked.length).toBeGreaterThan(revokedBefore);
    expect(await ada.send('/onbehalf admin services')).not.toMatch(/deploys/);
  });

  it('a member without a personal grant for an oauth: binding is still prompted, never given the service grant', async () => {
    const carol = w.as('carol');
    const seenBefore = w.mcp.calls.length;
    const from = carol.output.length;
    await carol.send('/onbehalf run web.whoami {}');
    await carol.waitFor(/Connect vendor/, from);
    expect(lastLink(carol.output, from)).toBeDefined();
    expect(w.mcp.calls.slice(seenBefore)).toEqual([]);
  });

  it('a dead service grant tells the admins privately; the caller gets one line and no prompt', async () => {
    const ada = w.as('ada');
    const bob = w.as('bob');
    const adaFrom = ada.output.length;
    const bobFrom = bob.output.length;
    w.oauth.killRefreshTokensOf('builds-bot');
    // Once the access token (1 s) has expired, Bob's call must refresh it, and the provider refuses.
    const [grant] = await w.app.oauth.services.list(w.org.id);
    const { connectedAccounts: ca } = w.app.store.t;
    const row = await w.app.store.first(w.app.store.db.select().from(ca).where(eq(ca.id, grant!.connectionId)));
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(row!.expiresAt!), wait);
    await bob.send('/onbehalf run ci.whoami {}');
    await bob.waitFor(/the org's vendor service connection needs an admin to reconnect/, bobFrom);
    expect(bob.output.slice(bobFrom)).not.toMatch(/oauth\/start|stopped working/);
    await ada.waitFor(
      /direct message\): The org's vendor service connection "builds" \(@?builds-bot\) stopped working/,
      adaFrom,
    );
    // Told once, however many calls fail.
    await bob.send('/onbehalf run ci.whoami {}');
    await bob.waitFor(/needs an admin to reconnect[\s\S]*needs an admin to reconnect/, bobFrom);
    expect(ada.output.slice(adaFrom).match(/stopped working/g)).toHaveLength(1);
    expect(await ada.send('/onbehalf admin services')).toMatch(/@?builds-bot: needs an admin to reconnect/);
  });

  it('an admin removes the service grant: revoked at the provider, and calls say it is not connected', async () => {
    const ada = w.as('ada');
    const revokedBefore = w.oauth.revoked.length;
    expect(await ada.send('/onbehalf admin disconnect vendor --service builds')).toMatch(
      /Removed the org's vendor service connection "builds" \(@?builds-bot\)/,
    );
    expect(w.oauth.revoked.length).toBeGreaterThan(revokedBefore);
    expect(await ada.send('/onbehalf admin services')).toMatch(/No service connections yet/);
    expect(await ada.send('/onbehalf admin disconnect vendor --service builds')).toMatch(/There is no vendor service/);
  });
});
