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
 * caller's own grant), then answers with what the tool said, plus characters each platform treats
 * specially: `&`, `<`, `>` (Slack's mrkdwn control characters), a Slack broadcast (`<!here>`), a
 * Discord one (`@everyone`) and markdown emphasis.
 */
function model(req: LlmRequest): LlmReply {
  const results = toolResults(req);
  if (!results.length) return { toolCalls: [{ name: 'web__echo', args: { text: 'ship it' } }] };
  return {
    text: `Here is what the tool said, run with your own account:\n${results[0]}\nNote: 2 < 3 & 4 > 1, <!here> and @everyone stay plain text, *as written*.`,
  };
}

/** The answer as the model wrote it, before any platform saw it (the tool result it quotes as the runner words it). */
const MODEL_ANSWER =
  'Here is what the tool said, run with your own account:\n`web.echo`:\n{"text":"ship it"}\n' +
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

  /** Each world's MCP server saw one echo, carrying that caller's own grant. */
  const ranOnceWithGrant = (mcp: TestMcpHttpServer) => {
    const calls = mcp.calls.filter((c) => c.tool === 'echo');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args).toEqual({ text: 'ship it' });
    expect(calls[0]!.seen['authorization']).toMatch(/^Bearer \S+/);
  };

  it('a Slack mention and a Discord mention with the same model and tool call show the same final text', async () => {
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

    // Discord: Alice mentions the bot in a channel; the status message is edited into the answer.
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
