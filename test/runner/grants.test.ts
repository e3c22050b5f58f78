import { Redis } from 'ioredis';
import { fingerprint } from '../support/mcp-servers/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/crypto/index.js';
import type { ReplyTarget } from '../../src/chat/types.js';
import type { CallInfo, ToolOutcome } from '../../src/runner/index.js';
import type { TestApp } from '../support/app.js';
import { queuesIdle } from '../support/queues.js';
import { world, type World } from '../support/world.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { authorizeInBrowser, type OAuthTestServer } from '../support/oauth-server.js';
import { dumpRedis, RecordingNotifier } from './harness.js';
import { until } from './processes.js';

const ORG_KEY = 'org-key-CANARY-3c9d';
let w: World;
let t: TestApp;
let oauthServer: OAuthTestServer;
let http: TestMcpHttpServer;
/** Posts a placeholder for every call (as in a Slack channel) and records which message each answer edits. */
class PlaceholderNotifier extends RecordingNotifier {
  readonly placeholders: string[] = [];
  readonly edits = new Map<string, string | undefined>();
  async placeholder(call: CallInfo) {
    this.placeholders.push(call.callId);
    return `msg-${this.placeholders.length}`;
  }
  override async outcome(call: CallInfo, outcome: ToolOutcome, delivery?: { messageId?: string }) {
    this.edits.set(call.callId, delivery?.messageId);
    await super.outcome(call, outcome);
  }
}
const notes = new PlaceholderNotifier();
let orgId: string;
const users: Record<string, string> = {};

const target = (who: string): ReplyTarget => ({
  platform: 'slack',
  workspaceId: 'T1',
  channelId: 'C-support',
  userId: who,
  threadId: '1700000000.000100',
  messageId: `msg-${who}-${Math.random().toString(36).slice(2, 8)}`,
  isDirect: false,
});
const call = async (who: string, server: string, tool: string, args: Record<string, unknown> = {}) => {
  const tg = target(who);
  const { callId } = await t.app.runner.enqueueToolCall({
    orgId,
    userId: users[who]!,
    chatIdentity: `slack:T1:${who}`,
    server,
    tool,
    args,
    target: tg,
    requestId: `req-${who}`,
  });
  return { callId, target: tg };
};
const tokenOf = (who: string) => w.tokenOf(who);
/** Follows a connect link as the user's browser would, signed in at the vendor as `login`. */
const connectVia = async (link: string, login: string) => {
  const step = await w.connectVia(link, { login });
  expect(step.res.status).toBe(200);
  return step;
};
const outcomes = (callId: string) => notes.for(callId).filter((n) => n.kind === 'outcome');
const connects = (callId: string) => notes.for(callId).filter((n) => n.kind === 'connect');

beforeAll(async () => {
  w = await world({
    platform: 'slack',
    users: ['alice', 'bob'],
    provider: 'vendor',
    client: { secret: 'client-secret-x' },
    servers: [
      { name: 'web', grant: true },
      { name: 'gh', transport: 'stdio', grant: true },
    ],
    env: { ONBEHALF_ALLOW_STDIO: 'true' },
    app: { runner: { notifier: notes, tuning: { backoffMs: 50 } } },
  });
  ({ t, oauth: oauthServer, mcp: http } = w);
  orgId = w.org.id;
  for (const who of ['alice', 'bob']) users[who] = (await w.user(who)).id;
  const { policy } = t.app;
  expect((await policy.bind(orgId, 'gh', 'env', 'ORG_KEY', 'org_secret:key')).ok).toBe(true);
  await policy.setSecret(orgId, 'org', orgId, 'key', new Secret(ORG_KEY));
});

afterAll(async () => {
  await w?.stop();
});

describe('calls that need the caller’s own grant', () => {
  it('a missing grant parks the call and prompts that caller only; once connected the call runs once and answers in the original thread', async () => {
    const { callId, target: original } = await call('alice', 'web', 'whoami');
    await until(() => connects(callId).length === 1, 15_000, 'the connect prompt');
    const prompt = connects(callId)[0]!;
    expect(prompt.kind === 'connect' && prompt.req).toMatchObject({ providerSlug: 'vendor', reason: 'missing' });
    expect(prompt.call.target.userId).toBe('alice');
    expect((await t.app.runner.executor.calls.get(callId))!.status).toBe('parked');
    expect(outcomes(callId)).toEqual([]);
    expect(http.calls.filter((c) => c.tool === 'whoami')).toHaveLength(0);
    // Never a fallback: Bob saw nothing, and no other credential was tried.
    expect(notes.notices.filter((n) => n.call.target.userId === 'bob')).toEqual([]);

    await connectVia(prompt.kind === 'connect' ? prompt.req.connectUrl : '', 'alice-gh');
    await until(() => outcomes(callId).length === 1, 15_000, 'the resumed call to answer');
    await queuesIdle(t.app.redisUrl, 500);
    const done = outcomes(callId);
    expect(done).toHaveLength(1);
    expect(done[0]!.call.target).toEqual(original);
    const alice = await tokenOf('alice');
    expect(done[0]!.kind === 'outcome' && JSON.parse((done[0]!.outcome as { text: string }).text)).toEqual({
      authorization: fingerprint(`Bearer ${alice}`),
    });
    expect(http.calls.filter((c) => c.tool === 'whoami')).toHaveLength(1);
    const ev = (await t.app.audit.query(orgId, { userId: users.alice })).find(
      (e) => e.category === 'tool_call' && e.detail?.['callId'] === callId && e.outcome === 'ok',
    )!;
    expect(ev.vendorAccount).toBe('@alice-gh');
    expect(ev.connectionIds).toHaveLength(1);
    expect(ev.credentialKinds).toEqual(['oauth']);
  });

  it('a stdio server bound to GITHUB_TOKEN=oauth:vendor and ORG_KEY=org_secret:key gets both, and nothing but the safe list besides', async () => {
    const { callId } = await call('alice', 'gh', 'env_dump');
    await until(() => outcomes(callId).length === 1, 20_000, 'the env dump');
    const n = outcomes(callId)[0]!;
    const env = JSON.parse(n.kind === 'outcome' ? (n.outcome as { text: string }).text : '{}') as Record<
      string,
      string
    >;
    expect(env.GITHUB_TOKEN).toBe(fingerprint(await tokenOf('alice')));
    expect(env.ORG_KEY).toBe(fingerprint(ORG_KEY));
    const safe = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'];
    expect(
      Object.keys(env)
        .filter((k) => !safe.includes(k) && !/^(NODE_|TSX_)/.test(k))
        .sort(),
    ).toEqual(['GITHUB_TOKEN', 'ORG_KEY']);
    expect(Object.values(env)).not.toContain(fingerprint(t.app.config.keys![0]!));
  });

  it('a 401 to a token the DB thinks valid: one forced refresh, one retry, success — no prompt', async () => {
    const before = await tokenOf('alice');
    const issued = oauthServer.issuedAccessTokens.length;
    http.deny(before);
    const { callId } = await call('alice', 'web', 'whoami');
    await until(() => outcomes(callId).length === 1, 15_000, 'the call to answer');
    const after = await tokenOf('alice');
    expect(after).not.toBe(before);
    expect(oauthServer.issuedAccessTokens.length).toBe(issued + 1);
    const n = outcomes(callId)[0]!;
    expect(n.kind === 'outcome' && JSON.parse((n.outcome as { text: string }).text)).toEqual({
      authorization: fingerprint(`Bearer ${after}`),
    });
    expect(connects(callId)).toEqual([]);
    // The retry within the attempt found the placeholder the first try posted: one message, edited.
    expect(notes.placeholders.filter((id) => id === callId)).toHaveLength(1);
    expect(notes.edits.get(callId)).toBe(`msg-${notes.placeholders.indexOf(callId) + 1}`);
  });

  it('if the refreshed token is rejected too, the caller is prompted to reconnect and the call is parked', async () => {
    const issued = oauthServer.issuedAccessTokens.length;
    http.rejectAll = true;
    const { callId } = await call('alice', 'web', 'whoami');
    await until(() => connects(callId).length === 1, 15_000, 'the reconnect prompt');
    expect(oauthServer.issuedAccessTokens.length).toBe(issued + 1);
    const p = connects(callId)[0]!;
    expect(p.kind === 'connect' && p.req.reason).toBe('needs_reauth');
    expect((await t.app.runner.executor.calls.get(callId))!.status).toBe('parked');
    expect(outcomes(callId)).toEqual([]);
    http.rejectAll = false;
    await connectVia(p.kind === 'connect' ? p.req.connectUrl : '', 'alice-gh');
    await until(() => outcomes(callId).length === 1, 15_000, 'the call to resume after reconnecting');
    expect(
      outcomes(callId)[0]!.kind === 'outcome' && (outcomes(callId)[0] as { outcome: { kind: string } }).outcome.kind,
    ).toBe('result');
  });

  it('a 403 insufficient_scope asks the caller to reconnect with the extra scope and parks the call', async () => {
    const { callId } = await call('alice', 'web', 'admin_op');
    await until(() => connects(callId).length === 1, 15_000, 'the scope prompt');
    const p = connects(callId)[0]!;
    expect(p.kind === 'connect' && p.req.reason).toBe('insufficient_scope');
    expect((await t.app.runner.executor.calls.get(callId))!.status).toBe('parked');
    const step = await authorizeInBrowser(p.kind === 'connect' ? p.req.connectUrl : '');
    expect('authorizeUrl' in step && new URL(step.authorizeUrl).searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining(['repo', 'admin']),
    );
  });

  it('a call parked longer than the limit is cancelled with a message', async () => {
    const { callId } = await call('bob', 'web', 'whoami');
    await until(() => connects(callId).length === 1, 15_000, 'Bob’s prompt');
    expect(connects(callId)[0]!.call.target.userId).toBe('bob');
    expect(await t.app.runner.sweepParked(Date.now() + 2 * 3_600_000)).toBeGreaterThanOrEqual(1);
    const n = outcomes(callId)[0]!;
    expect(n.kind === 'outcome' && n.text).toMatch(/was cancelled: it waited 60 minute\(s\) for you to connect/);
    expect((await t.app.runner.executor.calls.get(callId))!.status).toBe('cancelled');
  });

  it('counts tool calls by outcome and their latency in /metrics', async () => {
    const text = await (await fetch(`${t.app.config.publicUrl}/metrics`)).text();
    expect(text).toMatch(/onbehalf_tool_calls_total\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/onbehalf_tool_calls_total\{outcome="needs_connect:missing"\} [1-9]/);
    expect(text).toMatch(/onbehalf_tool_call_seconds_count [1-9]/);
  });

  it('no token, refresh token or secret used is in any Redis key or log line', async () => {
    const r = new Redis(t.app.redisUrl);
    try {
      const dump = await dumpRedis(r);
      expect(dump).toContain('callId'); // the scan saw job data (ids only since the house redesign)
      const values = [...oauthServer.issuedAccessTokens, ...oauthServer.issuedRefreshTokens, ORG_KEY];
      expect(values.length).toBeGreaterThan(3);
      for (const v of values) expect(dump).not.toContain(v);
      expect(t.logs.containing(...values)).toEqual([]);
    } finally {
      r.disconnect();
    }
  });
});
