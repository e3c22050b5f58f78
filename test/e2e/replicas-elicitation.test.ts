import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fingerprint } from '../support/mcp-servers/index.js';
import { replicas, type Replicas } from '../support/replicas.js';
import { startSlackApi, type SlackApi, type SlackApiCall } from '../support/slack-api.js';
import { SlackSigner } from '../support/slack-signing.js';

const SIGNING = 'replicas-elicit-signing-3b2a19';
const TEAM = 'TACME';
const CHANNEL = 'CSUPPORT';
const CANARY = 'vk-replicaElicitCanary_7d6c5b4a3f2e1d0c';

type Button = { action_id: string; value?: string; text?: { text: string } };
const buttonsOf = (c: SlackApiCall) =>
  ((c.body['blocks'] ?? []) as { type: string; elements?: Button[] }[]).flatMap((b) => b.elements ?? []);

// The call runs on replica a (b runs no tool workers); every chat request of the person reaches b.
describe('a question asked during a call run on another replica', () => {
  let r: Replicas;
  let slack: SlackApi;
  const signer = new SlackSigner(SIGNING);
  let n = 0;
  const toB = () => `${r.b.baseUrl}/slack/events`;
  const click = (user: string, b: Button) =>
    signer.post(
      toB(),
      signer.interaction({
        type: 'block_actions',
        team: { id: TEAM },
        user: { id: user, team_id: TEAM },
        trigger_id: `trig-${++n}`,
        channel: { id: CHANNEL },
        container: { type: 'message', channel_id: CHANNEL, message_ts: '1700000000.000001', is_ephemeral: true },
        actions: [{ action_id: b.action_id, type: 'button', value: b.value, action_ts: '1' }],
      }),
    );

  beforeAll(async () => {
    slack = await startSlackApi();
    r = await replicas(
      {
        platform: 'slack',
        workspace: TEAM,
        servers: [{ name: 'vendor', timeoutMs: 20_000 }],
        shell: false,
        env: slack.appEnv(SIGNING, 'xoxb-replicas-elicit-bot'),
      },
      { runner: { startWorkers: false } },
    );
    expect((await r.w.app.policy.rule(r.w.org.id, 'allow', 'vendor', { tools: '*' })).ok).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await r?.stop();
    await slack?.stop();
  });

  it("the form is answered on replica b while the call waits on replica a, and the server receives the caller's values", async () => {
    const typed = await signer.post(
      toB(),
      signer.command({ teamId: TEAM, userId: 'UANA', channelId: CHANNEL, text: 'run vendor.ask_profile {}' }),
    );
    expect(typed.status).toBe(200);
    const prompt = await slack.waitFor(
      'chat.postEphemeral',
      (c) => c.body['user'] === 'UANA' && String(c.body['text']).includes('Tell us about you'),
      20_000,
    );
    const answer = buttonsOf(prompt).find((b) => b.text?.text === 'Answer')!;
    expect((await click('UANA', answer)).status).toBe(200);
    const view = (await slack.waitFor('views.open', undefined, 20_000)).body['view'] as {
      callback_id: string;
      private_metadata: string;
    };
    const typedIn = { name: 'Ana', nickname: '', age: '41', score: '', api_key: CANARY };
    const picked = { subscribed: 'no', plan: 'team' };
    const done = await signer.post(
      toB(),
      signer.elicitSubmission(
        { id: 'V-replica-elicit', callback_id: view.callback_id, private_metadata: view.private_metadata },
        { typed: typedIn, picked },
        { teamId: TEAM, userId: 'UANA' },
      ),
    );
    expect(await done.text).toContain('Sent to `vendor.ask_profile`');

    const said = await vi.waitFor(
      () => {
        const c = slack.callsTo('chat.update').find((u) => String(u.body['text']).includes('"action":"accept"'));
        if (!c) throw new Error('no result yet');
        return String(c.body['text']);
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(JSON.parse(said.match(/"content":(\{[^}]*\})/)![1]!)).toEqual({
      name: 'Ana',
      nickname: 'Sam',
      age: 41,
      score: 9.5,
      subscribed: false,
      plan: 'team',
      api_key: fingerprint(CANARY),
    });
    // The call itself ran on a (b runs no tool workers), once.
    expect(r.w.mcp.calls.filter((c) => c.tool === 'ask_profile')).toHaveLength(1);
    expect(r.a.logs.containing('tool job finished')).not.toEqual([]);
    expect(r.b.logs.containing('tool job finished')).toEqual([]);
    expect(slack.containing(CANARY)).toEqual([]);
    expect(r.w.logs.containing(CANARY)).toEqual([]);
  });
});
