import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir, testKey } from '../support/env.js';

/** The file of the README, as written there. */
const EXAMPLE = `orgs:
  - platform: slack            # slack | discord | shell
    workspace: T0123ABCD       # team id, guild id, or \`local\` for the shell
    admins: [U0ADMIN]
    providers:
      - slug: github
        preset: github
        client_id: Iv1.abc
        client_secret: env:GITHUB_CLIENT_SECRET
    servers:
      - name: github
        transport: http        # http | stdio (command + args)
        url: https://api.githubcopilot.com/mcp/
        bindings:
          Authorization: { source: "oauth:github", template: "Bearer {token}" }
    rules:
      - allow: github
        tools: "list_*"
        roles: [member]
`;

/** Every kind the file can hold, for the round trip. */
const EVERYTHING = `${EXAMPLE}        users: [U0ALICE]
        teams: [support]
      - deny: github
        tools: "drop_*"
    approvals:
      - server: github
        tools: "create_*"
        mode: always
    teams:
      - name: support
        members: [U0ALICE, U0BOB]
  - platform: shell
    workspace: local
    providers:
      - slug: corp
        preset: oauth2
        client_id: corp-client
        client_secret: file:corp.secret
        authorize_url: https://id.example.com/authorize
        token_url: https://id.example.com/token
        scopes: [read, write]
        share: true
    servers:
      - name: local
        transport: stdio
        command: /usr/bin/env
        args: [node, server.js]
        timeout_ms: 5000
        bindings:
          TOKEN: static:not-a-secret
`;

const SECRET = 'gh-client-secret-value-1234';
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A data directory and a config file in it; `cli` runs `onbehalf` there with ONBEHALF_CONFIG set. */
function setup(text: string) {
  const { dir, cleanup } = tempDir('onbehalf-config-');
  cleanups.push(cleanup);
  const file = path.join(dir, 'onbehalf.yaml');
  writeFileSync(file, text);
  writeFileSync(path.join(dir, 'corp.secret'), 'corp-secret-value-5678\n');
  const env = {
    NODE_ENV: 'test',
    ONBEHALF_DATA_DIR: path.join(dir, 'data'),
    ONBEHALF_KEYS: testKey(),
    ONBEHALF_CONFIG: './onbehalf.yaml',
    GITHUB_CLIENT_SECRET: SECRET,
  };
  const cli = (...args: string[]) => runCli(args, { cwd: dir, env, timeoutMs: 60_000 });
  return { dir, file, env, cli, write: (t: string) => writeFileSync(file, t) };
}

describe('onbehalf config apply / export', () => {
  it('the dry run prints the plan and changes nothing; apply makes it so, once; export gives references, never secrets', async () => {
    const { cli } = setup(EXAMPLE);
    const dry = await cli('config', 'apply', '--dry-run');
    expect(dry.stderr).toBe('');
    expect(dry.stdout).toMatch(/^slack T0123ABCD:$/m);
    for (const line of [
      '+ admin U0ADMIN',
      '+ provider github',
      '+ server github',
      '+ rule #1: allow github list_* roles member',
    ])
      expect(dry.stdout).toContain(`  ${line}\n`);
    expect((await cli('config', 'export')).stdout).toContain('orgs: []');

    const applied = await cli('config', 'apply');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toBe(dry.stdout);
    expect((await cli('config', 'apply', '--dry-run')).stdout).toBe(
      'onbehalf.yaml: no changes; the database matches the file.\n',
    );
    const exported = (await cli('config', 'export')).stdout;
    expect(exported).toContain('client_secret: env:GITHUB_CLIENT_SECRET');
    expect(exported).toContain('Authorization:');
    expect(exported).toContain('template: Bearer {token}');
    expect(exported).toContain('- U0ADMIN');
    expect(exported).not.toContain(SECRET);
  }, 120_000);

  it('a changed rule is changed, a dropped provider removed, and the plan says so', async () => {
    const { cli, write } = setup(EXAMPLE);
    expect((await cli('config', 'apply')).code).toBe(0);
    const next = EXAMPLE.replace('tools: "list_*"', 'tools: "get_*"')
      .replace(/ {4}providers:\n(.*\n){4}/, '')
      .replace(/ {8}bindings:\n.*\n/, '');
    write(next);
    const dry = await cli('config', 'apply', '--dry-run');
    expect(dry.stdout).toContain('  - provider github\n');
    expect(dry.stdout).toContain('  ~ rule #1: allow github get_* roles member\n');
    expect(dry.stdout).toContain('  ~ server github\n');
    expect(dry.stdout).not.toContain('admin');
    expect((await cli('config', 'apply')).code).toBe(0);
    const exported = (await cli('config', 'export')).stdout;
    expect(exported).not.toContain('providers:');
    expect(exported).not.toContain('Authorization');
    expect(exported).toContain('tools: get_*');
    expect(exported).not.toContain('list_*');
  }, 120_000);

  it('round trip: what export prints applies to a fresh database as the same state, and back to the same one as no change', async () => {
    const a = setup(EVERYTHING);
    expect((await a.cli('config', 'apply')).code).toBe(0);
    const first = (await a.cli('config', 'export')).stdout;
    for (const part of ['file:corp.secret', 'mode: always', '- U0BOB', 'TOKEN: static:not-a-secret', 'tools: drop_*'])
      expect(first).toContain(part);
    expect(first).not.toContain('corp-secret-value');

    const b = setup(first);
    expect((await b.cli('config', 'apply')).code).toBe(0);
    expect((await b.cli('config', 'export')).stdout).toBe(first);
    expect((await b.cli('config', 'apply', '--dry-run')).stdout).toMatch(/no changes/);

    a.write(first);
    expect((await a.cli('config', 'apply', '--dry-run')).stdout).toMatch(/no changes/);
  }, 120_000);
});

describe('a mistake in the config file', () => {
  it('names the file, line and column and what is expected, and stops `config apply` and `serve`', async () => {
    const { cli, env, dir } = setup(EXAMPLE.replace('transport: http        #', 'transport: ftp        #'));
    const r = await cli('config', 'apply');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^onbehalf: onbehalf\.yaml:12:20: orgs\[0\]\.servers\[0\]\.transport: expected transport: http or stdio\n$/,
    );
    const served = await runCli(['serve'], { cwd: dir, env: { ...env, PORT: '0' }, timeoutMs: 60_000 });
    expect(served.code).toBe(2);
    expect(served.stderr).toContain('onbehalf: onbehalf.yaml:12:20:');
  }, 120_000);

  it('an inline secret, an unset variable, an unknown key and bad YAML are each refused at their place', async () => {
    const cases: [string, RegExp][] = [
      [
        EXAMPLE.replace('env:GITHUB_CLIENT_SECRET', 'ghs_abcdef'),
        /onbehalf\.yaml:9:24: orgs\[0\]\.providers\[0\]\.client_secret: expected a reference env:NAME or file:PATH/,
      ],
      [
        EXAMPLE.replace('env:GITHUB_CLIENT_SECRET', 'env:NOT_SET_HERE'),
        /onbehalf\.yaml:9:24: .*NOT_SET_HERE is not set/,
      ],
      [
        EXAMPLE.replace('        preset: github', '        preset: github\n        colour: red'),
        /onbehalf\.yaml:8:9: orgs\[0\]\.providers\[0\]\.colour: unknown key/,
      ],
      [EXAMPLE.replace('admins: [U0ADMIN]', 'admins: [U0ADMIN'), /onbehalf\.yaml:\d+:\d+: not valid YAML/],
    ];
    for (const [text, want] of cases) {
      const { cli } = setup(text);
      const r = await cli('config', 'apply', '--dry-run');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(want);
    }
  }, 120_000);
});
