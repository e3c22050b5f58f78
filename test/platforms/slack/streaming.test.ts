import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { toolResults, type LlmReply, type LlmRequest } from '../../support/llm-server.js';
import { startSlackApi, type SlackApi, type SlackApiCall } from '../../support/slack-api.js';
import { SlackSigner } from '../../support/slack-signing.js';
import { world, type World } from '../../support/world.js';

const SIGNING = 'streaming-signing-secret-7d1e9a';
const TEAM = 'T1';
const CHANNEL = 'CSUPPORT';
const ANSWER =
  'You are signed in as alice-at-vendor at the vendor, and the echo tool repeated your words back. Both calls ran with your own account.';

/**
 * A model that calls `github.whoami` (or, asked to go slowly, `github.slow` for 1.5 s), then
 * `github.echo`, then answers with a fixed text (streamed in word-sized parts); asked for a long
 * answer, it answers with `LONG`.
 */
function model(req: LlmRequest): LlmReply {
  const results = toolResults(req);
  const asked = JSON.stringify(req.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '');
  if (asked.includes('long answer')) return { text: LONG };
  if (req.messages.at(-1)?.role === 'user')
    return asked.includes('slowly')
      ? { toolCalls: [{ name: 'github__slow', args: { ms: 1500 } }] }
      : { toolCalls: [{ name: 'github__whoami', args: {} }] };
  if (results.length === 1) return { toolCalls: [{ name: 'github__echo', args: { text: 'hello' } }] };
  return { text: ANSWER };
}
/** Longer than one streamed message holds (and than one markdown_text), in lines of words. */
const LONG = Array.from({ length: 900 }, (_, i) => `Line ${i}: the quick brown fox jumps over the lazy dog.`).join(
  '\n',
);

type Chunk = { type: string; id?: string; title?: string; status?: string; text?: string };
const chunksOf = (c: SlackApiCall) => (c.body['chunks'] as Chunk[] | undefined) ?? [];
const TURN_METHODS = [
  'assistant.threads.setStatus',
  'chat.startStream',
  'chat.appendStream',
  'chat.stopStream',
  'chat.postMessage',
  'chat.update',
];

describe('Slack: a mention shows status at once, streams its answer with an entry per tool call, and asks for feedback', () => {
  let slack: SlackApi;
  let w: World;
  let url: string;
  const signer = new SlackSigner(SIGNING);
  let n = 0;
  /** Alice mentions the bot at the top of the channel; resolves with when it was sent and the thread it opens. */
  const mention = async (text: string) => {
    const ts = `1700002${String(++n).padStart(3, '0')}.000100`;
    const sentAt = Date.now();
    const res = await signer.post(
      url,
      signer.event(
        { type: 'app_mention', user: 'UALICE', text: `<@UBOT> ${text}`, ts, channel: CHANNEL },
        { teamId: TEAM, eventId: `Ev-stream-${n}` },
      ),
    );
    expect(res.status).toBe(200);
    return { sentAt, thread: ts };
  };
  /** The calls of one turn (those in its thread, or on the messages posted there), in the order Slack got them. */
  const turnCalls = (thread: string) => {
    const ours = new Set(
      slack
        .visible(CHANNEL)
        .filter((m) => m.thread_ts === thread)
        .map((m) => m.ts),
    );
    return slack.calls.filter(
      (c) => TURN_METHODS.includes(c.method) && (c.body['thread_ts'] === thread || ours.has(String(c.body['ts']))),
    );
  };
  const placeholderOf = (calls: SlackApiCall[]) => calls.find((c) => c.method === 'chat.postMessage')!;
  const finalText = (thread: string) => slack.visible(CHANNEL).filter((m) => m.thread_ts === thread && !m.streaming);

  beforeAll(async () => {
    slack = await startSlackApi();
    w = await world({
      platform: 'slack',
      workspace: TEAM,
      users: ['UALICE'],
      displayNames: { UALICE: 'alice' },
      provider: 'vendor',
      servers: [{ name: 'github', grant: true }],
      mcp: { extraTools: ['list_issues'] },
      llm: model,
      env: {
        SLACK_SIGNING_SECRET: SIGNING,
        SLACK_BOT_TOKEN: 'xoxb-streaming-bot',
        SLACK_API_URL: slack.url.replace(/\/$/, ''),
      },
    });
    await w.connect('UALICE', { login: 'alice-at-vendor' });
    url = `${w.t.baseUrl}/slack/events`;
  });
  afterEach(() => {
    slack.refuse('chat.startStream', undefined);
    slack.refuse('assistant.threads.setStatus', undefined);
    slack.refuse('chat.stopStream', undefined);
  });
  afterAll(async () => {
    await w?.stop();
    await slack?.stop();
  });

  it('status within 1 s, stream start to the recipient, an entry per tool with the account it runs as, text, stop, feedback', async () => {
    const { sentAt, thread } = await mention('who am I, and echo hello');
    const status = await slack.waitFor('assistant.threads.setStatus', (c) => c.body['thread_ts'] === thread);
    expect(status.at - sentAt).toBeLessThan(1000);
    expect(status.body).toMatchObject({ channel_id: CHANNEL, status: 'Thinking…' });
    await slack.waitFor('chat.stopStream', undefined, 20_000);

    const calls = turnCalls(thread);
    const methods = calls.map((c) => c.method);
    expect(methods[0]).toBe('assistant.threads.setStatus');
    expect(methods.filter((m) => m === 'chat.startStream')).toHaveLength(1);
    expect(methods.at(-1)).toBe('chat.stopStream');
    expect(methods).not.toContain('chat.postMessage');
    const start = calls.find((c) => c.method === 'chat.startStream')!;
    expect(start.body).toMatchObject({
      channel: CHANNEL,
      thread_ts: thread,
      recipient_user_id: 'UALICE',
      recipient_team_id: TEAM,
    });
    expect(calls.indexOf(start)).toBeLessThan(
      calls.findIndex((c) => chunksOf(c).some((k) => k.type === 'task_update')) + 1,
    );

    // One entry per tool call, running then complete, each naming the account it runs as.
    const tasks = calls.flatMap((c) => chunksOf(c).filter((k) => k.type === 'task_update'));
    const ids = [...new Set(tasks.map((k) => k.id))];
    expect(ids).toHaveLength(2);
    expect(tasks.map((k) => [k.title, k.status])).toEqual([
      ["github.whoami as @alice's vendor (@alice-at-vendor)", 'in_progress'],
      ["github.whoami as @alice's vendor (@alice-at-vendor)", 'complete'],
      ["github.echo as @alice's vendor (@alice-at-vendor)", 'in_progress'],
      ["github.echo as @alice's vendor (@alice-at-vendor)", 'complete'],
    ]);
    // The status named each call as it ran.
    expect(calls.filter((c) => c.method === 'assistant.threads.setStatus').map((c) => c.body['status'])).toContain(
      "Calling github.whoami as @alice's vendor (@alice-at-vendor)…",
    );

    // Text after the last entry, in parts, then the stop with the feedback buttons.
    const lastTask = calls.findLastIndex((c) => chunksOf(c).some((k) => k.type === 'task_update'));
    const texts = calls.slice(lastTask + 1).filter((c) => c.body['markdown_text']);
    expect(texts.length).toBeGreaterThanOrEqual(1);
    expect(calls.slice(lastTask + 1).some((c) => c.method === 'chat.appendStream' && c.body['markdown_text'])).toBe(
      true,
    );
    const stop = calls.at(-1)!;
    expect(stop.body['blocks']).toEqual([
      expect.objectContaining({
        type: 'context_actions',
        elements: [
          expect.objectContaining({
            type: 'feedback_buttons',
            positive_button: expect.objectContaining({ value: expect.stringMatching(/^up \S+$/) }),
            negative_button: expect.objectContaining({ value: expect.stringMatching(/^down \S+$/) }),
          }),
        ],
      }),
    ]);
    expect(finalText(thread).map((m) => m.text)).toEqual([ANSWER]);
  });

  it('a thumbs down on an answer is recorded as an audit event naming who gave it, and counted in /metrics', async () => {
    const { thread } = await mention('who am I, and echo hello');
    await vi.waitFor(() => expect(finalText(thread)).toHaveLength(1), { timeout: 20_000 });
    const stop = turnCalls(thread).find((c) => c.method === 'chat.stopStream')!;
    type Feedback = { action_id: string; negative_button: { value: string } };
    const buttons = (stop.body['blocks'] as { elements: Feedback[] }[])[0]!.elements[0]!;
    const turn = buttons.negative_button.value.split(' ')[1]!;
    const res = await signer.post(
      url,
      signer.interaction({
        type: 'block_actions',
        team: { id: TEAM },
        user: { id: 'UBOB', team_id: TEAM },
        channel: { id: CHANNEL },
        container: { type: 'message', channel_id: CHANNEL, message_ts: String(stop.body['ts']), thread_ts: thread },
        actions: [
          {
            type: 'feedback_buttons',
            action_id: buttons.action_id,
            block_id: 'b1',
            value: buttons.negative_button.value,
            text: { type: 'plain_text', text: '👎' },
            action_ts: '1',
          },
        ],
      }),
    );
    expect(res.status).toBe(200);
    await vi.waitFor(async () => {
      const rows = await w.app.store.execute<Record<string, string>>(
        sql`select * from audit_events where category = 'feedback' and request_id = ${turn}`,
      );
      expect(rows).toEqual([
        expect.objectContaining({ action: 'answer.feedback', outcome: 'down', chat_identity: `slack:${TEAM}:UBOB` }),
      ]);
    });
    const metrics = await (await fetch(`${w.t.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/onbehalf_answer_feedback_total\{rating="down"\} 1/);
  });

  it('where Slack refuses chat.startStream, the answer is posted and edited in place (at most once a second), ending in the same text', async () => {
    slack.refuse('chat.startStream', 'not_allowed');
    const { thread } = await mention('slowly: who am I, and echo hello');
    await vi.waitFor(() => expect(finalText(thread).map((m) => m.text)).toEqual([ANSWER]), { timeout: 20_000 });
    const calls = turnCalls(thread);
    expect(calls.map((c) => c.method)).not.toContain('chat.appendStream');
    expect(calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    expect(String(placeholderOf(calls).body['text'])).toContain("github.slow as @alice's vendor");
    const edits = calls.filter((c) => c.method === 'chat.update');
    // The slow call's entry, then the answer: at least one edit while it worked, and the final one.
    expect(edits.length).toBeGreaterThanOrEqual(2);
    expect(String(edits[0]!.body['text'])).toContain('✓ Called github.slow');
    // Progress edits at most once a second (the answer itself is not held back).
    const progress = [placeholderOf(calls), ...edits.slice(0, -1)];
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.at - progress[i - 1]!.at).toBeGreaterThanOrEqual(900);
    expect(edits.at(-1)!.body['blocks']).toContainEqual(expect.objectContaining({ type: 'context_actions' }));
  });

  it('a stream Slack will not stop (expired, refused) still ends in the whole answer, posted as a message', async () => {
    slack.refuse('chat.stopStream', 'message_not_in_streaming_state');
    const { thread } = await mention('who am I, and echo hello');
    await vi.waitFor(() => expect(finalText(thread).map((m) => m.text)).toEqual([ANSWER]), { timeout: 20_000 });
    expect(turnCalls(thread).filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
  });

  it('without the assistant surface, a placeholder appears within 1 s and becomes the answer', async () => {
    slack.refuse('assistant.threads.setStatus', 'not_allowed_token_type');
    const { sentAt, thread } = await mention('who am I, and echo hello');
    const placeholder = await slack.waitFor('chat.postMessage', (c) => c.body['thread_ts'] === thread);
    expect(placeholder.at - sentAt).toBeLessThan(1000);
    expect(placeholder.body['text']).toBe('Thinking…');
    await vi.waitFor(() => expect(finalText(thread).map((m) => m.text)).toEqual([ANSWER]), { timeout: 20_000 });
    expect(turnCalls(thread).filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
  });

  it('an answer longer than one streamed message continues in the thread, nothing lost', async () => {
    const { thread } = await mention('a long answer please');
    await vi.waitFor(() => expect(finalText(thread).length).toBeGreaterThanOrEqual(2), { timeout: 20_000 });
    const calls = turnCalls(thread);
    expect(calls.filter((c) => c.method === 'chat.stopStream')).toHaveLength(1);
    for (const c of calls) expect(String(c.body['markdown_text'] ?? '').length).toBeLessThanOrEqual(12_000);
    expect(
      finalText(thread)
        .map((m) => m.text)
        .join(''),
    ).toBe(LONG);
  });

  it("an assistant thread opens with prompts drawn from the caller's own tools, and its messages stream to the DM", async () => {
    const DM = 'DALICE';
    const thread = '1700003000.000100';
    const assistantEvent = (type: string, eventId: string) =>
      signer.post(
        url,
        signer.event(
          {
            type,
            assistant_thread: {
              user_id: 'UALICE',
              channel_id: DM,
              thread_ts: thread,
              context: { channel_id: CHANNEL },
            },
            event_ts: thread,
          },
          { teamId: TEAM, eventId },
        ),
      );
    expect((await assistantEvent('assistant_thread_started', 'Ev-assist-1')).status).toBe(200);
    const suggested = await slack.waitFor(
      'assistant.threads.setSuggestedPrompts',
      (c) => c.body['thread_ts'] === thread,
    );
    const prompts = suggested.body['prompts'] as { title: string; message: string }[];
    expect(suggested.body['channel_id']).toBe(DM);
    expect(prompts.length).toBeLessThanOrEqual(4);
    expect(prompts.map((p) => p.title)).toEqual(
      expect.arrayContaining(['List my open issues', 'Who am I on github?', 'What can you do for me?']),
    );

    // Looking at another channel beside the thread: the prompts are offered again.
    expect((await assistantEvent('assistant_thread_context_changed', 'Ev-assist-2')).status).toBe(200);
    await vi.waitFor(() =>
      expect(
        slack.callsTo('assistant.threads.setSuggestedPrompts').filter((c) => c.body['thread_ts'] === thread),
      ).toHaveLength(2),
    );
    // Titled at once with the fixed title, once (not again for the context change): the person has asked nothing yet.
    const titles = () =>
      slack
        .callsTo('assistant.threads.setTitle')
        .filter((c) => c.body['thread_ts'] === thread)
        .map((c) => [c.body['channel_id'], c.body['title']]);
    expect(titles()).toEqual([[DM, 'New chat with onbehalf']]);

    // A message in the assistant thread (message.im): status on that thread, then the answer streamed there.
    const res = await signer.post(
      url,
      signer.event(
        {
          type: 'message',
          channel_type: 'im',
          user: 'UALICE',
          text: prompts[0]!.message,
          ts: '1700003001.000100',
          thread_ts: thread,
          channel: DM,
        },
        { teamId: TEAM, eventId: 'Ev-assist-3' },
      ),
    );
    expect(res.status).toBe(200);
    await slack.waitFor(
      'assistant.threads.setStatus',
      (c) => c.body['channel_id'] === DM && c.body['thread_ts'] === thread,
    );
    const start = await slack.waitFor('chat.startStream', (c) => c.body['channel'] === DM, 20_000);
    expect(start.body['thread_ts']).toBe(thread);
    expect(start.body).not.toHaveProperty('recipient_user_id');
    await vi.waitFor(
      () =>
        expect(
          slack
            .visible(DM)
            .filter((m) => m.thread_ts === thread && !m.streaming)
            .map((m) => m.text),
        ).toEqual([ANSWER]),
      { timeout: 20_000 },
    );
    // The prompt the person picked is what they asked first: it replaces the fixed title.
    await vi.waitFor(() =>
      expect(titles()).toEqual([
        [DM, 'New chat with onbehalf'],
        [DM, prompts[0]!.message],
      ]),
    );
  });

  it("an assistant thread is titled from the person's first message there, without mentions or secrets, once", async () => {
    const DM = 'DALICE';
    const thread = '1700004000.000100';
    const say = (text: string, ts: string, eventId: string) =>
      signer.post(
        url,
        signer.event(
          { type: 'message', channel_type: 'im', user: 'UALICE', text, ts, thread_ts: thread, channel: DM },
          { teamId: TEAM, eventId },
        ),
      );
    // Answers in the DM so far (the thread before this one was answered there too).
    const stops = () => slack.callsTo('chat.stopStream').filter((c) => c.body['channel'] === DM).length;
    const before = stops();
    const first =
      '<@UBOB> <!here> my token xoxb-1234567890-abcdefghijkl fails, see <https://ci.example.com/run?sig=zz9> ' +
      'and <https://docs.example.com/a?key=abc|the doc>; why does it keep failing for the release?';
    expect((await say(first, '1700004001.000100', 'Ev-title-1')).status).toBe(200);
    const titled = await slack.waitFor('assistant.threads.setTitle', (c) => c.body['thread_ts'] === thread);
    expect(titled.body['channel_id']).toBe(DM);
    // Mentions gone, the token hidden, links by host or label only (no query string), cut at a word within 60 characters.
    expect(titled.body['title']).toBe('my token [hidden] fails, see ci.example.com and the doc…');
    await vi.waitFor(() => expect(stops()).toBe(before + 1), { timeout: 20_000 });

    // A second message in the same thread answers as usual and leaves the title alone.
    expect((await say('and echo hello', '1700004002.000100', 'Ev-title-2')).status).toBe(200);
    await vi.waitFor(() => expect(stops()).toBe(before + 2), { timeout: 20_000 });
    const titles = slack.callsTo('assistant.threads.setTitle').filter((c) => c.body['thread_ts'] === thread);
    expect(titles.map((c) => c.body['title'])).toEqual([titled.body['title']]);
  });
});
