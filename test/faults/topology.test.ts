import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { snowflake } from '../support/discord-fake.js';
import { authorizeInBrowser } from '../support/oauth-server.js';
import { ownerOfPort } from '../support/socket-owner.js';
import { queuesIdle } from '../support/queues.js';
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
  /** The outcome messages (not placeholders) in `channel`. */
  const outcomesIn = (channel: string) =>
    t.slack
      .visible(channel)
      .filter((m) => /^`web\.\w+`( reported an error)?:|^`web\.\w+` was interrupted/.test(m.text));

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

  /** Posts `lines` as signed slash commands, `width` at a time; each answered by its ack. */
  const sendAll = async (lines: { to: 'a' | 'b'; user: string; line: string; channel?: string }[], width = 12) => {
    const acks: { status: number; text: string }[] = new Array(lines.length);
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < lines.length; i = next++) {
        const { to, user, line, channel } = lines[i]!;
        acks[i] = await t.command(to, user, line, channel);
      }
    };
    await Promise.all(Array.from({ length: width }, lane));
    return acks;
  };
  /** How many finished channel messages carry the answer holding `marker`. */
  const answersWith = (marker: string) => finished().filter((x) => x.text.includes(marker)).length;
  /** Who the provider says a bearer credential belongs to. */
  const loginOf = async (authorization: string) =>
    ((await (await fetch(`${t.oauth.issuer}/user`, { headers: { authorization } })).json()) as { login?: string })
      .login;

  it('alice and bob, 1,000 interleaved calls over both replicas: every call answered exactly once, 0 token crossings', async () => {
    const who = { UALICE: 'alice', UBOB: 'bob' } as const;
    const lines = Array.from({ length: 1000 }, (_, i) => {
      const user = i % 2 ? 'UBOB' : 'UALICE';
      return { to: (i % 4 < 2 ? 'a' : 'b') as 'a' | 'b', user, marker: `[${who[user]}-${i}]` };
    });
    const started = Date.now();
    const acks = await sendAll(lines.map((l) => ({ ...l, line: `run web.echo {"text":"${l.marker}"}` })));
    expect(acks.filter((a) => a.status !== 200)).toEqual([]);
    await vi.waitFor(
      () => {
        const missing = lines.filter((l) => answersWith(l.marker) === 0).length;
        if (missing) throw new Error(`${missing} calls not answered yet`);
      },
      // Whatever the sending left of the test's 300 s, so a timeout says how many are unanswered.
      { timeout: Math.max(10_000, 280_000 - (Date.now() - started)), interval: 500 },
    );
    await queuesIdle(t.redis.url, 10_000);
    expect(lines.filter((l) => answersWith(l.marker) !== 1).map((l) => l.marker)).toEqual([]);
    // At the MCP server: each call once, carrying the credential of the person whose call it was.
    const seen = new Map<string, string[]>();
    for (const c of t.mcp.calls.filter((x) => x.tool === 'echo')) {
      const marker = String(c.args['text']);
      seen.set(marker, [...(seen.get(marker) ?? []), c.seen['authorization'] ?? '']);
    }
    expect(lines.filter((l) => seen.get(l.marker)?.length !== 1).map((l) => l.marker)).toEqual([]);
    const owner = new Map<string, string | undefined>();
    for (const auth of new Set([...seen.values()].flat())) owner.set(auth, await loginOf(auth));
    const crossings = lines.filter(
      (l) => owner.get(seen.get(l.marker)![0]!) !== `${who[l.user as keyof typeof who]}-at-vendor`,
    );
    expect(crossings.map((l) => l.marker)).toEqual([]);
  }, 300_000);

  it('the same signed Slack event delivered to replica a, then retried to replica b: one job, one answer', async () => {
    const m = t.mention('UBOB', 'call web.echo {"text":"delivered-twice"}');
    expect((await t.deliver('a', m)).status).toBe(200);
    expect((await t.deliver('b', m, { retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
    await inThread(m.ts, (x) => x.includes('The tool said:') && x.includes('delivered-twice'));
    // A later event is answered too: the retry was seen and dropped, not queued behind it.
    const later = t.mention('UBOB', 'call web.echo {"text":"after-the-retry"}');
    expect((await t.deliver('b', later)).status).toBe(200);
    await inThread(later.ts, (x) => x.includes('The tool said:') && x.includes('after-the-retry'));
    await queuesIdle(t.redis.url, 10_000);
    expect(finished().filter((x) => x.thread_ts === m.ts && x.text.includes('The tool said:'))).toHaveLength(1);
    expect(t.mcp.calls.filter((c) => c.tool === 'echo' && c.args['text'] === 'delivered-twice')).toHaveLength(1);
  }, 60_000);

  it("300 concurrent calls on alice's expired token, over all 4 processes: exactly 1 refresh at the provider, no refresh token reused", async () => {
    const before = new Set(t.mcp.calls.map((c) => c.seen['authorization']));
    const refreshesBefore = t.oauth.refreshRequests().length;
    // The MCP server names the process behind each call by its connection.
    const pids = t.pids();
    t.mcp.callerOf = (port, serverPort) => ownerOfPort(port, serverPort, pids);
    // Her access token expired (as time would have it): the next call anywhere must refresh it.
    const sql = postgres(t.pg.url, { max: 1, onnotice: () => undefined });
    try {
      const expired = await sql`update connected_accounts set expires_at = ${Date.now() - 60_000}
        where user_id = (select user_id from linked_accounts where platform_user_id = 'UALICE') returning id`;
      expect(expired).toHaveLength(1);
    } finally {
      await sql.end();
    }
    const lines = Array.from({ length: 300 }, (_, i) => ({
      to: (i % 2 ? 'a' : 'b') as 'a' | 'b',
      user: 'UALICE',
      marker: `[expired-${i}]`,
      channel: `CEXP${i}`,
    }));
    const acks = await sendAll(
      lines.map((l) => ({ ...l, line: `run web.echo {"text":"${l.marker}"}` })),
      30,
    );
    expect(acks.filter((a) => a.status !== 200)).toEqual([]);
    await vi.waitFor(
      () => {
        const missing = lines.filter((l) => outcomesIn(l.channel).length === 0).length;
        if (missing) throw new Error(`${missing} calls not answered yet`);
      },
      { timeout: 90_000, interval: 200 },
    );
    await queuesIdle(t.redis.url, 10_000);
    // Each answered once, with the tool's result.
    const wrong = lines.filter((l) => {
      const answers = outcomesIn(l.channel);
      return answers.length !== 1 || !answers[0]!.text.includes(l.marker);
    });
    expect(wrong.map((l) => `${l.channel}: ${outcomesIn(l.channel).map((m) => m.text)}`)).toEqual([]);
    const refreshes = t.oauth.refreshRequests().slice(refreshesBefore);
    expect(refreshes).toHaveLength(1);
    const used = t.oauth.refreshRequests().map((r) => r.body['refresh_token']);
    expect(new Set(used).size).toBe(used.length);
    // Every call carried one fresh token of hers, none the expired one.
    const carried = new Set(
      t.mcp.calls
        .filter((c) => lines.some((l) => l.marker === c.args['text']))
        .map((c) => c.seen['authorization'] ?? ''),
    );
    expect(carried.size).toBe(1);
    const [fresh] = carried;
    expect(before.has(fresh)).toBe(false);
    expect(await loginOf(fresh!)).toBe('alice-at-vendor');
    const ranOn = new Set(
      t.mcp.arrivals.filter((c) => lines.some((l) => l.marker === c.args['text'])).map((c) => c.from),
    );
    expect([...ranOn].sort()).toEqual([...pids].sort());
  }, 120_000);

  it('a worker process SIGKILLed mid-load, while it surely runs a call: every call answered once, create_note never re-run', async () => {
    const pids = t.pids();
    t.mcp.callerOf = (port, serverPort) => ownerOfPort(port, serverPort, pids);
    const victim = t.workers[0]!;
    const from = t.mcp.arrivals.length;
    const calls = Array.from({ length: 48 }, (_, i) => {
      const tool = i % 4 === 3 ? 'create_note' : 'read_notes';
      const args = tool === 'create_note' ? `{"text":"kill-note-${i}","delayMs":2000}` : '{"delayMs":2000}';
      const user = i % 2 ? 'UALICE' : 'UBOB';
      return {
        to: (i % 4 < 2 ? 'a' : 'b') as 'a' | 'b',
        user,
        tool,
        line: `run web.${tool} ${args}`,
        channel: `CKILL${i}`,
      };
    });
    const sending = sendAll(calls);
    // Killed only while the MCP server is still answering a read_notes call that came from the victim.
    const inFlightOnVictim = () =>
      t.mcp.arrivals.slice(from).some((a) => a.from === victim.child.pid && a.tool === 'read_notes' && !a.answered);
    await vi.waitFor(
      () => {
        if (!inFlightOnVictim()) throw new Error('no read_notes call in flight on the victim yet');
      },
      { timeout: 60_000, interval: 20 },
    );
    victim.child.kill('SIGKILL');
    await victim.exited;
    expect((await sending).filter((a) => a.status !== 200)).toEqual([]);
    await vi.waitFor(
      () => {
        const missing = calls.filter((c) => outcomesIn(c.channel).length === 0).length;
        if (missing) throw new Error(`${missing} calls not answered yet`);
      },
      { timeout: 60_000, interval: 100 },
    );
    await queuesIdle(t.redis.url, 10_000);
    for (const c of calls) {
      const answers = outcomesIn(c.channel);
      expect(answers, c.channel).toHaveLength(1);
      if (c.tool === 'read_notes') expect(answers[0]!.text).toMatch(/^`web\.read_notes`:/);
      else expect(answers[0]!.text).toMatch(/^`web\.create_note`:|was interrupted .* may have run on web/);
    }
    const arrived = t.mcp.arrivals.slice(from);
    // Each note was created at most once, and exactly once where the answer says it was.
    for (const [i, c] of calls.entries()) {
      if (c.tool !== 'create_note') continue;
      const runs = arrived.filter((a) => a.tool === 'create_note' && a.args['text'] === `kill-note-${i}`).length;
      if (/was interrupted/.test(outcomesIn(c.channel)[0]!.text)) expect(runs, c.channel).toBeLessThanOrEqual(1);
      else expect(runs, c.channel).toBe(1);
    }
    // The read-only call in flight on the victim ran again on a survivor.
    const reads = calls.filter((c) => c.tool === 'read_notes').length;
    expect(arrived.filter((a) => a.tool === 'read_notes').length).toBeGreaterThan(reads);
  }, 120_000);

  it('the Discord gateway holder (serve replica a) SIGKILLed: replica b holds the gateway within 15 s and answers', async () => {
    const [a, b] = [t.replica('a'), t.replica('b')];
    const holding = (r: typeof a) => r.output().split('took the lease').length - 1;
    expect([holding(a), holding(b)]).toEqual([1, 0]);
    const alice = { id: snowflake(), username: 'alice' };
    const ask = async (text: string) => {
      const { id } = t.discord.message(alice, t.discordWhere, text);
      return t.discord.waitForCall(
        (c) =>
          c.method === 'POST' &&
          c.path === `/channels/${t.discordWhere.channelId}/messages` &&
          (c.body as { message_reference?: { message_id?: string } }).message_reference?.message_id === id,
        20_000,
      );
    };
    expect((await ask('help')).status).toBe(200);
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    await vi.waitFor(
      () => {
        if (!(t.discord.identifies === 2 && t.discord.connected)) throw new Error('b has not identified yet');
      },
      { timeout: 15_000, interval: 50 },
    );
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(holding(b)).toBe(1);
    expect((await ask('help')).status).toBe(200);
    expect(t.discord.maxLiveSessions).toBe(1);
  }, 60_000);
});
