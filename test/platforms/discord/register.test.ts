import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../src/chat/index.js';
import { FakeDiscord } from '../../support/discord-fake.js';
import { tempDir, testKey } from '../../support/env.js';
import { runCli } from '../../support/cli.js';

type Opt = { type: number; name: string; description: string; options?: Opt[] };
const BOT_TOKEN = 'MTEx.register-canary.' + 'y'.repeat(20);

describe('onbehalf discord register', () => {
  let fake: FakeDiscord;
  let dir: { dir: string; cleanup: () => void };
  const env = () => ({
    ONBEHALF_DATA_DIR: dir.dir,
    ONBEHALF_KEYS: testKey(),
    DISCORD_TOKEN: BOT_TOKEN,
    DISCORD_APPLICATION_ID: fake.applicationId,
    DISCORD_API_URL: fake.apiUrl,
  });

  beforeAll(async () => {
    fake = await FakeDiscord.start();
    dir = tempDir();
  });
  afterAll(async () => {
    await fake?.stop();
    dir?.cleanup();
  });

  it('--guild registers /onbehalf in that guild with subcommands matching the router words, and prints them', async () => {
    const guild = fake.guilds[0]!.id;
    const r = await runCli(['discord', 'register', '--guild', guild], { cwd: dir.dir, env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const call = fake.calls.find(
      (c) => c.method === 'PUT' && c.path === `/applications/${fake.applicationId}/guilds/${guild}/commands`,
    )!;
    expect(call.authorization).toBe(`Bot ${BOT_TOKEN}`);
    const [cmd] = call.body as Opt[];
    expect(cmd!.name).toBe('onbehalf');
    const member = cmd!.options!.filter((o) => o.type === 1).map((o) => o.name);
    const admin = cmd!.options!.find((o) => o.type === 2 && o.name === 'admin')!.options!.map((o) => o.name);
    expect(member).toEqual(COMMANDS.member.map((c) => c.word));
    expect(admin).toEqual(COMMANDS.admin.map((c) => c.word));
    // Subcommands that take words carry them in one `args` option; descriptions fit Discord's 100 chars.
    const run = cmd!.options!.find((o) => o.name === 'run')!;
    expect(run.options).toMatchObject([{ type: 3, name: 'args', required: true }]);
    const all = [
      cmd!,
      ...cmd!.options!,
      ...cmd!.options!.flatMap((o) => o.options ?? []),
      ...cmd!.options!.flatMap((o) => (o.options ?? []).flatMap((p) => p.options ?? [])),
    ];
    expect(all.every((o) => o.description.length >= 1 && o.description.length <= 100)).toBe(true);
    expect(cmd).not.toHaveProperty('default_member_permissions');
    expect(r.stdout).toContain(`in guild ${guild}`);
    expect(r.stdout).toContain('/onbehalf run');
    expect(r.stdout).toContain('/onbehalf admin secret');
    expect(r.stdout + r.stderr).not.toContain(BOT_TOKEN);
  });

  it("each subcommand reads as the help does: its description is the router's summary, its args the usage that follows the word", async () => {
    const guild = fake.guilds[0]!.id;
    const r = await runCli(['discord', 'register', '--guild', guild], { cwd: dir.dir, env: env() });
    expect(r.code).toBe(0);
    const [cmd] = fake.commands.get(guild) as Opt[];
    const registered = [
      ...cmd!
        .options!.filter((o) => o.type === 1)
        .map((o) => ({ o, spec: COMMANDS.member.find((c) => c.word === o.name)! })),
      ...cmd!
        .options!.find((o) => o.name === 'admin')!
        .options!.map((o) => ({ o, spec: COMMANDS.admin.find((c) => c.word === o.name)! })),
    ];
    expect(registered).toHaveLength(COMMANDS.member.length + COMMANDS.admin.length);
    for (const { o, spec } of registered) {
      expect(o.description).toBe(spec.summary.length <= 100 ? spec.summary : spec.summary.slice(0, 99) + '…');
      const args = o.options?.[0]?.description;
      if (spec.usage === spec.word) {
        expect(o.options ?? []).toEqual([]);
        continue;
      }
      // What the picker shows is the router's usage after the word: no stray `|` or half a word in front.
      const first = args!.replace(/…$/, '').split(' | ')[0]!;
      expect(spec.usage.startsWith(`${spec.word} ${first}`), `${o.name}: ${args}`).toBe(true);
      expect(args).not.toMatch(/^\|/);
    }
    const admin = cmd!.options!.find((o) => o.name === 'admin')!.options!;
    expect(admin.find((o) => o.name === 'allow')!.options![0]!.description).toMatch(/^<server> <tool-glob> /);
    expect(admin.find((o) => o.name === 'deny')!.options![0]!.description).toMatch(/^<server> <tool-glob> /);
    expect(admin.find((o) => o.name === 'org')!.options![0]!.description).toBe('invite | join <code>');
  });

  it('without --guild registers globally', async () => {
    const r = await runCli(['discord', 'register'], { cwd: dir.dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('globally');
    expect(fake.commands.get('global')).toHaveLength(1);
  });

  it('a refusal from Discord is one line naming the status, without the token', async () => {
    const r = await runCli(['discord', 'register', '--guild', '1'], {
      cwd: dir.dir,
      env: { ...env(), DISCORD_APPLICATION_ID: '123' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('status 403, code 50001');
    expect(r.stderr).not.toContain(BOT_TOKEN);
  });
});
