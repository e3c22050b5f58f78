import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../support/mcp-servers/index.js';
import type { TestApp } from '../support/app.js';
import { McpAuthServer } from '../support/mcp-auth-server.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { world, type World } from '../support/world.js';
import { RecordingNotifier } from './harness.js';
import { until } from './processes.js';

let w: World;
let t: TestApp;
let mcp: McpAuthServer;
const notes = new RecordingNotifier();

beforeAll(async () => {
  w = await world({
    platform: 'slack',
    workspace: 'T9',
    users: ['alice', 'bob'],
    redis: false,
    shell: false,
    app: { runner: { notifier: notes } },
  });
  t = w.t;
  mcp = await McpAuthServer.start();
});
afterAll(async () => {
  await w?.stop();
  await mcp?.stop();
});

describe('an mcp_oauth binding', () => {
  it('each caller connects to the MCP server’s own authorization server, and each call carries the caller’s own token', async () => {
    const orgId = w.org.id;
    expect((await t.app.policy.addServer(orgId, { name: 'tracker', transport: 'http', url: mcp.url })).ok).toBe(true);
    expect(
      (await t.app.policy.bind(orgId, 'tracker', 'header', 'Authorization', 'mcp_oauth', 'Bearer {token}')).ok,
    ).toBe(true);
    for (const who of ['alice', 'bob']) {
      const u = await w.user(who);
      const target = u.target('C1');
      const { callId } = await t.app.runner.enqueueToolCall({
        orgId,
        userId: u.id,
        chatIdentity: u.chatIdentity,
        server: 'tracker',
        tool: 'whoami',
        args: {},
        target,
        requestId: `r-${who}`,
      });
      await until(() => notes.for(callId).length === 1, 15_000, `${who}'s prompt`);
      const prompt = notes.for(callId)[0]!;
      expect(prompt.kind === 'connect' && prompt.req).toMatchObject({ providerSlug: 'mcp-tracker', reason: 'missing' });
      mcp.login = `vendor-${who}`;
      const step = await authorizeInBrowser(prompt.kind === 'connect' ? prompt.req.connectUrl : '');
      if (!('callbackUrl' in step)) throw new Error(`connect failed: ${step.status} ${step.body}`);
      expect((await step.browser.fetch(step.callbackUrl)).status).toBe(200);
      // A first connect from an unproven browser is held; the caller confirms it (as the chat button would).
      expect(await t.app.oauth.confirmHeld(orgId, u.id, 'mcp-tracker')).toMatchObject({ ok: true });
      await until(() => notes.for(callId).length === 2, 15_000, `${who}'s resumed call`);
      const done = notes.for(callId)[1]!;
      const seen = JSON.parse(done.kind === 'outcome' ? (done.outcome as { text: string }).text : '{}');
      const tok = await t.app.oauth.accessTokenFor(orgId, u.id, 'mcp-tracker');
      expect(seen).toMatchObject({
        subject: `vendor-${who}`,
        token: tok.kind === 'ok' ? fingerprint(tok.token.reveal()) : 'none',
      });
    }
    expect(mcp.registrations).toBe(1);
  });
});
