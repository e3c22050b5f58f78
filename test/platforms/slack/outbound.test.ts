import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ReplyTarget } from '../../../src/chat/types.js';
import { SLACK_LIMITS } from '../../../src/platforms/slack/index.js';
import { BOT_TOKEN, startSlackBed, type SlackBed } from './harness.js';

let h: SlackBed;
beforeAll(async () => {
  h = await startSlackBed();
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(() => {
  h.slack.calls.length = 0;
});

const target: ReplyTarget = {
  platform: 'slack',
  workspaceId: 'T1',
  channelId: 'CGENERAL',
  threadId: '1700000000.000100',
  userId: 'UALICE',
  isDirect: false,
};
type Block = { type: string; text?: { text: string } };
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('Slack outbound (Web API only, usable from a worker)', () => {
  it('replies in the thread as the bot, escaping Slack control characters', async () => {
    const r = await h.platform.outbound.reply(target, { text: 'result: <!channel> & <@U1>' });
    const call = h.slack.callsTo('chat.postMessage')[0]!;
    expect(r.messageId).toMatch(/^\d+\.\d+$/);
    expect(call.token).toBe(BOT_TOKEN);
    expect(call.body).toMatchObject({
      channel: 'CGENERAL',
      thread_ts: target.threadId,
      text: 'result: &lt;!channel&gt; &amp; &lt;@U1&gt;',
    });
  });

  it('splits a 100,000-character answer into messages within Slack limits without losing a character', async () => {
    const text = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x<&'.repeat(15)}`)
      .join('\n')
      .slice(0, 100_000);
    await h.platform.outbound.reply(target, { text, link: { label: 'Open', url: 'http://127.0.0.1:1/x' } });
    const posts = h.slack.callsTo('chat.postMessage');
    expect(posts.length).toBeGreaterThan(1);
    let rebuilt = '';
    for (const p of posts) {
      const blocks = p.body['blocks'] as Block[];
      expect(String(p.body['text']).length).toBeLessThanOrEqual(SLACK_LIMITS.messageText);
      expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
      for (const b of blocks.filter((x) => x.type === 'section')) {
        expect(b.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
        rebuilt += unescape(b.text!.text);
      }
    }
    expect(rebuilt).toBe(text);
    expect((posts.at(-1)!.body['blocks'] as Block[]).at(-1)!.type).toBe('actions');
  });

  it('waits out a 429 Retry-After and delivers, instead of dropping the message', async () => {
    h.slack.rateLimit('chat.postMessage', 1);
    const t0 = Date.now();
    await h.platform.outbound.reply(target, { text: 'after the rate limit' });
    const posts = h.slack.callsTo('chat.postMessage');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  }, 15_000);

  it('updates an earlier message in place', async () => {
    await h.platform.outbound.update(target, '1700000009.000100', { text: 'done: 3 issues' });
    expect(h.slack.callsTo('chat.update')[0]!.body).toMatchObject({
      channel: 'CGENERAL',
      ts: '1700000009.000100',
      text: 'done: 3 issues',
    });
  });

  it('sends a direct message through conversations.open', async () => {
    await h.platform.outbound.direct('T1', 'UBOB', { text: 'hi Bob' });
    expect(h.slack.callsTo('conversations.open')[0]!.body).toMatchObject({ users: 'UBOB' });
    expect(h.slack.callsTo('chat.postMessage')[0]!.body).toMatchObject({ channel: 'DUBOB', text: 'hi Bob' });
  });

  it("a failed call throws a SlackSendError naming the method and Slack's error, never the token", async () => {
    const err = await h.platform.outbound
      .openSecretForm(target, { formId: 'f', title: 't', fields: [] }, undefined)
      .catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'slack_send_failed', message: 'Slack refused views.open (no_trigger_id)' });
    const bad = await h.platform.outbound.call('T1', 'no.such.method', {}).catch((e: Error) => e);
    expect(bad).toMatchObject({ code: 'slack_send_failed', slackError: 'unknown_method' });
    expect(String((bad as Error).message)).not.toContain(BOT_TOKEN);
  });
});
