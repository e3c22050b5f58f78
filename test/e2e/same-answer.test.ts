import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { snowflake, type FakeUser, type RecordedCall } from '../support/discord-fake.js';
import { discordPeopleWorld } from '../support/discord-world.js';
import { toolResults, type LlmReply, type LlmRequest } from '../support/llm-server.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';
import { SlackSigner } from '../support/slack-signing.js';
import { world, type World } from '../support/world.js';

const SIGNING = 'same-answer-signing-3e9f1a';
const CHANNEL = 'CSUPPORT';
const LOGIN = 'alice-at-vendor';
const ASKED = 'echo "ship it" for me';

/**
 * The one script both platforms' turns run: the model calls `web.echo` (a server that sends the
 * caller's own grant), then `web.slow` (long enough for Discord's status message to be edited while
 * it runs), then answers with what both tools said, plus characters each platform treats
 * specially: `&`, `<`, `>` (Slack's mrkdwn control characters), a Slack broadcast (`<!here>`), a
 * Discord one (`@everyone`) and markdown emphasis.
 */
function model(req: LlmRequest): LlmReply {
  const results = toolResults(req);
  if (!results.length) return { toolCalls: [{ name: 'web__echo', args: { text: 'ship it' } }] };
  if (results.length === 1) return { toolCalls: [{ name: 'web__slow', args: { ms: SLOW_MS } }] };
  return {
    text: `Here is what the tools said, run with your own account:\n${results[0]}\n${results[1]}\nNote: 2 < 3 & 4 > 1, <!here> and @everyone stay plain text, *as written*.`,
  };
}

/** How long `web.slow` runs: past two of Discord's once-a-second edits. */
const SLOW_MS = 2200;

/** The answer as the model wrote it, before any platform saw it (the tool results it quotes as the runner words them). */
const MODEL_ANSWER =
  'Here is what the tools said, run with your own account:\n`web.echo`:\n{"text":"ship it"}\n' +
  `\`web.slow\`:\nwaited ${SLOW_MS} ms\n` +
  'Note: 2 < 3 & 4 > 1, <!here> and @everyone stay plain text, *as written*.';

/**
 * Slack's formatting rule: in message text `&`, `<` and `>` are control characters (`<!here>`
 * would notify the channel, `<@U…>` mention someone), so onbehalf sends them as the entities
 * `&amp;`, `&lt;`, `&gt;`, which Slack shows as the characters themselves. Undoing exactly those
 * three gives what a person reads in Slack.
 */
const slackShows = (sent: string) => sent.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/**
 * Discord's rules: content is shown as sent (its markdown is the same text); what would notify is
 * governed by `allowed_mentions`, which for an answer in the conversation lists nobody, so
 * `@everyone` in the text pings no one. A reply in time (not after the 15-minute window of an
 * interaction) carries no leading mention of its caller.
 */
const discordShows = (c: RecordedCall) => (c.body as { content: string }).content;

describe('the same turn on Slack and on Discord ends in the same answer', () => {
  let slack: SlackApi;
  let sw: World;
  let d: Awaited<ReturnType<typeof discordPeopleWorld>>;
  const alice: FakeUser = { id: snowflake(), username: 'alice' };
  const signer = new SlackSigner(SIGNING);

  beforeAll(async () => {
    slack = await startSlackApi();
    sw = await world({
      platform: 'slack',
      users: ['UALICE'],
      displayNames: { UALICE: 'alice' },
      provider: 'vendor',
      servers: [{ name: 'web', grant: true }],
      llm: model,
      env: { SLACK_SIGNING_SECRET: SIGNING, SLACK_BOT_TOKEN: 'xoxb-same-answer', SLACK_API_URL: slack.url },
    });
    await sw.connect('UALICE', { login: LOGIN });
    d = await discordPeopleWorld({
      users: [alice],
      provider: 'vendor',
      servers: [{ name: 'web', grant: true }],
      llm: model,
    });
    await d.w.connect(alice.id, { login: LOGIN });
  });
  afterAll(async () => {
    await sw?.stop();
    await slack?.stop();
    await d?.stop();
  });

  /** Alice mentions the bot at the top of the Slack channel, asking `ASKED`; resolves with the thread it opens. */
  const slackMention = async (ts: string, eventId: string) => {
    const res = await signer.post(
      `${sw.t.baseUrl}/slack/events`,
      signer.event(
        { type: 'app_mention', user: 'UALICE', text: `<@UBOT> ${ASKED}`, ts, channel: CHANNEL },
        { teamId: 'T1', eventId },
      ),
    );
    expect(res.status).toBe(200);
    return ts;
  };

  /** Each world's MCP server saw one echo and one slow call, each carrying that caller's own grant. */
  const ranOnceWithGrant = (mcp: TestMcpHttpServer) => {
    expect(mcp.calls.map((c) => c.tool).filter((t) => t === 'echo' || t === 'slow')).toEqual(['echo', 'slow']);
    const [echo, slow] = [mcp.calls.find((c) => c.tool === 'echo')!, mcp.calls.find((c) => c.tool === 'slow')!];
    expect(echo.args).toEqual({ text: 'ship it' });
    expect(slow.args).toMatchObject({ ms: SLOW_MS });
    for (const c of [echo, slow]) expect(c.seen['authorization']).toMatch(/^Bearer \S+/);
  };

  it('a Slack mention and a Discord mention with the same model and two tool calls show the same final text', async () => {
    // Slack: Alice mentions the bot in a channel; the answer is streamed into the thread.
    const ts = await slackMention('1700009000.000100', 'Ev-same-1');
    await slack.waitFor('chat.stopStream', (c) => c.body['ts'] !== undefined, 20_000);
    const slackAnswer = await vi.waitFor(
      () => {
        const parts = slack.visible(CHANNEL).filter((m) => m.thread_ts === ts && !m.streaming);
        expect(parts).toHaveLength(1);
        return parts[0]!.text;
      },
      { timeout: 5000 },
    );

    // Discord: Alice mentions the bot in a channel; a message cannot be deferred, so a status message
    // is posted at once and edited into the answer.
    const { fake, guildId, channelId } = d;
    fake.message(alice, { guildId, channelId }, ASKED);
    const last = await fake.waitForCall((c) => c.method === 'PATCH' && c.raw.includes('stay plain text'), 20_000);
    expect((last.body as { allowed_mentions: unknown }).allowed_mentions).toEqual({ parse: [] });

    // What each person reads, after the platform's own rule named above, is the model's answer exactly.
    expect(slackShows(slackAnswer)).toBe(MODEL_ANSWER);
    expect(discordShows(last)).toBe(MODEL_ANSWER);
    // And Slack was sent the entities, never a live `<!here>`.
    expect(slackAnswer).toContain('&lt;!here&gt;');
    expect(slackAnswer).not.toContain('<!here>');
    ranOnceWithGrant(sw.mcp);
    ranOnceWithGrant(d.w.mcp);

    // Discord's edits, by the fake's clock: all of the one status message, the first at least a
    // second after it was posted and each at least a second after the one before (990 ms: the
    // fake stamps on arrival), progress shown while the slow tool ran, the answer last.
    const posts = fake.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${channelId}/messages`);
    expect(posts).toHaveLength(1);
    const edits = fake.calls.filter(
      (c) => c.method === 'PATCH' && c.path.startsWith(`/channels/${channelId}/messages/`),
    );
    expect(new Set(edits.map((c) => c.path)).size).toBe(1);
    expect(edits.length).toBeGreaterThan(1);
    const times = [posts[0]!.at, ...edits.map((c) => c.at)];
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, `edit ${i}`).toBeGreaterThanOrEqual(990);
    expect(edits.slice(0, -1).some((c) => discordShows(c).includes('web.slow'))).toBe(true);
    expect(edits.at(-1)).toBe(last);
  });

  it('where Slack refuses streaming, the posted-and-edited answer reads the same as well', async () => {
    slack.refuse('chat.startStream', 'not_allowed');
    const ts = await slackMention('1700009001.000100', 'Ev-same-2');
    await vi.waitFor(
      () => {
        const shown = slack.visible(CHANNEL).filter((m) => m.thread_ts === ts);
        expect(shown.map((m) => slackShows(m.text))).toEqual([MODEL_ANSWER]);
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(slack.callsTo('chat.startStream').filter((c) => c.body['thread_ts'] === ts)).toHaveLength(1);
    slack.refuse('chat.startStream', undefined);
  });
});
