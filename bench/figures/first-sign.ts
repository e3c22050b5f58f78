import { setTimeout as sleep } from 'node:timers/promises';
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

/**
 * Figure 8: signed `app_mention` events to POST /slack/events at `firstSignRate` req/s, open loop.
 * For each, the time from its scheduled send to the first status or placeholder call the fake Slack
 * Web API records in its thread (the turn goes through the turn queue, the worker and the agent,
 * with a loopback model), against the HTTP ack of the same request.
 */
export async function firstSign(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
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
    return [
      {
        key: 'first_sign',
        figure: `8. First visible sign of work (${o.firstSignRate} mentions/s × ${o.firstSignSeconds} s, open loop)`,
        unit: 'ms',
        baseline: { label: 'HTTP ack of the same mention', ...ack },
        ours: s,
        ratio: s.median / ack.median,
        goal: 'p99 < 1000 ms',
        met: s.p99 < 1000 && ours.errors === 0,
        notes: `signed app_mention → POST /slack/events; first sign ${JSON.stringify(firstMethods)} as the fake Slack Web API received it; ack statuses ${JSON.stringify(ours.statuses)}; both from scheduled send time. Discord is not measured yet: the bench runs no Discord`,
        extra: { turns: signs.length },
      },
    ];
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
