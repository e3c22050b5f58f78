// A worker process keeps copies of the configuration every call reads (the server, its bindings and
// rules, the provider, the caller's teams) and uses them only while `config_version` says nothing
// changed (src/db/config-cache.ts). The attacker here is time: a rule an admin just added, in another
// process or by hand in the database, must stop the very next call, however warm the worker's copies.
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { fingerprint, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { world, type World } from '../support/world.js';
import { RecordingNotifier } from './harness.js';
import { readNotices, startWorker, until, workerEnvOf, type WorkerProcess } from './processes.js';

let w: World;
let t: TestApp;
let http: TestMcpHttpServer;
let worker: WorkerProcess;
let noticeFile: string;
let orgId: string;
let alice: string;
let token: string;
let n = 0;

beforeAll(async () => {
  // The app only enqueues and administers; one separate worker process runs every call.
  w = await world({
    platform: 'slack',
    users: ['alice'],
    provider: 'vendor',
    client: { secret: 'cs' },
    app: { runner: { notifier: new RecordingNotifier(), startWorkers: false } },
  });
  ({ t, mcp: http } = w);
  orgId = w.org.id;
  alice = (await w.user('alice')).id;
  expect((await w.connect('alice', { login: 'alice-gh', confirm: false })).res.status).toBe(200);
  expect(await t.app.oauth.confirmHeld(orgId, alice, 'vendor')).toMatchObject({ ok: true });
  token = await w.tokenOf('alice');
  await t.app.policy.addServer(orgId, { name: 'web', transport: 'http', url: http.url });
  await t.app.policy.bind(orgId, 'web', 'header', 'Authorization', 'oauth:vendor', 'Bearer {token}');
  noticeFile = path.join(t.dataDir, 'notices.jsonl');
  worker = await startWorker(workerEnvOf(t, noticeFile, { CONCURRENCY: '1' }));
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await w?.stop();
});

/** Alice calls `whoami` on web through the worker process; what she is told, and what the server saw. */
async function aliceCalls(): Promise<{ kind: string; text: string; authorization?: string }> {
  const r = await t.app.runner.enqueueToolCall({
    orgId,
    userId: alice,
    chatIdentity: 'slack:T1:alice',
    server: 'web',
    tool: 'whoami',
    args: {},
    target: { platform: 'slack', workspaceId: 'T1', channelId: 'C1', userId: 'alice', isDirect: false },
    requestId: `cfg-${n++}`,
  });
  expect(r.kind).toBe('accepted');
  const { callId } = r;
  let notice: ReturnType<typeof readNotices>[number] | undefined;
  await until(
    () => Boolean((notice = readNotices(noticeFile).find((x) => x.callId === callId))),
    20_000,
    'its outcome',
  );
  const o = notice!.outcome!;
  const seen = o.kind === 'result' ? (JSON.parse(o.text!) as Record<string, string>) : {};
  return { kind: o.kind, text: notice!.text!, ...(seen.authorization ? { authorization: seen.authorization } : {}) };
}

describe('the worker’s cached configuration', () => {
  it('an access rule added in another process stops the next call of a warm worker, and its removal by hand in the database lets the next one through', async () => {
    // Warm: the worker has read web, its binding, its (no) rules, the provider and Alice's teams.
    for (let i = 0; i < 3; i++) expect(await aliceCalls()).toMatchObject({ kind: 'result' });
    const before = http.calls.length;
    await t.app.policy.rule(orgId, 'deny', 'web', { tools: 'whoami' });
    const denied = await aliceCalls();
    expect(denied.kind).toBe('denied');
    expect(denied.text).toMatch(/denied by rule: deny web "whoami"/);
    expect(http.calls.length).toBe(before);
    // Not through onbehalf at all: an operator deletes the rule in the database.
    await t.app.store.execute(
      sql`delete from access_rules where server_id in (select id from mcp_servers where name = 'web')`,
    );
    expect(await aliceCalls()).toMatchObject({ kind: 'result', authorization: fingerprint(`Bearer ${token}`) });
  }, 60_000);

  it('joining a team a rule denies stops the next call; a changed binding is what the next call sends', async () => {
    const { policy } = t.app;
    await policy.team(orgId, 'create', 'contractors');
    await policy.rule(orgId, 'deny', 'web', { tools: '*', teams: ['contractors'] });
    expect(await aliceCalls()).toMatchObject({ kind: 'result' });
    await policy.team(orgId, 'add', 'contractors', alice);
    expect((await aliceCalls()).kind).toBe('denied');
    await policy.team(orgId, 'remove', 'contractors', alice);
    expect(await aliceCalls()).toMatchObject({ kind: 'result', authorization: fingerprint(`Bearer ${token}`) });
    // The admin points the header at a shared value instead of Alice's grant: the next call carries it.
    await policy.bind(orgId, 'web', 'header', 'Authorization', 'static:shared-key', 'Bearer {token}');
    expect(await aliceCalls()).toMatchObject({ kind: 'result', authorization: fingerprint('Bearer shared-key') });
  }, 60_000);
});
