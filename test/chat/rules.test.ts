import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { world, type World } from '../support/world.js';
import { wordsOf } from '../support/said.js';
import { Secret } from '../../src/crypto/index.js';
import type { TestApp } from '../support/app.js';
import { fingerprint, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { OAuthTestServer, authorizeInBrowser } from '../support/oauth-server.js';

/**
 * Attacks on argument rules, header templates and the catalog through the real `run` and `tools`
 * commands of the shell platform, against a real MCP server that records what it received.
 */
describe('rules, header templates and catalogs as an attacker meets them', () => {
  let w: World;
  let t: TestApp;
  let oauth: OAuthTestServer;
  let mcp: TestMcpHttpServer;
  const as = (user: string) => w.as(user);
  const orgId = async () =>
    (await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: 'ada' })).user.orgId;
  const userId = async (u: string) =>
    (await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: u })).user.id;

  /** Runs a tool as `user` and waits for its outcome line. */
  async function run(user: string, call: string): Promise<string> {
    const s = as(user);
    const from = s.output.length;
    const reply = await s.send(`/onbehalf run ${call}`);
    if (!reply.includes('as you…')) return reply.replace(/^onbehalf \(only you\): /, '');
    return (
      await s.waitFor(/`[a-z]+\.[a-z_]+`( was not run| failed| reported an error|:)[^\n]*(\n {2}[^\n]*)*/, from)
    )[0];
  }

  beforeAll(async () => {
    w = await world({ env: { ONBEHALF_ADMINS: 'shell:local:ada' }, mcp: { callerTools: true } });
    ({ t, oauth, mcp } = w);
    const ada = as('ada');
    expect(await ada.send(`/onbehalf admin server add open http ${mcp.url}`)).toMatch(/Added http server open/);
    expect(await ada.send('/onbehalf admin allow open echo --arg repo=acme/* --inject email={user.id}')).toMatch(
      /Added rule/,
    );
    expect(await ada.send('/onbehalf admin deny open echo --arg repo=acme/secret')).toMatch(/Added rule/);
    expect(await ada.send('/onbehalf admin allow open whoami')).toMatch(/Added rule/);
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('a rule injecting {user.email} is refused in one line where the platform gives no email (the shell)', async () => {
    const rules = async () =>
      (await t.app.store.execute<{ n: number }>(sql`select count(*) n from access_rules`))[0]!.n;
    const before = await rules();
    const out = await as('ada').send('/onbehalf admin allow open echo --inject who={user.email}');
    expect(out).toBe(
      'onbehalf (only you): The shell gives no email address, so {user.email} would be empty for people here; nothing was changed (inject {user.id} or {user.name} instead).',
    );
    expect(await rules()).toBe(before);
  });

  it('variants of a denied repository never reach the server', async () => {
    const before = mcp.rawArguments.length;
    for (const repo of ['ACME/secret', 'acme/secret/', 'acme//secret', ' acme/secret', 'Acme/Secret//']) {
      expect(await run('mia', `open.echo {"text":"t","repo":${JSON.stringify(repo)}}`)).toMatch(
        /`open\.echo` was not run: denied by rule: deny open "echo" for everyone with repo=acme\/secret\./,
      );
    }
    for (const repo of ['acme/secret\\n', 'acme/./secret', 'acme/x/../secret', 'acme/secret\\u202e']) {
      expect(await run('mia', `open.echo {"text":"t","repo":"${repo}"}`)).toMatch(
        /`open\.echo` was not run: repo (holds control or invisible characters|has a "\." or "\.\." path segment), which rule .* cannot judge; send a plain value\./,
      );
    }
    expect(mcp.rawArguments.length).toBe(before);
  });

  it('an allowed repository is sent in its normal form, the one the rules judged', async () => {
    const before = mcp.rawArguments.length;
    expect(await run('mia', 'open.echo {"text":"t","repo":" acme//app/ "}')).toMatch(/`open\.echo`:/);
    expect(JSON.parse(mcp.rawArguments.at(-1)!)).toEqual({ text: 't', repo: 'acme/app', email: await userId('mia') });
    expect(mcp.rawArguments.length).toBe(before + 1);
  });

  it('out-of-pattern, non-string and nested values are refused before the server', async () => {
    const before = mcp.rawArguments.length;
    expect(await run('mia', 'open.echo {"text":"t","repo":"acme/../evil/app"}')).toMatch(
      /has a "\." or "\.\." path segment/,
    );
    expect(await run('mia', 'open.echo {"text":"t","repo":"acme/app/sub"}')).toMatch(
      /requires repo must match acme\/\*/,
    );
    expect(await run('mia', 'open.echo {"text":"t","repo":"acme/app\\nX"}')).toMatch(
      /holds control or invisible characters/,
    );
    expect(await run('mia', 'open.echo {"text":"t","repo":["acme/app"]}')).toMatch(
      /repo must be a string, not an array/,
    );
    expect(await run('mia', 'open.echo {"text":"t","repo":{"x":"acme/app"}}')).toMatch(
      /repo must be a string, not an object/,
    );
    expect(await run('mia', 'open.echo {"text":"t","repo":42}')).toMatch(/repo must be a string, not a number/);
    expect(await run('mia', 'open.echo {"text":"t","repo":null}')).toMatch(/repo must be a string, not null/);
    expect(mcp.rawArguments.length).toBe(before);
  });

  it('duplicate keys and __proto__ are refused; nothing reaches the server', async () => {
    const before = mcp.rawArguments.length;
    const dup = await run('mia', 'open.echo {"text":"t","repo":"acme/secret","repo":"acme/app"}');
    expect(dup.split('\n')).toHaveLength(1);
    expect(dup).toMatch(/^The arguments name "repo" more than once; give each argument once\./);
    expect(await run('mia', 'open.echo {"text":"t","__proto__":{"repo":"acme/app"}}')).toMatch(
      /an argument is named __proto__, which is never passed on; rename it\./,
    );
    expect(await run('mia', 'open.echo {"text":"t","repo":"acme/app","x":{"__proto__":{"isAdmin":true}}}')).toMatch(
      /named __proto__/,
    );
    expect(mcp.rawArguments.length).toBe(before);
  });

  it('the injected identity cannot be doubled by a variant of its name', async () => {
    const before = mcp.rawArguments.length;
    for (const k of ['Email', 'EMAIL', ' email', 'email ', 'e-mail', 'e_mail']) {
      expect(await run('mia', `open.echo {"text":"t","repo":"acme/app",${JSON.stringify(k)}:"ceo@acme.com"}`)).toMatch(
        new RegExp(
          `the argument "${k}" looks like "email", which rule allow open "echo" .* checks or sets; use the exact name email`,
        ),
      );
    }
    expect(mcp.rawArguments.length).toBe(before);
    expect(await run('mia', 'open.echo {"text":"t","repo":"acme/app","email":"ceo@acme.com"}')).toMatch(
      /`open\.echo`:/,
    );
    expect(JSON.parse(mcp.rawArguments.at(-1)!)).toEqual({ text: 't', repo: 'acme/app', email: await userId('mia') });
  });

  it('--ignore-case is an admin flag of allow rules: case variants pass that rule, nothing else does', async () => {
    const ada = as('ada');
    expect(await ada.send(`/onbehalf admin server add ci http ${mcp.url}`)).toMatch(/Added/);
    expect(await ada.send('/onbehalf admin allow ci echo --ignore-case --arg repo=acme/*')).toMatch(
      /Added rule: allow ci "echo" for everyone with repo=acme\/\*, ignoring case\./,
    );
    expect(await run('mia', 'ci.echo {"text":"t","repo":"ACME/App"}')).toMatch(/`ci\.echo`:/);
    expect(JSON.parse(mcp.rawArguments.at(-1)!)).toEqual({ text: 't', repo: 'ACME/App' });
    expect(await run('mia', 'ci.echo {"text":"t","repo":"EVIL/App"}')).toMatch(/requires repo must match acme\/\*/);
  });

  it("a header template substitutes the secret literally, even with $& and $' in it", async () => {
    const ada = as('ada');
    expect(await ada.send(`/onbehalf admin server add keyed http ${mcp.url}`)).toMatch(/Added/);
    expect(
      await ada.send('/onbehalf admin bind keyed header X-Api-Key org_secret:api --template "Key {token}"'),
    ).toMatch(/X-Api-Key now comes from org_secret:api as "Key \{token\}"/);
    const value = "k$&y$'z$`w$$v$1";
    expect(await ada.send('/onbehalf admin secret set org api')).toMatch(/\(hidden\)/);
    expect(await ada.send(value)).toMatch(/Stored org secret api/);
    const out = await run('mia', 'keyed.whoami {}');
    expect(JSON.parse(out.slice(out.indexOf('{')))['x-api-key']).toBe(fingerprint(`Key ${value}`));
    expect(mcp.calls.at(-1)?.seen['x-api-key']).toBe(`Key ${value}`);
  });

  it('a header value holding CR/LF is refused at call time with a clear outcome, and nothing is sent', async () => {
    await t.app.policy.setSecret(await orgId(), 'org', await orgId(), 'api', new Secret('k\r\nX-Injected: yes'));
    const before = mcp.requests;
    const out = await run('mia', 'keyed.whoami {}');
    expect(out).toMatch(
      /^`keyed\.whoami` failed: the value bound to header X-Api-Key on keyed \(from org_secret:api\) holds a line break, control or non-Latin-1 character, so nothing was sent; an admin must check that source\.?$/,
    );
    expect(out).not.toContain('X-Injected');
    expect(mcp.requests).toBe(before);
    // And at bind time a template with a control character is refused.
    expect(
      await wordsOf(t.app.policy).bind(
        await orgId(),
        'keyed',
        'header',
        'X-Other',
        'org_secret:api',
        'Key {token}\u0000',
      ),
    ).toEqual({
      ok: false,
      error: 'Not bound: the template must be one line of printable characters (no line breaks or control characters).',
    });
  });

  it("a caller without a grant sees none of the tools listed with another user's credentials", async () => {
    const ada = as('ada');
    const e = oauth.endpoints;
    await ada.send(
      `/onbehalf admin provider add gh oauth2 test-client --scopes repo --authorize ${e.authorizeUrl} --token ${e.tokenUrl} --revoke ${e.revokeUrl} --userinfo ${e.userinfoUrl}`,
    );
    await ada.send('client-secret-rules-1');
    expect(await ada.send(`/onbehalf admin server add gated http ${mcp.url}`)).toMatch(/Added/);
    expect(
      await ada.send('/onbehalf admin bind gated header Authorization oauth:gh --template "Bearer {token}"'),
    ).toMatch(/now comes from oauth:gh/);

    const alice = as('alice');
    const link = (await alice.send('/onbehalf connect gh')).match(/→ Connect gh: (\S+)/)![1]!;
    oauth.login = 'alice-at-vendor';
    const r = await authorizeInBrowser(link);
    if (!('callbackUrl' in r)) throw new Error('authorize failed');
    const from = alice.output.length;
    await r.browser.fetch(r.callbackUrl);
    const [, yes] = await alice.waitFor(/Yes, that's me: \/onbehalf (connect confirm gh)/, from);
    await alice.send(`/onbehalf ${yes}`);
    await alice.waitFor(/gh account @?alice-at-vendor is now connected for alice/);
    const aliceToken = oauth.issuedAccessTokens.at(-1)!;
    const listsBefore = mcp.listedWith.length;
    expect(await alice.send('/onbehalf tools')).toMatch(/gated\.whoami/);
    expect(mcp.listedWith.slice(listsBefore)).toContain(`Bearer ${aliceToken}`);

    const aliceOnly = `only_for_${fingerprint(`Bearer ${aliceToken}`).slice(3, 11)}`;
    expect(await alice.send('/onbehalf tools')).toContain(`gated.${aliceOnly}`);

    // Bob has no gh grant: nothing listed with Alice's token; only what the server lists to anyone
    // (asked with no credentials), and a hint to connect.
    const bobTools = await as('bob').send('/onbehalf tools');
    expect(bobTools).not.toContain(aliceOnly);
    expect(bobTools).toMatch(/gated\.whoami/);
    expect(bobTools).toMatch(/• `gated`: connect your gh account to see its tools: `\/onbehalf connect gh`/);
    const bob = (await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: 'bob' })).user;
    const bobCatalog = await t.app.catalog.catalog(await orgId(), bob);
    expect(bobCatalog.tools.filter((x) => x.tool.startsWith('only_for_'))).toEqual([]);
    expect(bobCatalog.needsConnect).toEqual([{ server: 'gated', providerSlug: 'gh' }]);
    // Every listing was made with Alice's token or with none; Bob has no credentials to list with.
    expect(new Set(mcp.listedWith.slice(listsBefore))).toEqual(new Set([`Bearer ${aliceToken}`, '']));

    // Alice disconnects: she keeps seeing her own last listing, with the hint to reconnect.
    expect(await alice.send('/onbehalf disconnect gh')).toMatch(/gh/);
    const again = await alice.send('/onbehalf tools');
    expect(again).toContain(`gated.${aliceOnly}`);
    expect(again).toMatch(/• `gated`: connect your gh account/);
  });
});
