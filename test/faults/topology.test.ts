import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { authorizeInBrowser } from '../support/oauth-server.js';
import type { SlackApiCall } from '../support/slack-api.js';
import { CHANNEL, topology, type Topology } from './topology.js';

type Button = { action_id: string; value?: string; url?: string };
const buttonsOf = (c: SlackApiCall) =>
  ((c.body['blocks'] ?? []) as { elements?: Button[] }[]).flatMap((b) => b.elements ?? []);
const textOf = (c: SlackApiCall) => String(c.body['text'] ?? '');

describe('2 serve + 2 worker processes, each with its own data directory, sharing only Postgres and Redis', () => {
  let t: Topology;

  beforeAll(async () => {
    t = await topology();
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  }, 60_000);

  const privately = (user: string, where: (text: string) => boolean) =>
    t.slack.waitFor('chat.postEphemeral', (c) => c.body['user'] === user && where(textOf(c)), 30_000);
  /** The finished messages in the channel (Slack's view: as last edited). */
  const finished = () => t.slack.visible(CHANNEL).filter((m) => !m.streaming);
  const inThread = (thread: string, where: (text: string) => boolean) =>
    vi.waitFor(
      () => {
        const m = finished().find((x) => x.thread_ts === thread && where(x.text));
        if (!m) throw new Error('no such answer in the thread yet');
        return m;
      },
      { timeout: 30_000, interval: 50 },
    );

  it("alice's call parks on replica a (no grant); her OAuth callback lands on replica b; the call runs and answers in her thread", async () => {
    const m = t.mention('UALICE', 'call web.echo {"text":"alice-parked-on-a"}');
    expect((await t.deliver('a', m)).status).toBe(200);
    const prompt = await privately('UALICE', (x) => x.includes('github'));
    const link = buttonsOf(prompt).find((b) => b.url?.includes('/oauth/start'))!.url!;
    expect(new URL(link).origin).toBe(t.lb.url);
    // The start page on a; everything after it (Continue, the provider's redirect, the chat click) on b.
    t.lb.route = ({ method, path }) => (path === '/oauth/start' && method === 'GET' ? 'a' : 'b');
    t.oauth.login = 'alice-at-vendor';
    const step = await authorizeInBrowser(link);
    if (!('callbackUrl' in step)) throw new Error(`start failed: ${step.status} ${step.body}`);
    expect((await step.browser.fetch(step.callbackUrl)).status).toBe(200);
    expect(t.lb.servedBy('/oauth/start', 'GET')).toBe('a');
    expect(t.lb.servedBy('/oauth/callback')).toBe('b');
    // A vendor account new to alice from an unproven browser: she confirms it in chat, on b too.
    const ask = await privately('UALICE', (x) => x.includes('alice-at-vendor') && x.includes('confirm'));
    const yes = buttonsOf(ask).find((b) => b.value?.startsWith('connect confirm'))!;
    expect((await t.click('b', 'UALICE', yes)).status).toBe(200);
    const answer = await inThread(m.ts, (x) => x.includes('The tool said:') && !x.includes('Waiting'));
    expect(answer.text).toContain('alice-parked-on-a');
    expect(t.mcp.calls.filter((c) => c.tool === 'echo' && c.args['text'] === 'alice-parked-on-a')).toHaveLength(1);
    expect(
      finished().filter((x) => x.text.includes('alice-parked-on-a') && x.text.includes('The tool said:')),
    ).toHaveLength(1);
  }, 60_000);
});
