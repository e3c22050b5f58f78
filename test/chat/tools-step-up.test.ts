import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpAuthServer } from '../support/mcp-auth-server.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { world, type World } from '../support/world.js';

let w: World;
let mcp: McpAuthServer;

beforeAll(async () => {
  w = await world({ users: ['ana'], redis: false });
  mcp = await McpAuthServer.start();
  mcp.requiredScopes = ['mcp:tools'];
  const org = w.org.id;
  expect((await w.app.policy.addServer(org, { name: 'gated', transport: 'http', url: mcp.url })).ok).toBe(true);
  expect((await w.app.policy.bind(org, 'gated', 'header', 'Authorization', 'mcp_oauth', 'Bearer {token}')).ok).toBe(
    true,
  );
  await w.app.policy.rule(org, 'allow', 'gated', { tools: '*' });
}, 30_000);
afterAll(async () => {
  await w?.stop();
  await mcp?.stop();
});

/** Follows a connect link through the browser as Ana; the scopes it asked the authorization server for. */
async function follow(link: string): Promise<string[]> {
  const step = await authorizeInBrowser(link);
  if (!('callbackUrl' in step)) throw new Error(`connect failed: ${step.status} ${step.body}`);
  expect((await step.browser.fetch(step.callbackUrl)).status).toBe(200);
  const ana = await w.user('ana');
  await w.app.oauth.confirmHeld(ana.orgId, ana.id, 'mcp-gated');
  return new URL(step.authorizeUrl).searchParams.get('scope')?.split(' ') ?? [];
}

const linkIn = (said: string) => said.match(/https?:\/\/\S+\/oauth\/start\?t=\S+/)![0];

describe('/onbehalf tools when the server answers 403 insufficient_scope', () => {
  it('asks the caller to grant the challenged scopes together with the granted ones, then lists the tools; no refresh is tried', async () => {
    const ana = w.as('ana');
    expect(await ana.send('/onbehalf tools')).toContain('connect your mcp-gated account to see its tools');
    // Every request, tools/list included, needs both scopes; the first consent grants only one of them.
    mcp.requiredScopes = ['mcp:tools', 'mcp:admin'];
    mcp.provider.withheld = ['mcp:admin'];
    const ids = await w.user('ana');
    await follow(await w.app.oauth.connectLink(ids.orgId, ids.id, 'mcp-gated'));
    mcp.provider.withheld = [];
    const said = await ana.send('/onbehalf tools');
    expect(said).toContain('`gated` asks for more permissions');
    expect(said).toContain('mcp:admin');
    expect(said).toContain('reconnect your mcp-gated account');
    expect(said).not.toContain('`gated.whoami`');
    expect(await follow(linkIn(said))).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
    const after = await ana.send('/onbehalf tools');
    expect(after).toContain('`gated.whoami`');
    expect(after).not.toContain('more permissions');
    expect(mcp.seen.filter((s) => s.path === '/token' && s.body['grant_type'] === 'refresh_token')).toEqual([]);
  });

  it('a server that keeps asking for scopes it is never granted: two step-ups, then one line saying onbehalf stopped asking', async () => {
    const ana = w.as('ana');
    mcp.requiredScopes = ['mcp:tools', 'mcp:admin', 'mcp:root'];
    mcp.provider.withheld = ['mcp:root'];
    expect(await ana.send('/onbehalf disconnect mcp-gated')).toContain('mcp-gated');
    const ids = await w.user('ana');
    await follow(await w.app.oauth.connectLink(ids.orgId, ids.id, 'mcp-gated'));
    for (const round of [1, 2]) {
      const said = await ana.send('/onbehalf tools');
      expect(said, `round ${round}`).toContain('asks for more permissions');
      expect(await follow(linkIn(said))).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin', 'mcp:root']));
    }
    const last = await ana.send('/onbehalf tools');
    expect(last).toContain('`gated` still asks for more permissions');
    expect(last).toContain('after you were asked 2 time(s) to grant more; onbehalf stopped asking');
    expect(last).not.toMatch(/oauth\/start/);
  });
});
