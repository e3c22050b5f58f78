import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordOutbound, DiscordSendError } from '../../../src/platforms/discord/index.js';
import { Secret } from '../../../src/crypto/index.js';
import { FakeDiscord } from '../../support/discord-fake.js';

const BOT_TOKEN = 'MTEx.outbound-canary.' + 'x'.repeat(20);

describe('Discord outbound from a process without a gateway', () => {
  let fake: FakeDiscord;
  let out: DiscordOutbound;
  const target = (over: Record<string, unknown> = {}) => ({
    platform: 'discord' as const,
    workspaceId: 'g1',
    channelId: '111',
    userId: '222',
    isDirect: false,
    ...over,
  });

  beforeAll(async () => {
    fake = await FakeDiscord.start();
    out = new DiscordOutbound({ token: new Secret(BOT_TOKEN), applicationId: fake.applicationId, apiUrl: fake.apiUrl });
  });
  afterAll(async () => fake?.stop());

  it('a private message inside the interaction window is an ephemeral follow-up with a link button', async () => {
    const t = target({ interaction: { id: '5', token: 'itok-live', expiresAt: Date.now() + 10 * 60_000 } });
    await out.replyPrivately(t, {
      text: 'Connect GitHub',
      link: { label: 'Connect github', url: 'http://127.0.0.1:1/oauth/start?t=abc' },
    });
    const call = await fake.waitForCall((c) => c.path === `/webhooks/${fake.applicationId}/itok-live`);
    expect(call.query).toContain('wait=true');
    expect(call.authorization).toBeUndefined();
    expect(call.body).toMatchObject({
      content: 'Connect GitHub',
      flags: 64,
      components: [
        {
          type: 1,
          components: [{ type: 2, style: 5, label: 'Connect github', url: 'http://127.0.0.1:1/oauth/start?t=abc' }],
        },
      ],
    });
  });

  it('after the 15-minute token expires, replies go to the channel (or thread) and private ones to a DM', async () => {
    const t = target({ threadId: '333', interaction: { id: '5', token: 'itok-old', expiresAt: Date.now() - 1 } });
    await out.reply(t, { text: 'late result' });
    await fake.waitForCall((c) => c.path === '/channels/333/messages' && c.raw.includes('late result'));
    await out.replyPrivately(t, { text: 'late private' });
    const dm = fake.dmChannelOf('222');
    await fake.waitForCall((c) => c.path === `/channels/${dm}/messages` && c.raw.includes('late private'));
    expect(fake.containing('itok-old')).toEqual([]);
  });

  it('a reply after the 15-minute window is addressed to its caller: a mention that may ping that user only', async () => {
    const t = target({
      channelId: '1414',
      userId: '1515',
      interaction: { id: '5', token: 'itok-late', expiresAt: Date.now() - 1 },
    });
    await out.reply(t, { text: 'late answer, cc @everyone <@9999>' });
    const post = await fake.waitForCall((c) => c.path === '/channels/1414/messages');
    expect(post.body).toMatchObject({
      content: '<@1515> late answer, cc @everyone <@9999>',
      allowed_mentions: { parse: [], users: ['1515'] },
    });
    // A status message is not an answer: it pings nobody.
    await out.placeholder(t, { text: 'Running…' });
    const status = await fake.waitForCall((c) => c.path === '/channels/1414/messages' && c.raw.includes('Running'));
    expect(status.body).toMatchObject({ content: 'Running…', allowed_mentions: { parse: [] } });
    // Inside the window nothing changes: the interaction shows whose command it answers.
    await out.reply(target({ interaction: { token: 'itok-fresh', expiresAt: Date.now() + 60_000 } }), {
      text: 'on time',
    });
    const onTime = await fake.waitForCall((c) => c.path === `/webhooks/${fake.applicationId}/itok-fresh`);
    expect(onTime.body).toMatchObject({ content: 'on time', allowed_mentions: { parse: [] } });
  });

  it('an answer that replaces a status message after the window names its caller and pings them with a reply', async () => {
    const t = target({
      channelId: '1616',
      userId: '1717',
      interaction: { token: 'itok-slow', expiresAt: Date.now() - 1 },
    });
    await out.update(t, '1818', { text: 'slow tool finished' });
    const edit = await fake.waitForCall((c) => c.method === 'PATCH' && c.path === '/channels/1616/messages/1818');
    expect(edit.body).toMatchObject({
      content: '<@1717> slow tool finished',
      allowed_mentions: { parse: [], users: ['1717'] },
    });
    const ping = await fake.waitForCall((c) => c.method === 'POST' && c.path === '/channels/1616/messages');
    expect(ping.body).toMatchObject({
      content: expect.stringMatching(/^<@1717> /),
      allowed_mentions: { parse: [], users: ['1717'] },
      message_reference: { message_id: '1818' },
    });
    // A message that never came from an interaction is edited as before, with no ping.
    await out.update(target({ channelId: '1919' }), '2020', { text: 'quiet edit' });
    await fake.waitForCall((c) => c.method === 'PATCH' && c.path === '/channels/1919/messages/2020');
    expect(fake.calls.filter((c) => c.method === 'POST' && c.path === '/channels/1919/messages')).toEqual([]);
  });

  it('a reply longer than 2,000 characters is split into several messages', async () => {
    const text = Array.from({ length: 120 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n');
    await out.reply(target({ channelId: '444' }), { text, link: { label: 'Open', url: 'https://example.com' } });
    const posts = fake.calls.filter((c) => c.path === '/channels/444/messages');
    expect(posts.length).toBe(Math.ceil(text.length / 2000));
    const contents = posts.map((p) => (p.body as { content: string }).content);
    expect(contents.every((c) => c.length <= 2000)).toBe(true);
    expect(contents.join('\n')).toBe(text);
    expect(posts.map((p) => Boolean((p.body as { components?: unknown }).components))).toEqual(
      posts.map((_, i) => i === posts.length - 1),
    );
  });

  it('a 429 is waited out and the message is still delivered', async () => {
    fake.rateLimit((c) => c.path === '/channels/555/messages', { times: 1, retryAfterSec: 0.6 });
    const started = Date.now();
    await out.reply(target({ channelId: '555' }), { text: 'after the rate limit' });
    const calls = fake.calls.filter((c) => c.path === '/channels/555/messages');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(550);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });

  it('an update edits the earlier message (through the interaction while valid)', async () => {
    await out.update(target({ channelId: '666' }), '777', { text: 'done: 3 issues' });
    await fake.waitForCall(
      (c) => c.method === 'PATCH' && c.path === '/channels/666/messages/777' && c.raw.includes('done: 3 issues'),
    );
    await out.update(target({ interaction: { token: 'itok-up', expiresAt: Date.now() + 60_000 } }), '888', {
      text: 'edited',
    });
    await fake.waitForCall(
      (c) => c.method === 'PATCH' && c.path === `/webhooks/${fake.applicationId}/itok-up/messages/888`,
    );
  });

  it('a direct message opens a DM channel once and posts there', async () => {
    await out.direct('g1', '999', { text: 'first' });
    await out.direct('g1', '999', { text: 'second' });
    expect(fake.calls.filter((c) => c.path === '/users/@me/channels' && c.raw.includes('"999"')).length).toBe(1);
    expect(fake.calls.filter((c) => c.path === `/channels/${fake.dmChannelOf('999')}/messages`).length).toBe(2);
  });

  it('when Discord rejects the interaction token before our clock says so, the reply falls back to the channel and a private one to a DM', async () => {
    fake.expireInteraction('itok-revoked');
    const t = target({
      channelId: '1212',
      userId: '1313',
      interaction: { token: 'itok-revoked', expiresAt: Date.now() + 10 * 60_000 },
    });
    await out.reply(t, { text: 'public fallback' });
    await fake.waitForCall((c) => c.path === '/channels/1212/messages' && c.raw.includes('public fallback'));
    await out.replyPrivately(t, { text: 'private fallback' });
    const dm = await fake.waitForCall(
      (c) => c.path === `/channels/${fake.dmChannelOf('1313')}/messages` && c.raw.includes('private fallback'),
    );
    expect(dm.body).not.toHaveProperty('flags');
    await out.update(t, '4242', { text: 'edited fallback' });
    await fake.waitForCall((c) => c.path === '/channels/1212/messages' && c.raw.includes('edited fallback'));
  });

  it('a refused send throws a DiscordSendError naming status and code, without the token or URL', async () => {
    fake.expireInteraction('itok-secret-handle');
    const err = await out
      .update(
        target({ channelId: 'nope', interaction: { token: 'itok-secret-handle', expiresAt: Date.now() + 60_000 } }),
        '1',
        { text: 'x' },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordSendError);
    expect((err as Error).message).toMatch(/status 404/);
    expect((err as Error).message).not.toContain('itok-secret-handle');
    expect((err as Error).message).not.toContain('http');
  });
});
