import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fingerprint } from '../../support/mcp-servers/index.js';
import { obedientModel } from '../../support/llm-server.js';
import { startSlackApi, type SlackApi, type SlackApiCall } from '../../support/slack-api.js';
import { SlackSigner } from '../../support/slack-signing.js';
import { world, type World } from '../../support/world.js';

const SIGNING = 'elicit-signing-secret-7a6b5c';
const TEAM = 'TACME';
const CHANNEL = 'CSUPPORT';
const CANARY = 'vk-slackElicitCanary_0f9e8d7c6b5a4f3e';

type Button = { type: string; action_id: string; value: string; text: { text: string } };
type Block = { type: string; block_id?: string; optional?: boolean; element?: Record<string, unknown> };
const buttonsOf = (c: SlackApiCall) =>
  (c.body['blocks'] as { type: string; elements?: Button[] }[]).find((b) => b.type === 'actions')?.elements ?? [];

describe('Slack: a form an MCP server asks for during a call', () => {
  let w: World;
  let slack: SlackApi;
  let url: string;
  const signer = new SlackSigner(SIGNING);
  let n = 0;
  const mention = (user: string, text: string) =>
    signer.post(
      url,
      signer.event(
        {
          type: 'app_mention',
          user,
          text: `<@UBOT> ${text}`,
          ts: `1700002${String(++n).padStart(3, '0')}.000100`,
          channel: CHANNEL,
        },
        { teamId: TEAM, eventId: `Ev-elicit-${n}` },
      ),
    );
  const click = (user: string, b: Button) =>
    signer.post(
      url,
      signer.interaction({
        type: 'block_actions',
        team: { id: TEAM },
        user: { id: user, team_id: TEAM },
        trigger_id: `trig-${user}-${++n}`,
        channel: { id: CHANNEL },
        container: { type: 'message', channel_id: CHANNEL, message_ts: '1', is_ephemeral: true },
        actions: [{ action_id: b.action_id, type: 'button', value: b.value, action_ts: '1' }],
      }),
    );
  /** A view_submission of `view` by `user` with these typed values (and selects). */
  const submit = (
    user: string,
    view: { callback_id: string; private_metadata: string },
    typed: Record<string, string>,
    picked: Record<string, string>,
  ) =>
    signer.post(
      url,
      signer.elicitSubmission(
        { id: 'V-elicit', callback_id: view.callback_id, private_metadata: view.private_metadata },
        { typed, picked },
        { teamId: TEAM, userId: user },
      ),
    );

  beforeAll(async () => {
    slack = await startSlackApi();
    w = await world({
      platform: 'slack',
      workspace: TEAM,
      servers: [{ name: 'vendor', timeoutMs: 20_000 }],
      llm: obedientModel(),
      env: slack.appEnv(SIGNING, 'xoxb-elicit-bot'),
      shell: false,
    });
    await w.app.policy.rule(w.org.id, 'allow', 'vendor', { tools: '*' });
    url = `${w.t.baseUrl}/slack/events`;
  }, 30_000);
  afterAll(async () => {
    await w?.stop();
    await slack?.stop();
  });

  it("goes to the caller alone, opens as a modal with each field's type and default; another user's click or submission is refused; the secret reaches the server only", async () => {
    expect((await mention('UANA', 'call vendor.ask_profile')).status).toBe(200);
    const prompt = await slack.waitFor(
      'chat.postEphemeral',
      (c) => String(c.body['text']).includes('Tell us about you'),
      20_000,
    );
    expect(prompt.body).toMatchObject({ channel: CHANNEL, user: 'UANA' });
    const [answer, decline, cancel] = buttonsOf(prompt);
    expect([answer?.text.text, decline?.text.text, cancel?.text.text]).toEqual(['Answer', 'Decline', 'Cancel']);
    const id = answer!.value.split(' ')[1]!;
    expect(slack.containing(id).map((c) => [c.method, c.body['user']])).toEqual([['chat.postEphemeral', 'UANA']]);

    // Bob clicks Ana's Answer: one line, no form.
    await click('UBOB', answer!);
    const refusal = await slack.waitFor('chat.postEphemeral', (c) => c.body['user'] === 'UBOB');
    expect(refusal.body['text']).toBe('Only the person whose call asked this can answer it; nothing was sent.');
    expect(slack.callsTo('views.open')).toEqual([]);

    await click('UANA', answer!);
    const open = await slack.waitFor('views.open');
    const view = open.body['view'] as { callback_id: string; private_metadata: string; blocks: Block[] };
    const inputs = Object.fromEntries(view.blocks.filter((b) => b.type === 'input').map((b) => [b.block_id, b]));
    expect(Object.keys(inputs)).toEqual(['name', 'nickname', 'age', 'score', 'subscribed', 'plan', 'api_key']);
    expect(inputs['name']).toMatchObject({ element: { type: 'plain_text_input' } });
    expect(inputs['name']!.optional).toBeUndefined();
    expect(inputs['nickname']).toMatchObject({ optional: true, element: { initial_value: 'Sam' } });
    expect(inputs['score']).toMatchObject({ optional: true, element: { initial_value: '9.5' } });
    expect(inputs['subscribed']).toMatchObject({
      element: { type: 'static_select', initial_option: { value: 'yes' } },
    });
    expect(inputs['plan']).toMatchObject({
      element: {
        type: 'static_select',
        initial_option: { value: 'free' },
        options: [{ value: 'free' }, { value: 'pro' }, { value: 'team' }],
      },
    });

    // Bob forges a submission of the same modal.
    const forged = await submit('UBOB', view, { name: 'Bob', age: '3', api_key: 'bob-' + CANARY }, {});
    expect(await forged.text).toContain('Only the person whose call asked this');

    const done = await submit(
      'UANA',
      view,
      { name: 'Ana', nickname: '', age: '41', score: '', api_key: CANARY },
      { subscribed: 'no', plan: 'team' },
    );
    expect(done.status).toBe(200);
    expect(await done.text).toContain('Sent to `vendor.ask_profile`');

    const tool = await vi.waitFor(
      () => {
        const r = w
          .llm!.requests.flatMap((q) => q.messages)
          .find((m) => m.role === 'tool' && String(m.content).includes('"action"'));
        if (!r) throw new Error('the model has not seen the result yet');
        return String(r.content);
      },
      { timeout: 20_000, interval: 50 },
    );
    const content = JSON.parse(tool.match(/\{"action":"accept","content":(\{[^}]*\})\}/)![1]!);
    expect(content).toEqual({
      name: 'Ana',
      nickname: 'Sam',
      age: 41,
      score: 9.5,
      subscribed: false,
      plan: 'team',
      api_key: fingerprint(CANARY),
    });

    expect(slack.containing(CANARY)).toEqual([]);
    expect(w.logs.containing(CANARY)).toEqual([]);
    expect(JSON.stringify(w.llm!.requests)).not.toContain(CANARY);
    const r = new Redis(w.redis!.url);
    try {
      const keys = await r.keys('*');
      expect(keys.join('\n')).not.toContain(CANARY);
      for (const k of keys) if ((await r.type(k)) === 'string') expect(await r.get(k)).not.toContain(CANARY);
    } finally {
      r.disconnect();
    }
  });
});
