import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../support/mcp-servers/index.js';
import { VISIT_URL } from '../support/mcp-servers/tools.js';
import { world, type World } from '../support/world.js';

const CANARY = 'vk-elicitCanary_5f1e2d3c4b5a69788796a5b4';

/** Every key and value the deployment's Redis holds now, as text. */
async function redisDump(url: string): Promise<string> {
  const r = new Redis(url);
  try {
    const out: string[] = [];
    for (const k of await r.keys('*')) {
      const type = await r.type(k);
      const v =
        type === 'string'
          ? await r.get(k)
          : type === 'list'
            ? (await r.lrange(k, 0, -1)).join('\n')
            : type === 'hash'
              ? JSON.stringify(await r.hgetall(k))
              : type === 'stream'
                ? JSON.stringify(await r.xrange(k, '-', '+'))
                : type === 'zset'
                  ? (await r.zrange(k, '0', '-1')).join('\n')
                  : '';
      out.push(k, v ?? '');
    }
    return out.join('\n');
  } finally {
    r.disconnect();
  }
}

// A tool server that asks its caller for details during a call (MCP elicitation), in the shell.
describe('a form an MCP server asks for during a call (shell)', () => {
  let w: World;

  beforeAll(async () => {
    w = await world({
      users: ['ana', 'bob'],
      servers: [
        { name: 'vendor', timeoutMs: 20_000 },
        { name: 'quick', timeoutMs: 2_000 },
      ],
    });
    for (const s of ['vendor', 'quick']) await w.app.policy.rule(w.org.id, 'allow', s, { tools: '*' });
  }, 30_000);
  afterAll(async () => {
    await w?.stop();
  });

  /** Runs `server.tool` as `name` and returns the id of the question it posts to them. */
  const askedOf = async (name: string, call: string) => {
    const me = w.as(name);
    const from = me.output.length;
    await me.send(`/onbehalf run ${call} {}`);
    const m = await me.waitFor(/`\/onbehalf answer ([A-Za-z0-9_-]+)`/, from);
    return m[1]!;
  };

  it('asks each field with its type, default and required mark; defaults fill empty fields; the caller alone answers; the secret stays out of logs, chat and Redis', async () => {
    const ana = w.as('ana');
    const bob = w.as('bob');
    const from = ana.output.length;
    const id = await askedOf('ana', 'vendor.ask_profile');
    expect(ana.output.slice(from)).toContain('Tell us about you');

    expect(await bob.send(`/onbehalf answer ${id}`)).toContain(
      'Only the person whose call asked this can answer it; nothing was sent.',
    );
    expect(await bob.send(`/onbehalf answer ${id} decline`)).toContain('Only the person whose call asked this');

    expect(await ana.send(`/onbehalf answer ${id}`)).toMatch(/Name \(text, required\):$/);
    expect(await ana.send('Ana')).toMatch(/Nickname \(text, default Sam\):$/);
    expect(await ana.send('')).toMatch(/Age \(a whole number from 0 to 150, required\):$/);
    expect(await ana.send('41')).toMatch(/Score \(a number, default 9\.5\):$/);
    expect(await ana.send('')).toMatch(/Subscribed \(yes or no, default yes\):$/);
    expect(await ana.send('no')).toMatch(/Plan \(one of: free, pro, team, default free\):$/);
    expect(await ana.send('pro')).toMatch(/API key \(Your vendor key — text, required\) \(hidden\):$/);
    expect(await ana.send(CANARY)).toContain('Sent to `vendor.ask_profile`');

    const m = await ana.waitFor(/"action":"accept","content":(\{[^\n]*\})\}/, from);
    expect(JSON.parse(m[1]!)).toEqual({
      name: 'Ana',
      nickname: 'Sam',
      age: 41,
      score: 9.5,
      subscribed: false,
      plan: 'pro',
      api_key: fingerprint(CANARY),
    });
    // A second answer of the same question goes nowhere.
    expect(await ana.send(`/onbehalf answer ${id} cancel`)).toContain('already answered');

    expect(w.logs.containing(CANARY)).toEqual([]);
    expect(ana.output + bob.output).not.toContain(CANARY);
    expect(await redisDump(w.redis!.url)).not.toContain(CANARY);
    const audit = (await w.app.audit.query(w.org.id)).filter((e) => e.action.startsWith('elicitation'));
    expect(audit.map((e) => [e.action, e.server, e.tool, e.outcome])).toEqual(
      expect.arrayContaining([
        ['elicitation', 'vendor', 'ask_profile', 'accept'],
        ['elicitation.answer', 'vendor', 'ask_profile', 'not_yours'],
      ]),
    );
    expect(JSON.stringify(audit)).not.toContain(CANARY);
  });

  it('a required field left empty is not sent (the field is named), and a decline reaches the server as a decline', async () => {
    const ana = w.as('ana');
    const from = ana.output.length;
    const id = await askedOf('ana', 'vendor.ask_profile');
    await ana.send(`/onbehalf answer ${id}`);
    for (const v of ['', '', '', '', '', '']) await ana.send(v);
    const said = await ana.send('');
    expect(said).toContain('Not sent: Name is required. Age is required. API key is required.');
    expect(await ana.send(`/onbehalf answer ${id} decline`)).toContain('Declined');
    await ana.waitFor(/"action":"decline"/, from);
  });

  it('a question nobody answers before the call deadline is cancelled', async () => {
    const ana = w.as('ana');
    const from = ana.output.length;
    await askedOf('ana', 'quick.ask_profile');
    await ana.waitFor(/"action":"cancel"/, from);
    const audit = (await w.app.audit.query(w.org.id)).filter((e) => e.action === 'elicitation' && e.server === 'quick');
    expect(audit.map((e) => e.outcome)).toEqual(['timeout']);
  });

  it('url mode: the caller is shown the full URL and its domain (never fetched); their consent reaches the server as accept, their Decline as decline, another user can do neither', async () => {
    const ana = w.as('ana');
    const bob = w.as('bob');
    let from = ana.output.length;
    await ana.send('/onbehalf run vendor.visit {}');
    const id = (await ana.waitFor(/`\/onbehalf answer ([A-Za-z0-9_-]+)` \(or add `decline`\)/, from))[1]!;
    const shown = ana.output.slice(from);
    expect(shown).toContain('asks you to open a page on *vendor.example*');
    expect(shown).toContain(`Full address: ${VISIT_URL}`);
    expect(shown).toContain(`Open vendor.example: ${VISIT_URL}`);
    expect(shown).not.toContain('visit: ');
    expect(await bob.send(`/onbehalf answer ${id} decline`)).toContain('Only the person whose call asked this');
    expect(await ana.send(`/onbehalf answer ${id}`)).toContain('Told `vendor.visit` you will open the page');
    await ana.waitFor(/visit: accept/, from);

    from = ana.output.length;
    await ana.send('/onbehalf run vendor.visit {}');
    const again = (await ana.waitFor(/`\/onbehalf answer ([A-Za-z0-9_-]+)` \(or add `decline`\)/, from))[1]!;
    expect(await ana.send(`/onbehalf answer ${again} decline`)).toContain(
      'Declined: `vendor.visit` was told you will not open the page.',
    );
    await ana.waitFor(/visit: decline/, from);
    const audit = (await w.app.audit.query(w.org.id)).filter((e) => e.action === 'elicitation' && e.tool === 'visit');
    expect(audit.map((e) => e.outcome).sort()).toEqual(['accept', 'decline']);
  });

  it('url mode after -32042: the caller is shown the URL; once the server says the visit is complete, the call is retried once by itself', async () => {
    const ana = w.as('ana');
    const from = ana.output.length;
    const before = w.mcp.calls.filter((c) => c.tool === 'needs_visit').length;
    await ana.send('/onbehalf run vendor.needs_visit {}');
    await ana.waitFor(/Full address: https:\/\/vendor\.example/, from);
    expect(ana.output.slice(from)).not.toContain('visited, thanks');
    await w.mcp.completeVisit();
    await ana.waitFor(/visited, thanks/, from);
    expect(w.mcp.calls.filter((c) => c.tool === 'needs_visit').length - before).toBe(2);
  });
});
