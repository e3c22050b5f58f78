import path from 'node:path';
import { fingerprint } from '../support/mcp-servers/index.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { world, type World } from '../support/world.js';
import { stdioServerCommand, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import type { OAuthTestServer } from '../support/oauth-server.js';
import { dumpRedis, RecordingNotifier } from './harness.js';
import { readNotices, startWorker, until, workerEnvOf, type WorkerProcess } from './processes.js';

const CALLS = 1000;
let w: World;
let t: TestApp;
let oauthServer: OAuthTestServer;
let http: TestMcpHttpServer;
const workers: WorkerProcess[] = [];
let noticeFile: string;
let orgId: string;
const users: Record<string, string> = {};
const tokens: Record<string, string> = {};

beforeAll(async () => {
  // The app enqueues; two separate worker processes run every call.
  w = await world({
    platform: 'slack',
    users: ['alice', 'bob'],
    provider: 'vendor',
    client: { secret: 'cs' },
    env: { ONBEHALF_ALLOW_STDIO: 'true' },
    // 1000 calls are queued at once: past the per-user cap of a real deployment, so the test raises it.
    app: { runner: { notifier: new RecordingNotifier(), startWorkers: false, tuning: { maxQueuedPerUser: 100_000 } } },
  });
  ({ t, oauth: oauthServer, mcp: http } = w);
  orgId = w.org.id;
  for (const who of ['alice', 'bob']) {
    users[who] = (await w.user(who)).id;
    const step = await w.connect(who, { login: `${who}-gh`, confirm: false });
    expect(step.res.status).toBe(200);
    expect(await t.app.oauth.confirmHeld(orgId, users[who]!, 'vendor')).toMatchObject({ ok: true });
    tokens[who] = await w.tokenOf(who);
  }
  expect(tokens.alice).not.toBe(tokens.bob);
  const { policy } = t.app;
  await policy.addServer(orgId, { name: 'web', transport: 'http', url: http.url });
  await policy.bind(orgId, 'web', 'header', 'Authorization', 'oauth:vendor', 'Bearer {token}');
  await policy.addServer(orgId, { name: 'gh', transport: 'stdio', ...stdioServerCommand });
  await policy.bind(orgId, 'gh', 'env', 'GITHUB_TOKEN', 'oauth:vendor');

  noticeFile = path.join(t.dataDir, 'notices.jsonl');
  const env = workerEnvOf(t, noticeFile, { ONBEHALF_ALLOW_STDIO: 'true', CONCURRENCY: '8' });
  workers.push(...(await Promise.all([startWorker(env), startWorker(env)])));
}, 90_000);

afterAll(async () => {
  for (const p of workers) await p.stop();
  await w?.stop();
});

describe('isolation between callers', () => {
  it(`${CALLS} interleaved calls of Alice and Bob through 2 worker processes, http and stdio: every call saw its own caller’s token`, async () => {
    const expected = new Map<string, { who: string; server: string }>();
    for (let i = 0; i < CALLS; i++) {
      const who = i % 2 ? 'bob' : 'alice';
      const server = (i >> 1) % 2 ? 'gh' : 'web';
      const { callId } = await t.app.runner.enqueueToolCall({
        orgId,
        userId: users[who]!,
        chatIdentity: `slack:T1:${who}`,
        server,
        tool: 'whoami',
        args: {},
        target: { platform: 'slack', workspaceId: 'T1', channelId: 'C1', userId: who, isDirect: false },
        requestId: `r${i}`,
      });
      expected.set(callId, { who, server });
    }
    await until(() => readNotices(noticeFile).length >= CALLS, 150_000, `${CALLS} outcomes`);
    const notices = readNotices(noticeFile);
    expect(notices).toHaveLength(CALLS);
    let crossings = 0;
    const byPid = new Map<number, number>();
    for (const n of notices) {
      const e = expected.get(n.callId)!;
      expect(n.kind).toBe('outcome');
      expect(n.outcome?.kind).toBe('result');
      expect(n.target.userId).toBe(e.who);
      const seen = JSON.parse(n.outcome!.text!) as Record<string, string>;
      const got = e.server === 'web' ? seen.authorization : seen.GITHUB_TOKEN;
      if (got !== fingerprint(e.server === 'web' ? `Bearer ${tokens[e.who]}` : tokens[e.who]!)) crossings++;
      byPid.set(n.pid, (byPid.get(n.pid) ?? 0) + 1);
    }
    expect(crossings).toBe(0);
    expect(new Set(notices.map((n) => n.callId)).size).toBe(CALLS);
    expect([...byPid.keys()].sort()).toEqual(workers.map((w) => w.child.pid).sort());
    // What the http server itself recorded agrees: only the two users' own tokens, half each.
    const auth = http.calls.filter((c) => c.tool === 'whoami').map((c) => c.seen.authorization);
    expect(auth.filter((a) => a === `Bearer ${tokens.alice}`)).toHaveLength(CALLS / 4);
    expect(auth.filter((a) => a === `Bearer ${tokens.bob}`)).toHaveLength(CALLS / 4);

    const r = new Redis(t.app.redisUrl);
    try {
      const dump = await dumpRedis(r);
      for (const v of [...oauthServer.issuedAccessTokens, ...oauthServer.issuedRefreshTokens])
        expect(dump).not.toContain(v);
    } finally {
      r.disconnect();
    }
  }, 180_000);
});
