import { setTimeout as sleep } from 'node:timers/promises';
import { snowflake, type RecordedCall } from '../../test/support/discord-fake.js';
import { SlackSigner } from '../../test/support/slack-signing.js';
import type { BenchEnv } from '../env.js';
import { stats, type BenchRow } from '../lib.js';
import { LoopbackClient, openLoop } from '../load.js';
import type { BenchOptions } from '../options.js';

const CHANNEL = 'CFIRSTSIGN';
/** What a person first sees of a turn: the thread's status, or where that is refused, the placeholder message. */
const FIRST_SIGNS = ['assistant.threads.setStatus', 'chat.postMessage'];
/** How long a turn may take to show its first sign, and to finish, before the figure fails. */
const SIGN_TIMEOUT_MS = 30_000;

/** Figure 8: time to the first visible sign of an agent turn, one row for Slack and one for Discord. */
export async function firstSign(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
  return [await slackFirstSign(env, o), await discordFirstSign(env, o)];
}

/**
 * Slack: signed `app_mention` events to POST /slack/events at `firstSignRate` req/s, open loop.
 * For each, the time from its scheduled send to the first status or placeholder call the fake Slack
 * Web API records in its thread (the turn goes through the turn queue, the worker and the agent,
 * with a loopback model), against the HTTP ack of the same request.
 */
async function slackFirstSign(env: BenchEnv, o: BenchOptions): Promise<BenchRow> {
  const signer = new SlackSigner(env.signingSecret);
  const client = new LoopbackClient();
  const events = `${env.baseUrl}/slack/events`;
  const threads = new Set<string>();
  const signs: number[] = [];
  const firstMethods: Record<string, number> = {};
  let n = 0;
  /** Mentions the bot at the top of the channel; `onSign` gets the first sign's latency from `scheduled`. */
  const mention = (i: number, scheduled: number, onSign?: (ms: number, method: string) => void) => {
    const ts = `1800000${String(++n).padStart(6, '0')}.000100`;
    threads.add(ts);
    let seen = false;
    for (const method of FIRST_SIGNS)
      env.slack
        .waitFor(method, (c) => c.body['thread_ts'] === ts, SIGN_TIMEOUT_MS)
        .then(
          () => {
            if (seen) return;
            seen = true;
            onSign?.(performance.now() - scheduled, method);
          },
          () => undefined,
        );
    const r = signer.event(
      { type: 'app_mention', user: `U${i % 20}`, text: `<@UBOT> what is open for me? (${n})`, ts, channel: CHANNEL },
      { teamId: 'T1', eventId: `Ev-first-sign-${n}` },
    );
    return client.request(events, { method: 'POST', headers: r.headers, body: r.body });
  };
  try {
    // Warm-up (not recorded): provisions the 20 users and JITs the turn path end to end.
    for (let i = 0; i < 20; i++) await mention(i, performance.now());
    await answered(env, threads);
    const ours = await openLoop(o.firstSignRate, o.firstSignSeconds, (i, scheduled) =>
      mention(i, scheduled, (ms, method) => {
        signs.push(ms);
        firstMethods[method] = (firstMethods[method] ?? 0) + 1;
      }),
    );
    await answered(env, threads);
    const sent = Math.round(o.firstSignRate * o.firstSignSeconds);
    if (signs.length < sent) throw new Error(`${sent - signs.length} of ${sent} mentions showed no sign of work`);
    const ack = stats(ours.latencies);
    const s = stats(signs);
    return {
      key: 'first_sign',
      figure: `8. First visible sign of work, Slack (${o.firstSignRate} mentions/s × ${o.firstSignSeconds} s, open loop)`,
      unit: 'ms',
      baseline: { label: 'HTTP ack of the same mention', ...ack },
      ours: s,
      ratio: s.median / ack.median,
      goal: 'p99 < 1000 ms',
      met: s.p99 < 1000 && ours.errors === 0,
      notes: `signed app_mention → POST /slack/events; first sign ${JSON.stringify(firstMethods)} as the fake Slack Web API received it; ack statuses ${JSON.stringify(ours.statuses)}; both from scheduled send time`,
      extra: { turns: signs.length },
    };
  } finally {
    client.close();
  }
}

/** Waits until every turn of `threads` has its finished answer in the channel, so no work spills into the next figure. */
async function answered(env: BenchEnv, threads: Set<string>): Promise<void> {
  const deadline = performance.now() + SIGN_TIMEOUT_MS;
  for (;;) {
    const done = new Set(
      env.slack
        .visible(CHANNEL)
        .filter((m) => m.thread_ts !== undefined && threads.has(m.thread_ts) && !m.streaming)
        .map((m) => m.thread_ts),
    ).size;
    if (done >= threads.size) return;
    if (performance.now() > deadline) throw new Error(`${threads.size - done} of ${threads.size} turns not answered`);
    await sleep(50);
  }
}

/**
 * Discord: mentions of the bot (MESSAGE_CREATE through the fake's gateway) at `firstSignRate`/s,
 * until the first message the fake Discord records in reply to each (Discord has no thread status:
 * that is the turn's progress message, posted at once and edited as the turn goes on). Baseline, interleaved at the same rate: `/onbehalf help`
 * interactions until their deferred response (the interaction callback, Discord's ack). Both from
 * scheduled send time to the fake's record of the call (millisecond clock).
 */
async function discordFirstSign(env: BenchEnv, o: BenchOptions): Promise<BenchRow> {
  const d = env.discord;
  const guild = d.guilds[0]!;
  const where = { guildId: guild.id, channelId: guild.channels[0]!.id };
  const users = Array.from({ length: 20 }, (_, i) => ({ id: snowflake(), username: `bench${i}` }));
  const at = (scheduled: number) => performance.timeOrigin + scheduled;
  const isCallback = (id: string) => (c: RecordedCall) =>
    c.method === 'POST' && c.path.startsWith(`/interactions/${id}/`) && c.path.endsWith('/callback');
  const isReply = (id: string) => (c: RecordedCall) =>
    c.method === 'POST' &&
    c.path.endsWith('/messages') &&
    (c.body as { message_reference?: { message_id?: string } } | null)?.message_reference?.message_id === id;
  const sent: { kind: 'ack' | 'sign'; match: (c: RecordedCall) => boolean; wall: number }[] = [];
  const fire = (i: number, scheduled: number) => {
    const user = users[Math.floor(i / 2) % users.length]!;
    if (i % 2 === 0)
      sent.push({ kind: 'ack', match: isCallback(d.command(user, where, ['help']).id), wall: at(scheduled) });
    else
      sent.push({
        kind: 'sign',
        match: isReply(d.message(user, where, 'what is open for me?').id),
        wall: at(scheduled),
      });
    return Promise.resolve(200);
  };
  // Warm-up (not recorded): provisions the 20 users and JITs both paths.
  for (let i = 0; i < 40; i++) fire(i, performance.now());
  await seenAll(d.calls, sent);
  sent.length = 0;
  await openLoop(o.firstSignRate * 2, o.firstSignSeconds, fire);
  const seen = await seenAll(d.calls, sent);
  const ack = stats(seen.filter((x) => x.kind === 'ack').map((x) => x.ms));
  const s = stats(seen.filter((x) => x.kind === 'sign').map((x) => x.ms));
  return {
    key: 'first_sign',
    figure: `8. First visible sign of work, Discord (${o.firstSignRate} mentions/s × ${o.firstSignSeconds} s, open loop)`,
    unit: 'ms',
    baseline: { label: '/onbehalf help → deferred response', ...ack },
    ours: s,
    ratio: s.median / ack.median,
    goal: 'p99 < 1000 ms',
    met: s.p99 < 1000,
    notes: `bot mention through the gateway → first message in reply the fake Discord records (the turn's progress message; Discord has no thread status); baseline: /onbehalf help interactions at the same rate, interleaved, until their deferred response (the interaction callback), the nearest Discord has to Slack's HTTP ack; millisecond clock`,
    extra: { turns: s.n },
  };
}

/** Waits until the fake recorded a call for each of `sent`; the latency of each from its scheduled send. */
async function seenAll(
  calls: RecordedCall[],
  sent: { kind: 'ack' | 'sign'; match: (c: RecordedCall) => boolean; wall: number }[],
): Promise<{ kind: 'ack' | 'sign'; ms: number }[]> {
  const deadline = performance.now() + SIGN_TIMEOUT_MS;
  const found = new Map<number, number>();
  let scanned = 0;
  for (;;) {
    for (; scanned < calls.length; scanned++) {
      const c = calls[scanned]!;
      const j = sent.findIndex((x, k) => !found.has(k) && x.match(c));
      if (j !== -1) found.set(j, c.at - sent[j]!.wall);
    }
    if (found.size === sent.length) return sent.map((x, k) => ({ kind: x.kind, ms: found.get(k)! }));
    if (performance.now() > deadline)
      throw new Error(`${sent.length - found.size} of ${sent.length} Discord requests got no visible answer`);
    await sleep(50);
  }
}
