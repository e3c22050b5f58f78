import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { world, type World } from '../support/world.js';
import { fingerprint } from '../support/mcp-servers/index.js';
import { readFileSync } from 'node:fs';
import type { TestApp } from '../support/app.js';
import { OAuthTestServer, authorizeInBrowser } from '../support/oauth-server.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';

/** One line, no stack trace: what every refusal must look like. */
function oneLine(out: string) {
  const lines = out.split('\n').filter(Boolean);
  expect(lines, out).toHaveLength(1);
  expect(out).not.toMatch(/\n\s+at |Error:|undefined/);
  return lines[0]!;
}

describe('/onbehalf through the shell platform', () => {
  let w: World;
  let t: TestApp;
  let oauth: OAuthTestServer;
  let mcp: TestMcpHttpServer;
  const as = (user: string) => w.as(user);

  beforeAll(async () => {
    w = await world({ env: { ONBEHALF_ADMINS: 'shell:local:ada,discord:G-max:4242' } });
    ({ t, oauth, mcp } = w);
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('help lists member commands, and admin commands only to admins', async () => {
    const member = await as('mia').send('/onbehalf help');
    expect(member).toMatch(/\/onbehalf run <server>\.<tool> <json>/);
    expect(member).not.toMatch(/admin provider/);
    expect(await as('ada').send('/onbehalf help')).toMatch(/\/onbehalf provider add|admin/i);
    expect(await as('ada').send('/onbehalf help')).toMatch(
      /• `\/onbehalf admin org invite \| org join <code>` — join this workspace to another org/,
    );
    expect(member).not.toMatch(/admin org/);
  });

  it('run on a server the org does not have is refused at once, naming /onbehalf tools', async () => {
    const mia = as('mia');
    const from = mia.output.length;
    const reply = oneLine(await mia.send('/onbehalf run nosuch.list {}'));
    expect(reply).toBe(
      'onbehalf (only you): `nosuch.list` was not run: there is no server named nosuch. `/onbehalf tools` lists the servers and tools you may use.',
    );
    expect(mia.output.slice(from)).not.toMatch(/Running/);
  });

  it('in the shell, help, tools, whoami or connections alone on a line work without /onbehalf', async () => {
    const mia = as('mia');
    expect(await mia.send('whoami')).toMatch(/You are mia \(member\)/);
    expect(await mia.send('help')).toMatch(/• `\/onbehalf run <server>\.<tool> <json>`/);
    expect(await mia.send('  Connections ')).toMatch(/^onbehalf \(only you\): /);
    expect(await mia.send('connections')).toBe(await mia.send('/onbehalf connections'));
    expect(await mia.send('tools')).toMatch(/^onbehalf \(only you\): /);
    expect(await mia.send('tools')).toBe(await mia.send('/onbehalf tools'));
  });

  it('whoami names the user, role and linked identity', async () => {
    const out = await as('mia').send('/onbehalf whoami');
    expect(out).toMatch(/You are mia \(member\)/);
    expect(out).toMatch(/shell:local:mia/);
    expect(await as('ada').send('/onbehalf whoami')).toMatch(/You are ada \(admin\)/);
  });

  it('bad input is answered in one line with the right form', async () => {
    const mia = as('mia');
    expect(oneLine(await mia.send('/onbehalf conect github'))).toMatch(
      /Unknown command "conect"\. Did you mean `\/onbehalf connect`\?/,
    );
    expect(oneLine(await mia.send('/onbehalf run notes.list {oops'))).toMatch(
      /not valid JSON.*Use: `\/onbehalf run <server>\.<tool> <json arguments>`/,
    );
    expect(oneLine(await mia.send('/onbehalf run notes.list [1,2]'))).toMatch(/must be a JSON object/);
    expect(oneLine(await mia.send('/onbehalf run justaword {}'))).toMatch(/"justaword" is not <server>\.<tool>/);
    expect(oneLine(await mia.send(`/onbehalf run a.b {"x":"${'y'.repeat(4100)}"}`))).toMatch(
      /characters long; the limit is 4000/,
    );
    expect(oneLine(await mia.send('/onbehalf whoami \u0007\u001b[2J'))).toMatch(/control characters/);
    expect(oneLine(await mia.send('/onbehalf admin frobnicate'))).toMatch(/Unknown admin command "frobnicate"/);
    expect(oneLine(await mia.send('/onbehalf connect'))).toMatch(/Which provider\?/);
    expect(oneLine(await mia.send('/onbehalf disconnect'))).toMatch(/Which provider\?/);
    expect(oneLine(await mia.send('/notonbehalf help'))).toMatch(/Commands start with \/onbehalf/);
  });

  it('a command line carrying something shaped like a secret is refused and points to the form', async () => {
    const out = oneLine(
      await as('ada').send('/onbehalf admin secret set org deploy ghp_abcdefghijklmnopqrstuvwxyz0123456789'),
    );
    expect(out).toMatch(/Never type a secret value in a command.*a private form opens/);
    expect(t.logs.containing('ghp_abcdefghijklmnopqrstuvwxyz0123456789')).toEqual([]);
    expect(await as('ada').send('/onbehalf admin secret list')).toMatch(/No secrets yet/);
  });

  it('members get "admins only" for every admin command, and the attempt is audited', async () => {
    for (const cmd of [
      'provider list',
      'server list',
      'bind x env A static:b',
      'allow x *',
      'deny x *',
      'secret list',
      'team list',
      'role grant @mia',
      'audit',
    ]) {
      expect(oneLine(await as('mia').send(`/onbehalf admin ${cmd}`))).toMatch(/is for admins only/);
    }
    const audit = await as('ada').send('/onbehalf admin audit --user mia');
    expect(audit).toMatch(/ mia \(shell:local:mia\) admin\.role\.grant denied admins_only/);
  });

  it('an admin adds a provider (client secret through the hidden form) and a server with a binding', async () => {
    const ada = as('ada');
    const e = oauth.endpoints;
    const added = await ada.send(
      `/onbehalf admin provider add gh oauth2 test-client --scopes repo,read:user --authorize ${e.authorizeUrl} --token ${e.tokenUrl} --revoke ${e.revokeUrl} --userinfo ${e.userinfoUrl}`,
    );
    expect(added).toMatch(/Register this redirect URI at the vendor: http:\/\/127\.0\.0\.1:\d+\/oauth\/callback/);
    expect(added).toMatch(/Client secret \(hidden\):/);
    // The shell read the next line as the hidden value.
    const stored = await ada.send('client-secret-canary-123');
    expect(stored).toMatch(/secret/i);
    expect(await ada.send('/onbehalf admin provider list')).toMatch(/gh \(oauth2\) scopes: repo read:user/);
    expect(await ada.send(`/onbehalf admin server add tools http ${mcp.url}`)).toMatch(/tools/);
    expect(
      await ada.send('/onbehalf admin bind tools header Authorization oauth:gh --template "Bearer {token}"'),
    ).not.toMatch(/Use:/);
    expect(await ada.send('/onbehalf admin server list')).toMatch(/tools \(http .*\) bindings: .*Authorization/);
    expect(t.logs.containing('client-secret-canary-123')).toEqual([]);
    const [row] = await t.app.store.execute<{ s: string }>(
      sql`select client_secret_sealed s from oauth_providers where slug = 'gh'`,
    );
    expect(row!.s).toMatch(/^v2\./);
  });

  it('a member connects their own account, sees it, runs a tool with it, and disconnects', async () => {
    const mia = as('mia');
    const out = await mia.send('/onbehalf connect gh');
    const link = out.match(/→ Connect gh: (\S+)/)![1]!;
    oauth.login = 'mia-at-vendor';
    const r = await authorizeInBrowser(link);
    if (!('callbackUrl' in r)) throw new Error(`authorize failed: ${r.status} ${r.body}`);
    const before = mia.output.length;
    const page = await (await r.browser.fetch(r.callbackUrl)).text();
    expect(page, page).toMatch(/mia-at-vendor/);
    // Held until Mia says it is hers: the button's command, typed in the shell.
    const [, yes] = await mia.waitFor(/Yes, that's me: \/onbehalf (connect confirm gh)/, before);
    expect(await mia.send(`/onbehalf ${yes}`)).toMatch(/Confirmed/);
    await mia.waitFor(/gh account @?mia-at-vendor is now connected for mia/);
    expect(await mia.send('/onbehalf connections')).toMatch(/gh: @?mia-at-vendor \(active/);
    const from = mia.output.length;
    await mia.send('/onbehalf run tools.whoami {}');
    const token = oauth.issuedAccessTokens.at(-1)!;
    await mia.waitFor(new RegExp(fingerprint(`Bearer ${token}`)), from);
    expect(mcp.calls.at(-1)?.seen['authorization']).toBe(`Bearer ${token}`);
    // Every log line of the job names the request it serves.
    const jobLines = t.logs.lines
      .map((l) => JSON.parse(l) as { msg: string; reqId?: string })
      .filter((l) => /^tool job (started|finished)$/.test(l.msg));
    expect(jobLines.length).toBeGreaterThanOrEqual(2);
    expect(jobLines.every((l) => typeof l.reqId === 'string' && l.reqId.length > 0)).toBe(true);
    expect(await mia.send('/onbehalf disconnect gh')).toMatch(/gh/);
    expect(await mia.send('/onbehalf connections')).toMatch(/no connected accounts/);
  });

  it('a tool that needs a grant the caller lacks parks, prompts only the caller, and finishes after connecting', async () => {
    const max = as('max');
    const from = max.output.length;
    await max.send('/onbehalf run tools.whoami {}');
    const link = (await max.waitFor(/→ Connect gh: (\S+)/, from))[1]!;
    expect(as('mia').output).not.toContain(link);
    oauth.login = 'max-at-vendor';
    const r = await authorizeInBrowser(link);
    if (!('callbackUrl' in r)) throw new Error('authorize failed');
    const callsBefore = mcp.calls.length;
    await r.browser.fetch(r.callbackUrl);
    const [, yes] = await max.waitFor(/Yes, that's me: \/onbehalf (connect confirm gh)/, from);
    // The held grant is not used: the parked call waits for Max's confirmation.
    expect(mcp.calls.length).toBe(callsBefore);
    expect(await max.send(`/onbehalf ${yes}`)).toMatch(/Confirmed/);
    await max.waitFor(/gh account @?max-at-vendor is now connected for max/, from);
    const token = oauth.issuedAccessTokens.at(-1)!;
    await max.waitFor(new RegExp(fingerprint(`Bearer ${token}`)), from);
  });

  it('the caller is who the platform says, never who the arguments say (SECURITY 14)', async () => {
    const maxId = (await t.app.identity.resolve({ platform: 'shell', workspaceId: 'local', userId: 'max' })).user.id;
    const callsBefore = mcp.calls.length;
    const mia = as('mia');
    const from = mia.output.length;
    const maxFrom = as('max').output.length;
    // mia is not connected; naming max in every way the arguments allow does not borrow his grant.
    await mia.send(`/onbehalf run tools.whoami {"userId":"${maxId}","user":"max","as":"max","onBehalfOf":"${maxId}"}`);
    await mia.waitFor(/→ Connect gh: /, from);
    expect(mcp.calls.length).toBe(callsBefore);
    expect(as('max').output.slice(maxFrom)).toBe('');
  });

  it('admin secrets go through the hidden form, are stored sealed, and never shown', async () => {
    const ada = as('ada');
    expect(await ada.send('/onbehalf admin secret set org deploy_key')).toMatch(/Value of deploy_key \(hidden\):/);
    expect(await ada.send('org-secret-canary-456')).toMatch(/deploy_key/);
    const listed = await ada.send('/onbehalf admin secret list');
    expect(listed).toMatch(/org deploy_key/);
    expect(listed).not.toContain('org-secret-canary-456');
    expect(t.logs.containing('org-secret-canary-456')).toEqual([]);
    expect(await ada.send('/onbehalf admin secret delete org deploy_key')).toMatch(/deploy_key/);
    expect(await ada.send('/onbehalf admin secret list')).toMatch(/No secrets yet/);
  });

  it('access rules filter tools and deny calls naming the rule', async () => {
    const ada = as('ada');
    expect(await ada.send('/onbehalf admin deny tools slow')).not.toMatch(/Use:/);
    const tools = await as('max').send('/onbehalf tools');
    expect(tools).toMatch(/tools\.whoami/);
    expect(tools).not.toMatch(/tools\.slow/);
    const from = as('max').output.length;
    await as('max').send('/onbehalf run tools.slow {"ms":1}');
    await as('max').waitFor(/denied|not allowed/i, from);
  });

  it('roles, teams and audit are managed by admins', async () => {
    const ada = as('ada');
    expect(await ada.send('/onbehalf admin role grant mia')).toMatch(/mia is now an admin/);
    expect(await as('mia').send('/onbehalf admin provider list')).toMatch(/gh/);
    expect(await ada.send('/onbehalf admin role revoke mia')).toMatch(/mia is now a member/);
    expect(await as('mia').send('/onbehalf admin provider list')).toMatch(/admins only/);
    expect(await ada.send('/onbehalf admin role revoke ada')).toMatch(/cannot revoke your own/);
    expect(await ada.send('/onbehalf admin team create support')).toMatch(/support/);
    expect(await ada.send('/onbehalf admin team add support max')).toMatch(/support/);
    expect(await ada.send('/onbehalf admin team list')).toMatch(/support/);
    expect(await ada.send('/onbehalf admin role grant nobody-here')).toMatch(/No user "nobody-here"/);
    const audit = await ada.send('/onbehalf admin audit --since 1h');
    expect(audit).toMatch(/admin\.role\.grant allowed ok/);
    const exported = await ada.send('/onbehalf admin audit export');
    const file = exported.match(/to (\S+\.jsonl)/)![1]!;
    const rows = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { category: string });
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.some((r) => r.category === 'tool_call')).toBe(true);
    expect(await ada.send('/onbehalf admin audit --since yesterdayish')).toMatch(/--since takes/);
  });

  it('the remaining admin words: server test and remove, allow, provider remove, team channel and remove', async () => {
    const ada = as('ada');
    expect(await ada.send(`/onbehalf admin server add scratch http ${mcp.url} --timeout 5000`)).toMatch(/scratch/);
    expect(await ada.send('/onbehalf admin server test scratch')).toMatch(
      /scratch answered as you with \d+ tool\(s\): .*whoami/,
    );
    expect(await ada.send('/onbehalf admin allow scratch echo --roles admin')).not.toMatch(/Use:/);
    expect(await as('max').send('/onbehalf tools')).not.toMatch(/scratch\./);
    expect(await ada.send('/onbehalf tools')).toMatch(/scratch\.echo/);
    expect(await ada.send('/onbehalf admin server remove scratch')).toMatch(/scratch/);
    expect(await ada.send('/onbehalf admin server list')).not.toMatch(/scratch/);
    expect(await ada.send('/onbehalf admin server test scratch')).toMatch(/no server named scratch/);
    expect(await ada.send('/onbehalf admin server add gone http http://127.0.0.1:1/mcp')).toMatch(/gone/);
    expect(await ada.send('/onbehalf admin server test gone')).toMatch(
      /gone did not answer as expected \(unreachable: ECONNREFUSED\)\./,
    );
    expect(await ada.send('/onbehalf admin server remove gone')).toMatch(/gone/);
    expect(await ada.send('/onbehalf admin server add bad ftp x')).toMatch(
      /The transport must be http or stdio\. Use:/,
    );
    expect(await ada.send('/onbehalf admin provider add tmp github abc123')).toMatch(/Client secret \(hidden\):/);
    await ada.send('');
    expect(await ada.send('/onbehalf admin provider remove tmp')).toMatch(/tmp/);
    expect(await ada.send('/onbehalf admin provider list')).not.toMatch(/• tmp/);
    expect(await ada.send('/onbehalf admin provider add x nosuchpreset abc')).toMatch(/nosuchpreset/);
    expect(await ada.send('/onbehalf admin team create ops')).toMatch(/ops/);
    expect(await ada.send('/onbehalf admin team channel ops')).toMatch(/ops/);
    expect(await ada.send('/onbehalf admin team add ops max')).toMatch(/ops/);
    expect(await ada.send('/onbehalf admin team remove ops max')).toMatch(/ops/);
    expect(await ada.send('/onbehalf admin team delete ops')).toMatch(
      /Deleted team ops with its members and channels\./,
    );
    expect(await ada.send('/onbehalf admin team list')).not.toMatch(/ops/);
    expect(await ada.send('/onbehalf admin bind tools envy X static:y')).toMatch(/Use: `\/onbehalf admin bind/);
  });

  it('a link code from the shell merges a Discord identity into the same user, and both sides are told', async () => {
    const discord = { platform: 'discord' as const, workspaceId: 'G-max', userId: '4242', displayName: 'max#1' };
    const target = {
      platform: 'discord' as const,
      workspaceId: 'G-max',
      channelId: 'c1',
      userId: '4242',
      isDirect: true,
    };
    // Linking works within one org: the guild's admin (4242) first joins the guild to the shell's org.
    const invite = (await as('ada').send('/onbehalf admin org invite')).match(/`([A-Z0-9-]{14})`/)![1]!;
    const joined = await t.app.chat.handle({
      kind: 'command',
      identity: discord,
      target,
      text: `admin org join ${invite}`,
    });
    expect(joined?.private?.text).toMatch(/^Joined: this workspace now belongs to /);
    const code = (await as('max').send('/onbehalf link')).match(/`([A-Z0-9]{8})`/)![1]!;
    const ack = await t.app.chat.handle({ kind: 'command', identity: discord, target, text: `link ${code}` });
    expect(ack?.private?.text).toMatch(/discord:G-max:4242 now acts as max/);
    await as('max').waitFor(/direct message\): discord:G-max:4242 is now linked to you \(max\)/);
    expect(await as('max').send('/onbehalf whoami')).toMatch(/discord:G-max:4242/);
    const reused = await t.app.chat.handle({
      kind: 'command',
      identity: { ...discord, userId: '999' },
      target: { ...target, userId: '999' },
      text: `link ${code}`,
    });
    expect(reused?.private?.text).toMatch(/wrong, expired or already used/);
  });
});
