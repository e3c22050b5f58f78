import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { world, type World } from '../support/world.js';

/** A value to type for each placeholder the help shows; a new placeholder must be given one here. */
const SAMPLES: Record<string, string> = {
  '<server>': 'lab',
  '<server>.<tool>': 'lab.slow',
  '<json>': '{"ms":1}',
  '<tool-glob>': '*',
  '<provider>': 'vendor',
  '<slug>': 'gh2',
  '<preset|oidc|oauth2>': 'github',
  '<client_id>': 'client-9',
  '<id>': 'client-9',
  '<call id>': 'c-unknown',
  '<name>': 'probe',
  '<url>': 'http://127.0.0.1:9/mcp',
  '<command>': 'node',
  '<NAME>': 'TOKEN',
  '<source>': 'static:x',
  '<team>': 'support',
  '@user': '@mia',
  '<code>': 'NOTACODE',
};

/**
 * The command lines one usage stands for: each `a | b` alternative (one that does not start with
 * the command's word continues it, as `list` in `provider add … | list`), optional `[…]` parts
 * left out, the first of `x|y` choices, placeholders filled from SAMPLES.
 */
function linesOf(usage: string): string[] {
  const admin = usage.startsWith('admin ');
  const body = admin ? usage.slice('admin '.length) : usage;
  const word = body.split(' ')[0]!;
  return body.split(' | ').map((alt) => {
    const filled = alt
      .replace(/\[[^\]]*\]/g, '')
      .replace(/<[^>]+>\.<[^>]+>|<[^>]+>|@user/g, (p) => {
        const v = SAMPLES[p];
        if (v === undefined) throw new Error(`no sample for ${p} in "${usage}"`);
        return v;
      })
      .replace(/([^\s|]+)(?:\|[^\s|]+)+/g, (_m, first: string) => first)
      .trim();
    const line = filled.split(/\s+/)[0] === word ? filled : `${word} ${filled}`;
    return admin ? `admin ${line}` : line;
  });
}

describe('/onbehalf help', () => {
  let w: World;
  beforeAll(async () => {
    w = await world({
      env: { ONBEHALF_ADMINS: 'shell:local:ada' },
      provider: 'vendor',
      users: ['mia'],
      servers: [{ name: 'lab' }],
    });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('every command it shows, typed as shown, is taken as that command (no "unknown", no usage error)', async () => {
    const ada = w.as('ada');
    const help = await ada.send('/onbehalf help');
    const usages = [...help.matchAll(/^\s*• `\/onbehalf ([^`]+)` — /gm)].map((m) => m[1]!);
    expect(usages.length).toBeGreaterThan(15);
    expect(new Set(usages).size).toBe(usages.length);
    const typed: string[] = [];
    for (const usage of usages)
      for (const line of linesOf(usage)) {
        typed.push(line);
        let reply = await ada.send(`/onbehalf ${line}`);
        // A secret is asked for in a hidden prompt; type one so the next command is a command again.
        if (/\(hidden\): $/.test(reply)) reply += await ada.send('hidden-value-for-help-test');
        expect(reply, `/onbehalf ${line}`).toMatch(/^onbehalf/);
        expect(reply, `/onbehalf ${line}`).not.toMatch(/Unknown (admin )?command|Which admin command|Use: |Usage/i);
      }
    // The admin commands are typed with `admin` in front, and the word alternatives each became a line.
    expect(typed).toContain('admin provider list');
    expect(typed).toContain('admin audit export');
    expect(typed).toContain('connect confirm vendor');
  });

  it('provider add names --userinfo and --revoke; added without them, the reply says what a connect and a disconnect then cannot do', async () => {
    const ada = w.as('ada');
    const help = await ada.send('/onbehalf help');
    expect(help).toMatch(/admin provider add .*\[--userinfo URL\] \[--revoke URL\]/);
    const e = w.oauth.endpoints;
    const bare = await ada.send(
      `/onbehalf admin provider add bare oauth2 c1 --authorize ${e.authorizeUrl} --token ${e.tokenUrl}`,
    );
    expect(bare).toMatch(
      /Note: no --userinfo URL, so a connect cannot name the vendor account; no --revoke URL, so disconnect forgets the grant but cannot revoke it at the vendor\./,
    );
    await ada.send('');
    const full = await ada.send(
      `/onbehalf admin provider add full oauth2 c2 --authorize ${e.authorizeUrl} --token ${e.tokenUrl} --userinfo ${e.userinfoUrl} --revoke ${e.revokeUrl}`,
    );
    expect(full).toMatch(/Provider full \(full\) added/);
    expect(full).not.toMatch(/Note:/);
    await ada.send('');
    // A preset fills both.
    expect(await ada.send('/onbehalf admin provider add hub github c3')).not.toMatch(/Note:/);
    await ada.send('');
  });
});
