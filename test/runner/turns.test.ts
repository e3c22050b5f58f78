import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyTarget } from '../../src/chat/types.js';
import type { TurnJob } from '../../src/agent/index.js';
import type { TestApp } from '../support/app.js';
import { queuesIdle } from '../support/queues.js';
import { world, type World } from '../support/world.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { authorizeInBrowser, type OAuthTestServer } from '../support/oauth-server.js';
import { RecordingNotifier } from './harness.js';
import { until } from './processes.js';

let w: World;
let t: TestApp;
let oauthServer: OAuthTestServer;
let http: TestMcpHttpServer;
const notes = new RecordingNotifier();
const turns: TurnJob[] = [];
let orgId: string;
let alice: string;
const target: ReplyTarget = {
  platform: 'slack',
  workspaceId: 'T1',
  channelId: 'C1',
  userId: 'alice',
  threadId: '171.1',
  isDirect: false,
};
const req = (extra: Partial<Parameters<NonNullable<TestApp['app']['runner']>['enqueueToolCall']>[0]> = {}) => ({
  orgId,
  userId: alice,
  chatIdentity: 'slack:T1:alice',
  server: 'web',
  tool: 'whoami',
  args: {},
  target,
  requestId: 'req-1',
  ...extra,
});

beforeAll(async () => {
  w = await world({
    platform: 'slack',
    provider: 'vendor',
    client: { id: 'c', secret: 's' },
    servers: [{ name: 'web', grant: true }, { name: 'open' }],
    app: {
      runner: { notifier: notes, turnProcessor: async (turn) => void turns.push(turn), tuning: { backoffMs: 50 } },
    },
  });
  ({ t, oauth: oauthServer, mcp: http } = w);
  orgId = w.org.id;
  alice = (
    await t.app.identity.resolve({
      platform: 'slack',
      workspaceId: 'T1',
      userId: 'alice',
      displayName: 'Alice',
      workspaceName: 'Acme',
    })
  ).user.id;
});

afterAll(async () => {
  await w?.stop();
});

describe('turn queue and awaiting a call', () => {
  it('a turn is processed by the injected agent, once per platform event even when the platform retries', async () => {
    const turn = {
      orgId,
      userId: alice,
      chatIdentity: 'slack:T1:alice',
      text: 'what is open?',
      target,
      requestId: 'r-turn',
      eventId: 'Ev123',
    };
    await t.app.turns.enqueue(turn);
    await t.app.turns.enqueue(turn);
    await until(() => turns.length >= 1, 10_000, 'the turn');
    await queuesIdle(t.app.redisUrl, 300);
    expect(turns.filter((x) => x.requestId === 'r-turn')).toEqual([
      expect.objectContaining({ text: 'what is open?', target }),
    ]);
  });

  it('a tool call retried by the platform with the same event id runs once', async () => {
    const before = http.calls.length;
    const a = await t.app.runner.enqueueToolCall(
      req({ server: 'open', tool: 'echo', args: { text: 'once' }, eventId: 'Ev-run-1' }),
    );
    const b = await t.app.runner.enqueueToolCall(
      req({ server: 'open', tool: 'echo', args: { text: 'once' }, eventId: 'Ev-run-1' }),
    );
    expect(b.callId).toBe(a.callId);
    await until(() => notes.for(a.callId).length === 1, 10_000, 'the outcome');
    await queuesIdle(t.app.redisUrl, 300);
    expect(http.calls.length).toBe(before + 1);
  });

  it('runToolCall resolves with the outcome for the agent (nothing posted to chat) or with parked', async () => {
    const done = await t.app.runner.runToolCall(
      req({ server: 'open', tool: 'echo', args: { text: 'hi' }, turnId: 'turn-1' }),
    );
    expect(done).toEqual({
      kind: 'done',
      outcome: { kind: 'result', text: '{"text":"hi"}', trimmed: false, isError: false },
    });
    const parked = await t.app.runner.runToolCall(req({ turnId: 'turn-2', requestId: 'req-turn-2' }));
    expect(parked).toMatchObject({ kind: 'parked', providerSlug: 'vendor' });
    expect(notes.notices.filter((n) => n.kind === 'outcome' && n.text.includes('{"text":"hi"}'))).toEqual([]);

    // The prompt went to Alice; once she connects, the agent's turn continues with the result.
    const prompt = notes.for(parked.kind === 'parked' ? parked.callId : '')[0]!;
    expect(prompt.kind).toBe('connect');
    oauthServer.login = 'alice-gh';
    const step = await authorizeInBrowser(prompt.kind === 'connect' ? prompt.req.connectUrl : '');
    if (!('callbackUrl' in step)) throw new Error('connect failed');
    await step.browser.fetch(step.callbackUrl);
    expect(await t.app.oauth.confirmHeld(orgId, alice, 'vendor')).toMatchObject({ ok: true });
    await until(() => turns.some((x) => x.resumed), 15_000, 'the resumed turn');
    const resumed = turns.find((x) => x.resumed)!;
    expect(resumed).toMatchObject({ requestId: 'req-turn-2', target, resumed: { server: 'web', tool: 'whoami' } });
    expect(resumed.resumed!.outcome).toMatch(/authorization/);
    expect(notes.for(parked.kind === 'parked' ? parked.callId : '').filter((n) => n.kind === 'outcome')).toEqual([]);
  });

  it('a model call (turnId) of a tool that is not read-only is held at once; of a `never` tool refused; neither reaches the server', async () => {
    await t.app.policy.addServer(orgId, { name: 'guarded', transport: 'http', url: http.url });
    const seen = () =>
      http.calls.filter((c) => c.tool === 'create_note' && String(c.args['text']).startsWith('guarded'));
    const held = await t.app.runner.runToolCall(
      req({
        server: 'guarded',
        tool: 'create_note',
        args: { text: 'guarded held' },
        turnId: 'turn-h',
        requestId: 'req-h',
      }),
    );
    expect(held).toMatchObject({ kind: 'held' });
    const callId = held.kind === 'held' ? held.callId : '';
    expect(notes.for(callId)).toEqual([
      expect.objectContaining({
        kind: 'approval',
        req: expect.objectContaining({ args: { text: 'guarded held' }, credentialKinds: [], grants: [] }),
      }),
    ]);
    expect((await t.app.runner.executor.calls.get(callId))!.status).toBe('awaiting_approval');

    // The catalog already hides a `never` tool from the model; a model call of it anyway is refused.
    expect((await t.app.policy.approve(orgId, 'guarded', 'create_note', 'never')).ok).toBe(true);
    const refused = await t.app.runner.runToolCall(
      req({
        server: 'guarded',
        tool: 'create_note',
        args: { text: 'guarded never' },
        turnId: 'turn-n',
        requestId: 'req-n',
      }),
    );
    expect(refused).toMatchObject({ kind: 'done', outcome: { kind: 'denied', rule: 'approve create_note' } });
    const user = (await t.app.identity.user(orgId, alice))!;
    expect(
      (await t.app.catalog.catalogFor(orgId, user, 'C1', { forModel: true }))
        .filter((x) => x.server === 'guarded')
        .map((x) => x.tool),
    ).not.toContain('create_note');
    expect(
      (await t.app.catalog.catalogFor(orgId, user, 'C1')).filter((x) => x.server === 'guarded').map((x) => x.tool),
    ).toContain('create_note');
    expect(seen()).toEqual([]);
  });

  it("a tool job carries the call's id only (the call row holds the rest), with bounded attempts and removal ages", async () => {
    const { Queue } = await import('bullmq');
    const q = new Queue('tool', { connection: { url: t.app.redisUrl } as never, prefix: 'onbehalf' });
    try {
      const { callId } = await t.app.runner.enqueueToolCall(
        req({ server: 'open', tool: 'echo', args: { text: 'inspect' } }),
      );
      const job = await q.getJob(callId);
      expect(job!.data).toEqual({ callId });
      expect(job!.opts).toMatchObject({
        attempts: 4,
        backoff: { type: 'exponential', delay: 50 },
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 604800 },
      });
    } finally {
      await q.close();
    }
  });
});
