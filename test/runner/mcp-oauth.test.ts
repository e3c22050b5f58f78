import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../support/mcp-servers/index.js';
import { freePort } from '../../src/redis/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { McpAuthServer } from '../support/mcp-auth-server.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { RecordingNotifier } from './harness.js';
import { until } from './processes.js';

let t: TestApp;
let mcp: McpAuthServer;
const notes = new RecordingNotifier();

beforeAll(async () => {
  const port = await freePort();
  t = await startTestApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` }, 'serve', {
    runner: { notifier: notes },
  });
  mcp = await McpAuthServer.start();
});
afterAll(async () => {
  await t?.stop();
  await mcp?.stop();
});

describe('an mcp_oauth binding', () => {
  it('each caller connects to the MCP server’s own authorization server, and each call carries the caller’s own token', async () => {
    const users = ['alice', 'bob'].map((who) =>
      t.app.identity.resolve({
        platform: 'slack',
        workspaceId: 'T9',
        userId: who,
        displayName: who,
        workspaceName: 'Acme',
      }),
    );
    const orgId = users[0]!.org.id;
    expect((await t.app.policy.addServer(orgId, { name: 'tracker', transport: 'http', url: mcp.url })).ok).toBe(true);
    expect(
      (await t.app.policy.bind(orgId, 'tracker', 'header', 'Authorization', 'mcp_oauth', 'Bearer {token}')).ok,
    ).toBe(true);
    for (const [i, who] of ['alice', 'bob'].entries()) {
      const target = { platform: 'slack' as const, workspaceId: 'T9', channelId: 'C1', userId: who, isDirect: false };
      const { callId } = await t.app.runner.enqueueToolCall({
        orgId,
        userId: users[i]!.user.id,
        chatIdentity: `slack:T9:${who}`,
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
      expect(await t.app.oauth.confirmHeld(orgId, users[i]!.user.id, 'mcp-tracker')).toMatchObject({ ok: true });
      await until(() => notes.for(callId).length === 2, 15_000, `${who}'s resumed call`);
      const done = notes.for(callId)[1]!;
      const seen = JSON.parse(done.kind === 'outcome' ? (done.outcome as { text: string }).text : '{}');
      const tok = await t.app.oauth.accessTokenFor(orgId, users[i]!.user.id, 'mcp-tracker');
      expect(seen).toMatchObject({
        subject: `vendor-${who}`,
        token: tok.kind === 'ok' ? fingerprint(tok.token.reveal()) : 'none',
      });
    }
    expect(mcp.registrations).toBe(1);
  });
});
