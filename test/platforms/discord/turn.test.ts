import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snowflake, type FakeUser, type RecordedCall } from '../../support/discord-fake.js';
import { discordPeopleWorld } from '../../support/discord-world.js';
import { toolResults } from '../../support/llm-server.js';

const ANSWER = 'Both tools ran: the slow one waited and the echo said hi.';
const content = (c: RecordedCall) => (c.body as { content: string }).content;

describe('Discord shows an agent turn as it happens', () => {
  const alice: FakeUser = { id: snowflake(), username: 'alice' };
  let d: Awaited<ReturnType<typeof discordPeopleWorld>>;

  beforeAll(async () => {
    d = await discordPeopleWorld({
      users: [alice],
      servers: [{ name: 'web' }],
      // Two tool calls, the first one slow enough for several progress updates, then the answer.
      llm: (req) => {
        const done = toolResults(req).length;
        if (done === 0) return { toolCalls: [{ name: 'web__slow', args: { ms: 2500 } }] };
        if (done === 1) return { toolCalls: [{ name: 'web__echo', args: { text: 'hi' } }] };
        return { text: ANSWER };
      },
    });
  });
  afterAll(async () => d?.stop());

  it('one message at once, edited at most once a second with a line per tool call, ending as the answer', async () => {
    const { fake, guildId, channelId } = d;
    const asked = Date.now();
    const { id: question } = fake.message(alice, { guildId, channelId }, 'run the slow one and then echo hi');
    const edits = () =>
      fake.calls.filter((c) => c.method === 'PATCH' && c.path.startsWith(`/channels/${channelId}/messages/`));
    await fake.waitForCall((c) => c.method === 'PATCH' && c.raw.includes('Both tools ran'), 20_000);
    const posts = fake.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${channelId}/messages`);
    // The status message, replying to the question, within a second; nothing else is posted.
    expect(posts).toHaveLength(1);
    expect(posts[0]!.at - asked).toBeLessThan(1000);
    expect(posts[0]!.body).toMatchObject({ message_reference: { message_id: question } });
    const all = edits();
    // Every edit is of that one message, at least a second after the one before (or the post).
    expect(new Set(all.map((c) => c.path)).size).toBe(1);
    const times = [posts[0]!.at, ...all.map((c) => c.at)];
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, `edit ${i}`).toBeGreaterThanOrEqual(990);
    // While the slow tool ran, the message named it; the last edit is the answer alone.
    expect(all.slice(0, -1).some((c) => content(c).includes('web.slow'))).toBe(true);
    expect(content(all.at(-1)!)).toBe(ANSWER);
  });
});
