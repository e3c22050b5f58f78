import { SlackSigner } from '../../test/support/slack-signing.js';
import type { BenchEnv } from '../env.js';
import { stats, type BenchRow } from '../lib.js';
import { LoopbackClient, openLoop } from '../load.js';
import type { BenchOptions } from '../options.js';

/**
 * Figure 1: signed `/onbehalf help` slash commands to POST /slack/events at `slackRate` req/s,
 * open loop, against the same rate of GET /healthz. The command is answered in the ack, so the
 * latency includes signature check, identity resolution and the chat core's answer.
 */
export async function slackAck(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
  const signer = new SlackSigner(env.signingSecret);
  const client = new LoopbackClient();
  const events = `${env.baseUrl}/slack/events`;
  const health = `${env.baseUrl}/healthz`;
  const slash = (i: number) => {
    const r = signer.command({
      teamId: 'T1',
      userId: `U${i % 20}`,
      channelId: 'CBENCH',
      text: 'help',
      triggerId: `trig.${i}`,
    });
    return client.request(events, { method: 'POST', headers: r.headers, body: r.body });
  };
  try {
    // Warm-up (not recorded): provisions the 20 users and JITs both paths.
    for (let i = 0; i < 40; i++) {
      await slash(i);
      await client.request(health);
    }
    const base = await openLoop(o.slackRate, o.slackSeconds, () => client.request(health));
    const ours = await openLoop(o.slackRate, o.slackSeconds, (i) => slash(i));
    const b = stats(base.latencies);
    const s = stats(ours.latencies);
    return [
      {
        key: 'slack_ack',
        figure: `1. Slack ack (${o.slackRate} req/s × ${o.slackSeconds} s, open loop)`,
        unit: 'ms',
        baseline: { label: 'GET /healthz', ...b },
        ours: s,
        ratio: s.median / b.median,
        goal: 'p99 < 50 ms',
        met: s.p99 < 50 && ours.errors === 0,
        notes: `signed /onbehalf help → POST /slack/events; statuses ours ${JSON.stringify(ours.statuses)}, baseline ${JSON.stringify(base.statuses)}; latency from scheduled send time`,
      },
    ];
  } finally {
    client.close();
  }
}
