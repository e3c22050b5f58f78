import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring, Secret } from '../../src/crypto/index.js';
import { openDb, sqliteStore, type Db, type Store } from '../../src/db/index.js';
import { Identity } from '../../src/identity/index.js';
import { decide, globMatch, parseSource, Policy } from '../../src/policy/index.js';
import { NetGuard } from '../../src/net/index.js';
import { tempDir, testKey } from '../support/env.js';
import { insideForms } from '../net/forms.js';
import { wordsOf } from '../support/said.js';
import { problemText, teamText } from '../../src/chat/words/problems.js';

const tmp = tempDir('onbehalf-policy-');
let db: Db;
let store: Store;
let policy: Policy;
let identity: Identity;
let orgId: string;
const SECRET = 'sk-live-CANARY-policy-41d7';

beforeAll(async () => {
  // A database file, so the test can look at what lands on disk.
  db = openDb(path.join(tmp.dir, 'p.db'));
  store = sqliteStore(db);
  identity = new Identity(store);
  policy = new Policy(store, new Keyring([testKey()]));
  orgId = (await identity.orgFor('slack', 'T1', 'Acme')).id;
});
afterAll(async () => {
  await store.close();
  tmp.cleanup();
});

describe('MCP servers', () => {
  it('refuses a stdio server from chat unless the operator allows it, and says why', async () => {
    const r = await wordsOf(policy).addServer(orgId, {
      name: 'local',
      transport: 'stdio',
      command: 'npx',
      args: ['some-mcp'],
    });
    expect(r).toEqual({
      ok: false,
      error: expect.stringMatching(
        /runs a program on the worker host, so it can be added from chat only when the operator sets ONBEHALF_ALLOW_STDIO=true\./,
      ),
    });
    expect(
      (
        await policy.addServer(
          orgId,
          { name: 'local', transport: 'stdio', command: 'npx', args: ['some-mcp'] },
          { source: 'operator' },
        )
      ).ok,
    ).toBe(true);
    const allowing = new Policy(store, new Keyring([testKey()]), { allowStdio: true });
    expect((await allowing.addServer(orgId, { name: 'local2', transport: 'stdio', command: 'npx' })).ok).toBe(true);
  });

  it('refuses loopback and metadata URLs unless private URLs are allowed; lists and removes servers', async () => {
    for (const url of [
      'http://127.0.0.1:6379/mcp',
      'http://169.254.169.254/latest',
      'http://localhost/mcp',
      'http://10.0.0.5/mcp',
    ]) {
      const r = await wordsOf(policy).addServer(orgId, { name: 'x', transport: 'http', url });
      expect(r.ok ? '' : r.error).toMatch(/loopback, private or link-local/);
    }
    expect(
      (
        await policy.addServer(orgId, {
          name: 'gh',
          transport: 'http',
          url: 'https://mcp.example.com/mcp',
          timeoutMs: 5000,
        })
      ).ok,
    ).toBe(true);
    expect(
      await wordsOf(policy).addServer(orgId, { name: 'gh', transport: 'http', url: 'https://mcp.example.com/mcp' }),
    ).toEqual({ ok: false, error: 'Server not added: there is already a server named gh.' });
    expect(
      await wordsOf(policy).addServer(orgId, { name: 'bad name!', transport: 'http', url: 'https://x.example' }),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/^Server not added: name: a server name is/) });
    expect((await policy.listServers(orgId)).map((s) => s.name)).toContain('gh');
    expect((await policy.server(orgId, 'gh'))!.timeoutMs).toBe(5000);
  });

  it('every spelling of an inside address (mapped IPv6, hex/octal/decimal IPv4, CGNAT, benchmarking, metadata …) is refused at add time in one line, over https too', async () => {
    for (const form of insideForms(8080)) {
      for (const url of [form, form.replace('http:', 'https:')]) {
        const r = await wordsOf(policy).addServer(orgId, { name: 'inside', transport: 'http', url });
        expect(r, url).toEqual({
          ok: false,
          error: expect.stringMatching(
            /^Server not added: .+ is a loopback, private or link-local address \(.+\); the operator can allow private addresses with ONBEHALF_ALLOW_PRIVATE_URLS=true\.$/,
          ),
        });
      }
    }
    expect(await policy.server(orgId, 'inside')).toBeUndefined();
    expect(
      await wordsOf(policy).addServer(orgId, { name: 'plain', transport: 'http', url: 'http://mcp.example.com/mcp' }),
    ).toEqual({ ok: false, error: 'Server not added: the URL mcp.example.com must use https.' });
    const allowing = new Policy(store, new Keyring([testKey()]), { net: new NetGuard({ allowPrivate: true }) });
    expect(
      (
        await allowing.addServer(orgId, {
          name: 'inside',
          transport: 'http',
          url: 'http://[::ffff:127.0.0.1]:8080/mcp',
        })
      ).ok,
    ).toBe(true);
  });
});

describe('credential bindings', () => {
  it('parses every source kind and rejects the rest with one line', () => {
    expect(parseSource('oauth:github')).toEqual({ ok: true, source: { kind: 'oauth', provider: 'github' } });
    expect(parseSource('mcp_oauth')).toEqual({ ok: true, source: { kind: 'mcp_oauth' } });
    expect(parseSource('org_secret:key')).toEqual({ ok: true, source: { kind: 'org_secret', name: 'key' } });
    expect(parseSource('team_secret:k')).toMatchObject({ ok: true });
    expect(parseSource('user_secret:k')).toMatchObject({ ok: true });
    expect(parseSource('static:eu-1')).toEqual({ ok: true, source: { kind: 'static', value: 'eu-1' } });
    for (const bad of ['oauth:', 'oauth:Git Hub', 'mcp_oauth:x', 'org_secret:', 'env:HOME', 'static:', 'password']) {
      const r = parseSource(bad);
      expect(r.ok).toBe(false);
      expect(r.ok ? '' : r.error).not.toContain('\n');
    }
  });

  it('binds headers to http servers and env vars to stdio ones, mixing sources; validates names and templates', async () => {
    expect(
      await wordsOf(policy).bind(orgId, 'gh', 'header', 'Authorization', 'oauth:github', 'Bearer {token}'),
    ).toMatchObject({
      ok: true,
    });
    expect(await wordsOf(policy).bind(orgId, 'gh', 'header', 'X-Org', 'org_secret:key')).toMatchObject({ ok: true });
    expect(await wordsOf(policy).bind(orgId, 'gh', 'header', 'X-Region', 'static:eu-1')).toMatchObject({
      ok: true,
      message: expect.stringContaining('a static value'),
    });
    expect(await wordsOf(policy).bind(orgId, 'gh', 'env', 'TOKEN', 'oauth:github')).toEqual({
      ok: false,
      error: 'gh is an http server: bind headers, not env variables.',
    });
    expect(await wordsOf(policy).bind(orgId, 'local', 'header', 'Authorization', 'oauth:github')).toMatchObject({
      ok: false,
    });
    expect(await wordsOf(policy).bind(orgId, 'local', 'env', 'GITHUB_TOKEN', 'oauth:github')).toMatchObject({
      ok: true,
    });
    expect(await wordsOf(policy).bind(orgId, 'local', 'env', 'X', 'mcp_oauth')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/only for http servers/),
    });
    expect(await wordsOf(policy).bind(orgId, 'gh', 'header', 'Host', 'static:evil')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/set by the MCP transport/),
    });
    expect(
      await wordsOf(policy).bind(orgId, 'gh', 'header', 'Authorization', 'oauth:github', 'Bearer token'),
    ).toMatchObject({
      ok: false,
      error: expect.stringMatching(/\{token\} exactly once/),
    });
    expect(await wordsOf(policy).bind(orgId, 'gh', 'header', 'Authorization', 'nope:1')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^Not bound: unknown source "nope"/),
    });
    const gh = (await policy.listServers(orgId)).find((s) => s.name === 'gh')!;
    expect(gh.bindings.sort()).toEqual([
      'header Authorization=oauth:github',
      'header X-Org=org_secret:key',
      'header X-Region=static',
    ]);
  });
});

describe('secrets', () => {
  it('are sealed at rest with the row in the AAD, never listed with their value, and a moved value does not open', async () => {
    const alice = (await identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'alice' })).user;
    const bob = (await identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'bob' })).user;
    expect(await wordsOf(policy).setSecret(orgId, 'org', orgId, 'key', new Secret(SECRET))).toMatchObject({ ok: true });
    expect(await wordsOf(policy).setSecret(orgId, 'user', alice.id, 'token', new Secret('alice-CANARY'))).toMatchObject(
      {
        ok: true,
      },
    );
    expect(await wordsOf(policy).setSecret(orgId, 'team', 'nope', 'k', new Secret('x'))).toEqual({
      ok: false,
      error: 'There is no team nope.',
    });
    await policy.team(orgId, 'create', 'support');
    expect(await wordsOf(policy).setSecret(orgId, 'team', 'support', 'k', new Secret('team-CANARY'))).toMatchObject({
      ok: true,
    });
    const listed = await policy.listSecrets(orgId);
    expect(listed.map((s) => `${s.scope}:${s.owner}:${s.name}`).sort()).toEqual([
      'org:org:key',
      'team:support:k',
      `user:${alice.displayName}:token`,
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/CANARY/);
    db.$client.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(path.join(tmp.dir, 'p.db')).includes(Buffer.from(SECRET))).toBe(false);
    expect((await policy.secrets.get(orgId, 'org', orgId, 'key'))!.reveal()).toBe(SECRET);
    // Copy Alice's sealed value onto a row of Bob's: it does not open there.
    const { secrets } = store.t;
    const aliceRow = (await store.rows(store.db.select().from(secrets))).find((s) => s.scopeId === alice.id)!;
    await policy.setSecret(orgId, 'user', bob.id, 'token', new Secret('bob'));
    const { eq } = await import('drizzle-orm');
    await store.changes(
      store.db.update(secrets).set({ valueSealed: aliceRow.valueSealed }).where(eq(secrets.scopeId, bob.id)),
    );
    await expect(policy.secrets.get(orgId, 'user', bob.id, 'token')).rejects.toThrow(/does not open/);
    expect(await wordsOf(policy).deleteSecret(orgId, 'org', orgId, 'key')).toEqual({
      ok: true,
      message: 'Deleted org secret key.',
    });
    expect(await policy.secrets.get(orgId, 'org', orgId, 'key')).toBeUndefined();
  });
});

describe('teams', () => {
  it('a team secret comes from the channel’s team, else the only team; otherwise the error says why', async () => {
    const carol = (await identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'carol' })).user;
    const none = await policy.teams.resolve(orgId, carol.id);
    expect(none).toEqual({ kind: 'error', problem: { code: 'no_team' } });
    expect(none.kind === 'error' && teamText(none.problem)).toBe(
      'you are in no team, so a team secret cannot be chosen',
    );
    await policy.team(orgId, 'add', 'support', carol.id);
    expect(await policy.teams.resolve(orgId, carol.id)).toMatchObject({ kind: 'ok', team: { name: 'support' } });
    await policy.team(orgId, 'create', 'sales');
    await policy.team(orgId, 'add', 'sales', carol.id);
    const several = await policy.teams.resolve(orgId, carol.id, { platform: 'slack', channelId: 'C9' });
    expect(several.kind === 'error' && teamText(several.problem)).toMatch(/several teams \(support, sales\)/);
    expect((await policy.team(orgId, 'channel', 'sales', 'slack:C9')).ok).toBe(true);
    expect(await policy.teams.resolve(orgId, carol.id, { platform: 'slack', channelId: 'C9' })).toMatchObject({
      kind: 'ok',
      team: { name: 'sales' },
    });
    const dave = (await identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'dave' })).user;
    await policy.team(orgId, 'add', 'support', dave.id);
    const other = await policy.teams.resolve(orgId, dave.id, { platform: 'slack', channelId: 'C9' });
    expect(other.kind === 'error' && teamText(other.problem)).toMatch(
      /belongs to team sales, and you are not a member/,
    );
    expect((await policy.team(orgId, 'list', undefined)).ok).toBe(true);
  });

  it('a deleted team takes its members, channels and secrets; a new team of the same name inherits no rule', async () => {
    const erin = (await identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'erin' })).user;
    const mallory = (await identity.resolve({ platform: 'slack', workspaceId: 'T1', userId: 'mallory' })).user;
    await policy.addServer(orgId, { name: 'payroll', transport: 'http', url: 'https://payroll.example.com/mcp' });
    const server = (await policy.server(orgId, 'payroll'))!;
    await policy.team(orgId, 'create', 'finance');
    await policy.team(orgId, 'add', 'finance', erin.id);
    await policy.team(orgId, 'channel', 'finance', 'slack:C-fin');
    await policy.setSecret(orgId, 'team', 'finance', 'payroll-key', new Secret('finance-CANARY'));
    expect((await policy.rule(orgId, 'allow', 'payroll', { tools: '*', teams: ['finance'] })).ok).toBe(true);
    const subject = async (u: { id: string; role: string }) => ({
      userId: u.id,
      role: u.role,
      teams: await policy.teams.ofUser(orgId, u.id),
    });
    const ctx = {
      'user.id': '',
      'user.email': '',
      'user.name': '',
      'org.id': orgId,
      'chat.channel': '',
      'chat.platform': '',
    };
    expect(decide(await policy.rules(server.id), 'payroll', await subject(erin), 'pay', {}, ctx).kind).toBe('allowed');

    const r = await wordsOf(policy).team(orgId, 'delete', 'finance');
    expect(r).toEqual({
      ok: true,
      message:
        'Deleted team finance with its members and channels and 1 team secret(s). 1 access rule(s) still name it and now match no one through it.',
    });
    expect(await policy.teams.ofUser(orgId, erin.id)).toEqual([]);
    expect((await store.rows(store.db.select().from(store.t.secrets))).some((x) => x.name === 'payroll-key')).toBe(
      false,
    );
    expect(await policy.teams.resolve(orgId, erin.id, { platform: 'slack', channelId: 'C-fin' })).toMatchObject({
      kind: 'error',
    });
    // Someone re-creates "finance" and joins it: the old rule named the old team, not the name.
    await policy.team(orgId, 'create', 'finance');
    await policy.team(orgId, 'add', 'finance', mallory.id);
    expect(decide(await policy.rules(server.id), 'payroll', await subject(mallory), 'pay', {}, ctx).kind).toBe(
      'denied',
    );
    expect(decide(await policy.rules(server.id), 'payroll', await subject(erin), 'pay', {}, ctx).kind).toBe('denied');
    expect(await wordsOf(policy).team(orgId, 'delete', 'nosuch')).toEqual({
      ok: false,
      error: 'There is no team nosuch.',
    });
  });
});

describe('access rules', () => {
  const ctx = {
    'user.id': 'u1',
    'user.email': 'alice@acme.com',
    'user.name': 'Alice',
    'org.id': 'o1',
    'chat.channel': 'C1',
    'chat.platform': 'slack',
  } as const;
  const subject = { userId: 'u1', role: 'member', teams: [{ id: 't1', name: 'support' }] };
  const rule = (r: Partial<Parameters<typeof decide>[0][number]>) => ({
    id: Math.random().toString(),
    effect: 'allow' as const,
    tools: '*',
    subjects: {},
    argConstraints: {},
    inject: {},
    ...r,
  });

  it('globs match whole values', () => {
    expect(globMatch('acme/*', 'acme/app')).toBe(true);
    expect(globMatch('acme/*', 'evil/acme/app')).toBe(false);
    expect(globMatch('list_*', 'list_issues')).toBe(true);
    expect(globMatch('a.b', 'axb')).toBe(false);
  });

  it('no rules: everyone may; a deny names its rule; allows narrow by role, user or team', () => {
    expect(decide([], 'gh', subject, 'x', {}, ctx)).toMatchObject({ kind: 'allowed' });
    const deny = rule({ effect: 'deny', tools: 'delete_*', subjects: { teams: ['t1'] } });
    const denied = decide([deny], 'gh', subject, 'delete_repo', {}, ctx);
    expect(denied).toEqual({
      kind: 'denied',
      rule: 'deny gh "delete_*" for teams t1',
      why: { code: 'deny_rule', rule: 'deny gh "delete_*" for teams t1' },
    });
    expect(denied.kind === 'denied' && problemText(denied.why)).toBe('denied by rule: deny gh "delete_*" for teams t1');
    const admins = rule({ tools: 'admin_*', subjects: { roles: ['admin'] } });
    const none = decide([admins], 'gh', subject, 'admin_x', {}, ctx);
    expect(none).toMatchObject({ kind: 'denied', why: { code: 'no_allow_rule', server: 'gh', tool: 'admin_x' } });
    expect(none.kind === 'denied' && problemText(none.why)).toBe('no allow rule of gh lets you use admin_x');
    expect(decide([admins], 'gh', { ...subject, role: 'admin' }, 'admin_x', {}, ctx)).toMatchObject({
      kind: 'allowed',
    });
    expect(decide([rule({ subjects: { users: ['u1'] } })], 'gh', subject, 'anything', {}, ctx)).toMatchObject({
      kind: 'allowed',
    });
  });

  it('injected context overrides supplied arguments and is what constraints see', () => {
    const r = rule({
      tools: 'create_issue',
      argConstraints: { repo: 'acme/*' },
      inject: { reporter: '{user.email}', repo: 'acme/{chat.channel}' },
    });
    const d = decide([r], 'gh', subject, 'create_issue', { title: 't', reporter: 'ceo@acme.com', repo: 'evil/x' }, ctx);
    expect(d).toEqual({
      kind: 'allowed',
      args: { title: 't', reporter: 'alice@acme.com', repo: 'acme/C1' },
      rule: expect.any(String),
    });
  });

  it('rules are validated when added: unknown placeholders, users and teams are refused', async () => {
    expect(
      await wordsOf(policy).rule(orgId, 'allow', 'gh', { tools: '*', inject: { who: '{user.password}' } }),
    ).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unknown placeholder/),
    });
    expect(await wordsOf(policy).rule(orgId, 'allow', 'gh', { tools: '*', teams: ['ghosts'] })).toEqual({
      ok: false,
      error: 'Rule not added: there is no team ghosts.',
    });
    expect(await wordsOf(policy).rule(orgId, 'allow', 'gh', { tools: '*', roles: ['owner'] })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/roles are admin or member/),
    });
    expect(await wordsOf(policy).rule(orgId, 'deny', 'gh', { tools: '*', inject: { a: '{user.id}' } })).toMatchObject({
      ok: false,
    });
    expect(
      await wordsOf(policy).rule(orgId, 'allow', 'gh', {
        tools: 'list_*',
        teams: ['support'],
        args: { repo: 'acme/*' },
        inject: { email: '{user.email}' },
      }),
    ).toMatchObject({
      ok: true,
      message: expect.stringMatching(
        /allow gh "list_\*" for teams .* with repo=acme\/\*, injecting email=\{user.email\}/,
      ),
    });
    expect(await policy.rules((await policy.server(orgId, 'gh'))!.id)).toHaveLength(1);
  });
});
