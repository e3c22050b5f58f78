import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { McpAuthServer } from '../support/mcp-auth-server.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { world, type World } from '../support/world.js';
import { RecordingNotifier } from './harness.js';
import { until } from './processes.js';

let w: World;
let t: TestApp;
const notes = new RecordingNotifier();
const servers: McpAuthServer[] = [];

beforeAll(async () => {
  w = await world({
    platform: 'slack',
    workspace: 'T9',
    users: ['alice', 'bob', 'carol'],
    redis: false,
    shell: false,
    app: { runner: { notifier: notes } },
  });
  t = w.t;
});
afterAll(async () => {
  await w?.stop();
  for (const s of servers) await s.stop();
});

/** A server named `name` bound by mcp_oauth, and a call of its whoami by `who`. */
async function setUp(name: string, who: string, mcp: McpAuthServer) {
  const orgId = w.org.id;
  expect((await t.app.policy.addServer(orgId, { name, transport: 'http', url: mcp.url })).ok).toBe(true);
  expect((await t.app.policy.bind(orgId, name, 'header', 'Authorization', 'mcp_oauth', 'Bearer {token}')).ok).toBe(
    true,
  );
  const u = await w.user(who);
  const { callId } = await t.app.runner.enqueueToolCall({
    orgId,
    userId: u.id,
    chatIdentity: u.chatIdentity,
    server: name,
    tool: 'whoami',
    args: {},
    target: u.target('C1'),
    requestId: `r-${name}`,
  });
  return { orgId, u, callId };
}

/** Follows the `i`-th notice of the call (a connect prompt) through the browser; the scopes asked for. */
async function connectFrom(callId: string, i: number, orgId: string, userId: string, slug: string) {
  await until(() => notes.for(callId).length > i, 15_000, `notice ${i}`);
  const p = notes.for(callId)[i]!;
  if (p.kind !== 'connect') throw new Error(`notice ${i} is ${p.kind}`);
  const step = await authorizeInBrowser(p.req.connectUrl);
  if (!('callbackUrl' in step)) throw new Error(`connect failed: ${step.status} ${step.body}`);
  expect((await step.browser.fetch(step.callbackUrl)).status).toBe(200);
  await t.app.oauth.confirmHeld(orgId, userId, slug);
  return { reason: p.req.reason, scopes: new URL(step.authorizeUrl).searchParams.get('scope')?.split(' ') ?? [] };
}

describe('step-up authorization on 403 insufficient_scope', () => {
  it('a 403 at initialize asks for the granted and the challenged scopes together, and the call then runs', async () => {
    const mcp = await McpAuthServer.start();
    servers.push(mcp);
    mcp.requiredScopes = ['mcp:tools'];
    const { orgId, u, callId } = await setUp('stepper', 'alice', mcp);
    const first = await connectFrom(callId, 0, orgId, u.id, 'mcp-stepper');
    expect(first).toEqual({ reason: 'missing', scopes: ['mcp:tools'] });
    // The server now wants more of every request, initialize included.
    mcp.requiredScopes = ['mcp:tools', 'mcp:admin'];
    await until(() => notes.for(callId).length > 1, 15_000, 'the resumed call');
    const second = await connectFrom(callId, 1, orgId, u.id, 'mcp-stepper');
    expect(second.reason).toBe('insufficient_scope');
    expect(second.scopes).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
    await until(() => notes.for(callId).length > 2, 15_000, 'the answer');
    const done = notes.for(callId)[2]!;
    expect(done.kind === 'outcome' && JSON.parse((done.outcome as { text: string }).text)).toMatchObject({
      subject: 'vendor-alice',
      scopes: expect.arrayContaining(['mcp:tools', 'mcp:admin']),
    });
    // A refresh cannot widen a grant: none was tried.
    expect(mcp.seen.filter((s) => s.path === '/token' && s.body['grant_type'] === 'refresh_token')).toEqual([]);
  });

  it('a server that keeps asking for scopes it is never granted stops the call after two step-ups, saying why', async () => {
    const mcp = await McpAuthServer.start({ openInitialize: true });
    servers.push(mcp);
    mcp.requiredScopes = ['mcp:tools'];
    mcp.callScopes = ['mcp:admin'];
    mcp.provider.withheld = ['mcp:admin'];
    const { orgId, u, callId } = await setUp('never', 'bob', mcp);
    expect((await connectFrom(callId, 0, orgId, u.id, 'mcp-never')).reason).toBe('missing');
    for (const i of [1, 2]) {
      const round = await connectFrom(callId, i, orgId, u.id, 'mcp-never');
      expect(round.reason).toBe('insufficient_scope');
      expect(round.scopes).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin']));
    }
    await until(() => notes.for(callId).length > 3, 15_000, 'the end of the call');
    const last = notes.for(callId)[3]!;
    expect(last.kind).toBe('outcome');
    expect(last.kind === 'outcome' && last.outcome).toMatchObject({
      kind: 'failed',
      why: { code: 'scope_step_up_limit', server: 'never', scopes: ['mcp:tools', 'mcp:admin'], rounds: 2 },
    });
    expect(last.kind === 'outcome' && last.text).toMatch(
      /^`never\.whoami` failed: never still asks for more permissions \(mcp:tools mcp:admin\) after you were asked 2 time\(s\) to grant more; it was not run again/,
    );
    expect((await t.app.runner.executor.calls.get(callId))!.status).toBe('failed');
  });
});
