import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { tempDir, testKey } from '../support/env.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';
import { SlackSigner } from '../support/slack-signing.js';
import { world, type World } from '../support/world.js';
import { startWorker, until, type WorkerProcess } from '../runner/processes.js';

const SIGNING = 'reply-once-signing-secret-1b2c3d';
const BOT_TOKEN = 'xoxb-reply-once-5e6f7a';
const TEAM = 'TONCE';
const CHANNEL = 'CONCE';

// The outside run's finding (issue 14): a worker killed while posting answers made the survivor post
// each answer again. Here the worker is killed after Slack applied the answer but before the call row
// records it; the survivor delivers again, and the channel still shows one answer.
describe('a worker SIGKILLed between posting an answer to Slack and recording it', () => {
  const tmp = tempDir('onbehalf-drill-reply-');
  const key = testKey();
  const signer = new SlackSigner(SIGNING);
  let w: World;
  let slack: SlackApi;
  let mcp: TestMcpHttpServer;
  let ingress: TestApp;
  let env: Record<string, string>;
  const workers: WorkerProcess[] = [];
  const command = async (userId: string, line: string) => {
    const res = await signer.post(
      `${ingress.baseUrl}/slack/events`,
      signer.command({ teamId: TEAM, userId, channelId: CHANNEL, text: line }),
    );
    expect(res.status, res.text).toBe(200);
    return res.text ? String((JSON.parse(res.text) as { text?: string }).text ?? '') : '';
  };
  const row = () =>
    ingress.app.db.$client.prepare("select id, status, outcome, delivery from tool_calls where tool = 'echo'").get() as
      { id: string; status: string; outcome: string | null; delivery: string | null } | undefined;
  const notified = () => Boolean(row()?.outcome && (JSON.parse(row()!.outcome!) as { notified?: boolean }).notified);

  beforeAll(async () => {
    slack = await startSlackApi();
    const shared = {
      DATABASE_URL: `file:${path.join(tmp.dir, 'onbehalf.db')}`,
      ONBEHALF_KEYS: key,
      ...slack.appEnv(SIGNING, BOT_TOKEN),
    };
    // Ingress only: Bolt takes the slash command and enqueues; `onbehalf worker` processes run the call and post.
    w = await world({
      platform: 'slack',
      workspace: TEAM,
      shell: false,
      env: { ...shared, ONBEHALF_ADMINS: `slack:${TEAM}:UADMIN` },
      app: { runner: { startWorkers: false } },
    });
    ({ t: ingress, mcp } = w);
    // The worker processes share the world's Redis and SQLite file.
    env = {
      ...shared,
      REDIS_URL: w.redis!.url,
      ONBEHALF_DATA_DIR: tmp.dir,
      LOCK_MS: '1500',
      STALLED_MS: '500',
      ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
    };
    expect(await command('UADMIN', `admin server add web http ${mcp.url}`)).toContain('web');
  });

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await w?.stop();
    await slack?.stop();
    tmp.cleanup();
  });

  it('the survivor edits the same message: exactly one visible answer, and the tool ran once', async () => {
    const answered = slack.hold(
      (c) => ['chat.update', 'chat.postMessage'].includes(c.method) && String(c.body['text']).includes('said once'),
    );
    expect(await command('UALICE', 'run web.echo {"text":"said once"}')).toContain('Running `web.echo` as you');
    const w1 = await startWorker(env);
    workers.push(w1);
    // Slack applied the answer; the worker never hears back and is killed before it records delivery.
    await answered;
    w1.child.kill('SIGKILL');
    await w1.exited;
    expect(row()).toMatchObject({ status: 'succeeded' });
    expect(notified()).toBe(false);

    const w2 = await startWorker(env);
    workers.push(w2);
    await until(notified, 30_000, 'the survivor to deliver the answer');

    const visible = slack.visible(CHANNEL);
    expect(visible).toHaveLength(1);
    expect(visible[0]!.text).toContain('said once');
    const ts = (JSON.parse(row()!.delivery!) as { messageId: string }).messageId;
    expect(visible[0]!.ts).toBe(ts);
    // Delivered twice (once per worker), both times as an edit of the one placeholder.
    expect(slack.callsTo('chat.update').map((c) => c.body['ts'])).toEqual([ts, ts]);
    expect(mcp.calls.filter((c) => c.tool === 'echo')).toHaveLength(1);
  }, 90_000);
});
