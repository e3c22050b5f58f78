import { Redis } from 'ioredis';
import { fingerprint } from '../support/mcp-servers/index.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Secret } from '../../src/crypto/index.js';
import { freePort } from '../../src/redis/index.js';
import { startMcpHttpServer, stdioServerCommand, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { startTestRedis } from '../support/redis.js';
import { dumpRedis, startHarness, type Harness } from './harness.js';
import { problemText } from '../../src/chat/words/problems.js';
import { argDigest } from '../../src/audit/index.js';

const CANARIES = {
  alice: 'alice-secret-CANARY-7f3a',
  bob: 'bob-secret-CANARY-91c2',
  org: 'org-key-CANARY-55d0',
  team: 'team-key-CANARY-0b1e',
};

let redis: Awaited<ReturnType<typeof startTestRedis>>;
let http: TestMcpHttpServer;
let h: Harness;

beforeAll(async () => {
  redis = await startTestRedis();
  http = await startMcpHttpServer();
  h = await startHarness(redis.url, { tuning: { attempts: 3 } });
  const { policy, org } = h;
  expect((await policy.addServer(org.id, { name: 'web', transport: 'http', url: http.url, timeoutMs: 1500 })).ok).toBe(
    true,
  );
  expect((await policy.bind(org.id, 'web', 'header', 'Authorization', 'user_secret:token', 'Bearer {token}')).ok).toBe(
    true,
  );
  expect((await policy.bind(org.id, 'web', 'header', 'X-Org-Key', 'org_secret:key')).ok).toBe(true);
  expect((await policy.bind(org.id, 'web', 'header', 'X-Region', 'static:eu-1')).ok).toBe(true);
  expect((await policy.addServer(org.id, { name: 'local', transport: 'stdio', ...stdioServerCommand })).ok).toBe(true);
  expect((await policy.bind(org.id, 'local', 'env', 'API_TOKEN', 'user_secret:token')).ok).toBe(true);
  expect((await policy.bind(org.id, 'local', 'env', 'TEAM_KEY', 'team_secret:key')).ok).toBe(true);
  await policy.setSecret(org.id, 'user', (await h.user('alice')).id, 'token', new Secret(CANARIES.alice));
  await policy.setSecret(org.id, 'user', (await h.user('bob')).id, 'token', new Secret(CANARIES.bob));
  await policy.setSecret(org.id, 'org', org.id, 'key', new Secret(CANARIES.org));
  await policy.team(org.id, 'create', 'support');
  await policy.team(org.id, 'add', 'support', (await h.user('alice')).id);
  await policy.team(org.id, 'add', 'support', (await h.user('bob')).id);
  await policy.setSecret(org.id, 'team', 'support', 'key', new Secret(CANARIES.team));
});

afterAll(async () => {
  await h?.stop();
  await http?.stop();
  await redis?.stop();
});

const outcome = async (callId: string) => {
  const n = await h.notifier.next(callId);
  if (n.kind !== 'outcome') throw new Error(`expected an outcome, got ${n.kind}`);
  return n;
};

const fps = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fingerprint(v)]));

describe('tool calls run with the caller’s own credentials', () => {
  it('Alice and Bob each reach the http server with their own secret, plus the org secret and the static header', async () => {
    const [a, b] = await Promise.all([h.call('alice', 'web', 'whoami'), h.call('bob', 'web', 'whoami')]);
    const seenA = JSON.parse(
      (await outcome(a)).outcome.kind === 'result' ? ((await outcome(a)).outcome as { text: string }).text : '{}',
    );
    const seenB = JSON.parse(((await outcome(b)).outcome as { text: string }).text);
    expect(seenA).toEqual(
      fps({ authorization: `Bearer ${CANARIES.alice}`, 'x-org-key': CANARIES.org, 'x-region': 'eu-1' }),
    );
    expect(seenB).toEqual(
      fps({ authorization: `Bearer ${CANARIES.bob}`, 'x-org-key': CANARIES.org, 'x-region': 'eu-1' }),
    );
    // The audit names the human, the chat message, the source kinds — and no value.
    const ev = (await h.audit.query(h.org.id, { userId: (await h.user('alice')).id })).find(
      (e) => e.category === 'tool_call' && e.detail?.['callId'] === a,
    )!;
    expect(ev).toMatchObject({
      server: 'web',
      tool: 'whoami',
      chatIdentity: 'slack:T1:alice',
      decision: 'allowed',
      outcome: 'ok',
      onBehalfOfUserId: (await h.user('alice')).id,
    });
    expect(ev.chatMessage).toMatchObject({ platform: 'slack', workspace: 'T1', channel: 'C1' });
    expect(ev.chatMessage?.['message']).toMatch(/^m-/);
    expect(ev.credentialKinds?.sort()).toEqual(['org_secret', 'static', 'user_secret']);
    expect(ev.argDigest).toMatch(/^sha256:/);
    expect(ev.latencyMs).toBeGreaterThanOrEqual(0);
    expect(ev.requestId).toMatch(/^req-/);
    expect(JSON.stringify(ev)).not.toContain('CANARY');
  });

  it('a stdio server gets the caller’s user secret and the team secret of the team the caller is in', async () => {
    const id = await h.call('bob', 'local', 'whoami');
    expect(JSON.parse(((await outcome(id)).outcome as { text: string }).text)).toEqual(
      fps({ API_TOKEN: CANARIES.bob, TEAM_KEY: CANARIES.team }),
    );
  });

  it('a team secret is ambiguous for someone in two teams when the channel is bound to neither, and the error says so', async () => {
    await h.policy.team(h.org.id, 'create', 'sales');
    await h.policy.team(h.org.id, 'add', 'sales', (await h.user('bob')).id);
    const id = await h.call('bob', 'local', 'whoami', {}, 'C-unbound');
    const o = (await outcome(id)).outcome;
    expect(o).toMatchObject({ kind: 'failed' });
    expect(o.kind === 'failed' && problemText(o.why)).toMatch(/several teams \(support, sales\)/);
    await h.policy.team(h.org.id, 'channel', 'support', 'slack:C-support');
    const ok = await h.call('bob', 'local', 'whoami', {}, 'C-support');
    expect(JSON.parse(((await outcome(ok)).outcome as { text: string }).text).TEAM_KEY).toBe(
      fingerprint(CANARIES.team),
    );
    await h.policy.team(h.org.id, 'remove', 'sales', (await h.user('bob')).id);
  });

  it('access rules deny with a message naming the rule; injected context wins over supplied arguments; constraints hold', async () => {
    const { policy, org } = h;
    await policy.rule(org.id, 'deny', 'web', { tools: 'create_*', roles: ['member'] });
    await policy.rule(org.id, 'allow', 'web', {
      tools: 'echo',
      args: { repo: 'acme/*' },
      inject: { email: '{user.id}@{org.id}' },
    });
    await policy.rule(org.id, 'allow', 'web', { tools: 'whoami' });
    const before = http.calls.length;
    const denied = await h.call('alice', 'web', 'create_note', { text: 'x' });
    expect((await outcome(denied)).text).toMatch(/was not run: denied by rule: deny web "create_\*" for roles member/);
    const wrongRepo = await h.call('alice', 'web', 'echo', { text: 'hi', repo: 'evil/app' });
    expect((await outcome(wrongRepo)).text).toMatch(
      /rule allow web "echo" for everyone with repo=acme\/\* requires repo must match acme\/\*/,
    );
    const notAllowed = await h.call('alice', 'web', 'env_dump');
    expect((await outcome(notAllowed)).text).toMatch(/no allow rule of web lets you use env_dump/);
    const injected = await h.call('alice', 'web', 'echo', { text: 'hi', repo: 'acme/app', email: 'ceo@acme.com' });
    const echoed = JSON.parse(((await outcome(injected)).outcome as { text: string }).text);
    expect(echoed.email).toBe(`${(await h.user('alice')).id}@${org.id}`);
    expect(http.calls.length).toBe(before + 1);
    // The audit's digest proves what the server was sent (the injected email), not what was asked for.
    const sent = http.calls.at(-1)!.args;
    expect(sent).toMatchObject({ email: `${(await h.user('alice')).id}@${org.id}` });
    const event = (await h.audit.query(org.id, { server: 'web' })).find((e) => e.detail?.['callId'] === injected)!;
    expect(event.argDigest).toBe(argDigest(sent));
    expect(event.argDigest).not.toBe(argDigest({ text: 'hi', repo: 'acme/app', email: 'ceo@acme.com' }));
    expect(event.detail?.['digestOf']).toBe('sent');
    // The catalog shows only what the caller may use.
    const tools = (await import('../../src/agent/index.js')).ToolCatalog;
    const cat = await new tools(h.policy, h.pool, {
      accessTokenFor: async (_o, _u, s) => ({ kind: 'unknown_provider', providerSlug: s }),
      connectLink: async () => '',
    }).catalogFor(org.id, await h.user('alice'));
    expect(
      cat
        .filter((t) => t.server === 'web')
        .map((t) => t.tool)
        .sort(),
    ).toEqual(['echo', 'whoami']);
    expect(cat.filter((t) => t.server === 'local').map((t) => t.tool)).toContain('env_dump');
  });

  it('arguments that break the tool’s inputSchema never reach the server', async () => {
    const before = http.calls.length;
    const id = await h.call('alice', 'web', 'echo', { text: 42, repo: 'acme/x' });
    const o = (await outcome(id)).outcome;
    expect(o.kind).toBe('invalid_args');
    expect((await outcome(id)).text).toMatch(/do not match the tool's schema/);
    expect(http.calls.length).toBe(before);
  });

  it('a server that is down gives a clear outcome naming it, and the worker keeps working', async () => {
    await h.policy.addServer(h.org.id, {
      name: 'gone',
      transport: 'http',
      url: `http://127.0.0.1:${await freePort()}/mcp`,
    });
    const id = await h.call('alice', 'gone', 'whoami');
    const n = await outcome(id);
    expect(n.outcome).toEqual({ kind: 'unreachable', server: 'gone', detail: 'ECONNREFUSED' });
    expect(n.text).toMatch(/the server gone could not be reached/);
    expect(n.text).not.toMatch(/at .*\.ts|Error:/);
    const next = await h.call('alice', 'web', 'whoami');
    expect((await outcome(next)).outcome.kind).toBe('result');
  });

  it('a hanging server ends in a timeout outcome at the server’s bound, and the server is told to cancel', async () => {
    const cancelledBefore = http.cancelled;
    await h.policy.rule(h.org.id, 'allow', 'web', { tools: 'slow' });
    const t0 = Date.now();
    const id = await h.call('alice', 'web', 'slow', { ms: 20_000 });
    const n = await outcome(id);
    expect(n.outcome).toEqual({ kind: 'timeout', server: 'web', afterMs: 1500 });
    expect(Date.now() - t0).toBeLessThan(5000);
    await vi.waitFor(() => expect(http.cancelled).toBe(cancelledBefore + 1), { timeout: 200, interval: 10 });
  });

  it('a 5xx is retried with backoff for a read-only tool, but a tool that is not idempotent is not re-sent', async () => {
    await h.policy.rule(h.org.id, 'allow', 'web', { tools: 'read_notes' });
    await h.policy.rule(h.org.id, 'allow', 'web', { tools: 'create_note', roles: ['admin'] });
    await h.identity.setRole(h.org.id, (await h.user('carol')).id, 'admin');
    await h.policy.setSecret(h.org.id, 'user', (await h.user('carol')).id, 'token', new Secret('carol-token'));
    http.failNext(2, 503);
    const read = await h.call('carol', 'web', 'read_notes');
    expect((await outcome(read)).outcome.kind).toBe('result');
    const row = (await h.runner.executor.calls.get(read))!;
    expect(row.attempts).toBe(3);
    const creates = http.calls.filter((c) => c.tool === 'create_note').length;
    http.failNext(1, 503);
    const create = await h.call('carol', 'web', 'create_note', { text: 'once' });
    const n = await outcome(create);
    expect(n.outcome).toEqual({ kind: 'unreachable', server: 'web', detail: 'HTTP 503' });
    expect((await h.runner.executor.calls.get(create))!.attempts).toBe(1);
    expect(http.calls.filter((c) => c.tool === 'create_note').length).toBe(creates);
  });

  it('a 4xx is not retried, even for a read-only tool', async () => {
    http.failNext(1, 400);
    const id = await h.call('carol', 'web', 'read_notes');
    const n = await outcome(id);
    expect(n.outcome).toEqual({ kind: 'failed', why: { code: 'protocol', server: 'web', message: 'HTTP 400' } });
    expect(n.outcome.kind === 'failed' && problemText(n.outcome.why)).toBe('web refused the call (HTTP 400)');
    expect((await h.runner.executor.calls.get(id))!.attempts).toBe(1);
  });

  it('when the queue gives up on a call, the caller is told: interrupted if it may have run, failed otherwise', async () => {
    const { calls } = h.runner.executor;
    const server = (await h.policy.server(h.org.id, 'web'))!;
    for (const [id, idempotent] of [
      ['gave-up-1', false],
      ['gave-up-2', true],
    ] as const) {
      await calls.insert({
        id,
        orgId: h.org.id,
        userId: (await h.user('alice')).id,
        serverId: server.id,
        tool: 'create_note',
        args: {},
        replyTarget: h.target('alice'),
        requestId: 'r',
      });
      await calls.transition(id, ['queued'], 'running', { outcome: { started: { at: Date.now(), idempotent } } });
      await h.runner.executor.giveUp(id);
    }
    expect((await outcome('gave-up-1')).outcome).toEqual({ kind: 'interrupted', server: 'web', tool: 'create_note' });
    const gaveUp = (await outcome('gave-up-2')).outcome;
    expect(gaveUp).toEqual({ kind: 'failed', why: { code: 'gave_up' } });
    expect(gaveUp.kind === 'failed' && problemText(gaveUp.why)).toBe('the call could not be completed; try again');
    await h.runner.executor.giveUp('gave-up-1');
    expect(h.notifier.for('gave-up-1')).toHaveLength(1);
  });

  it('a long result is trimmed for chat with a note', async () => {
    const id = await h.call('alice', 'web', 'echo', { text: 'x'.repeat(10_000), repo: 'acme/a' });
    const n = await outcome(id);
    expect(n.outcome).toMatchObject({ kind: 'result', trimmed: true });
    expect(n.text.length).toBeLessThan(4000);
    expect(n.text).toMatch(/more characters not shown/);
    expect(n.text).toMatch(/trimmed for chat/);
  });

  it('no secret used appears in any Redis key, job, return value or log line', async () => {
    const r = new Redis(redis.url);
    try {
      const dump = await dumpRedis(r);
      expect(dump).toContain('callId'); // the scan does see the jobs (their data is the call's id)
      for (const c of Object.values(CANARIES)) expect(dump).not.toContain(c);
    } finally {
      r.disconnect();
    }
    expect(h.logs.containing(...Object.values(CANARIES))).toEqual([]);
  });
});
