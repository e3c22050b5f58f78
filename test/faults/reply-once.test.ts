import { sql } from 'drizzle-orm';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import { tempDir, testKey } from '../support/env.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';
import { SlackSigner } from '../support/slack-signing.js';
import { world, type World, type WorldOptions } from '../support/world.js';
import { startWorker, until, type WorkerProcess } from '../runner/processes.js';

const SIGNING = 'reply-once-signing-secret-1b2c3d';
const BOT_TOKEN = 'xoxb-reply-once-5e6f7a';
const TEAM = 'TONCE';
const CHANNEL = 'CONCE';

/**
 * Ingress only: Bolt takes the slash command and enqueues; `onbehalf worker` processes (started
 * with `env`) run the call and post, sharing the world's Redis and SQLite file.
 */
async function drillWorld(
  dir: string,
  key: string,
  slack: SlackApi,
  o: Omit<WorldOptions, 'platform' | 'workspace' | 'shell' | 'env' | 'app'> = {},
): Promise<{ w: World; env: Record<string, string> }> {
  const shared = {
    DATABASE_URL: `file:${path.join(dir, 'onbehalf.db')}`,
    ONBEHALF_KEYS: key,
    ...slack.appEnv(SIGNING, BOT_TOKEN),
  };
  const w = await world({
    ...o,
    platform: 'slack',
    workspace: TEAM,
    shell: false,
    env: { ...shared, ONBEHALF_ADMINS: `slack:${TEAM}:UADMIN` },
    app: { runner: { startWorkers: false } },
  });
  const env = {
    ...shared,
    REDIS_URL: w.redis!.url,
    ONBEHALF_DATA_DIR: dir,
    LOCK_MS: '1500',
    STALLED_MS: '500',
    ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
  };
  return { w, env };
}

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
  const row = async () =>
    (
      await ingress.app.store.execute<{ id: string; status: string; outcome: string | null; delivery: string | null }>(
        sql`select id, status, outcome, delivery from tool_calls where tool = 'echo'`,
      )
    )[0];
  const notified = async () => {
    const outcome = (await row())?.outcome;
    return Boolean(outcome && (JSON.parse(outcome) as { notified?: boolean }).notified);
  };

  beforeAll(async () => {
    slack = await startSlackApi();
    ({ w, env } = await drillWorld(tmp.dir, key, slack));
    ({ t: ingress, mcp } = w);
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
    expect(await row()).toMatchObject({ status: 'succeeded' });
    expect(await notified()).toBe(false);

    const w2 = await startWorker(env);
    workers.push(w2);
    await until(notified, 30_000, 'the survivor to deliver the answer');

    const visible = slack.visible(CHANNEL);
    expect(visible).toHaveLength(1);
    expect(visible[0]!.text).toContain('said once');
    const ts = (JSON.parse((await row())!.delivery!) as { messageId: string }).messageId;
    expect(visible[0]!.ts).toBe(ts);
    // Delivered twice (once per worker), both times as an edit of the one placeholder.
    expect(slack.callsTo('chat.update').map((c) => c.body['ts'])).toEqual([ts, ts]);
    expect(mcp.calls.filter((c) => c.tool === 'echo')).toHaveLength(1);
  }, 90_000);
});

// The same drill for a private result (`--private-results`): an ephemeral cannot be edited, so the
// private part is marked before Slack is called and recorded once Slack accepted it.
describe('a worker SIGKILLed while delivering a private result', () => {
  const tmp = tempDir('onbehalf-drill-private-');
  const key = testKey();
  const signer = new SlackSigner(SIGNING);
  const NOTE = "used the asker's own account, so it was sent to them privately";
  const MAYBE = 'may already have been delivered to you';
  let w: World;
  let slack: SlackApi;
  let mcp: TestMcpHttpServer;
  let ingress: TestApp;
  let env: Record<string, string>;
  const workers: WorkerProcess[] = [];
  const run = async (text: string) => {
    const res = await signer.post(
      `${ingress.baseUrl}/slack/events`,
      signer.command({ teamId: TEAM, userId: 'UALICE', channelId: CHANNEL, text: `run web.echo {"text":"${text}"}` }),
    );
    expect(res.status, res.text).toBe(200);
  };
  const row = async (text: string) =>
    (
      await ingress.app.store.execute<{ status: string; outcome: string; delivery: string | null }>(
        sql`select status, outcome, delivery from tool_calls where tool = 'echo' and args like ${`%${text}%`}`,
      )
    )[0]!;
  const notified = async (text: string) =>
    Boolean((JSON.parse((await row(text)).outcome) as { notified?: boolean }).notified);
  const delivery = async (text: string) => JSON.parse((await row(text)).delivery ?? '{}') as Record<string, unknown>;
  /** What Alice alone was shown that mentions `text` or tells her it may have arrived. */
  const privately = (text: string) =>
    slack
      .callsTo('chat.postEphemeral')
      .filter((c) => c.body['user'] === 'UALICE')
      .map((c) => String(c.body['text']))
      .filter((t) => t.includes(text) || (t.includes(MAYBE) && t.includes('web.echo')));
  /** Kills a worker once the Slack call `where` was applied, before the worker hears back; a survivor then delivers. */
  const killDuring = async (where: Parameters<SlackApi['hold']>[0], text: string) => {
    const held = slack.hold(where);
    await run(text);
    const w1 = await startWorker(env);
    workers.push(w1);
    await held;
    w1.child.kill('SIGKILL');
    await w1.exited;
    expect((await row(text)).status).toBe('succeeded');
    expect(await notified(text)).toBe(false);
    const w2 = await startWorker(env);
    workers.push(w2);
    await until(() => notified(text), 30_000, 'the survivor to deliver the answer');
    await w2.stop();
    return w2.output();
  };

  beforeAll(async () => {
    slack = await startSlackApi();
    // Alice connected through the real OAuth flow; server `web` sends her grant.
    ({ w, env } = await drillWorld(tmp.dir, key, slack, {
      users: ['UALICE'],
      provider: 'vendor',
      servers: [{ name: 'web', grant: true }],
      connect: true,
    }));
    ({ t: ingress, mcp } = w);
    const res = await signer.post(
      `${ingress.baseUrl}/slack/events`,
      signer.command({
        teamId: TEAM,
        userId: 'UADMIN',
        channelId: 'CADMIN',
        text: 'admin server set web --private-results',
      }),
    );
    expect(res.text).toContain('now goes to them only');
  });

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await w?.stop();
    await slack?.stop();
    tmp.cleanup();
  });

  it('killed after the private result was recorded as sent: the survivor only edits the note, Alice gets it once', async () => {
    const log = await killDuring(
      (c) => c.method === 'chat.update' && String(c.body['text']).includes(NOTE),
      'recorded first',
    );
    expect(privately('recorded first')).toEqual([expect.stringContaining('recorded first')]);
    expect(await delivery('recorded first')).toMatchObject({ privateSent: expect.any(Number) });
    expect(await delivery('recorded first')).not.toHaveProperty('privateUncertain');
    expect(log).not.toContain('not sending it again');
    expect(
      mcp.calls.filter((c) => c.tool === 'echo' && JSON.stringify(c.args).includes('recorded first')),
    ).toHaveLength(1);
  }, 90_000);

  it('killed after Slack took the ephemeral but before it was recorded: not sent again; Alice is told it may have arrived, and the log says so', async () => {
    const log = await killDuring(
      (c) => c.method === 'chat.postEphemeral' && String(c.body['text']).includes('unrecorded'),
      'unrecorded',
    );
    // One answer, and one line saying it may already be there: never a second copy, never silence.
    expect(privately('unrecorded')).toEqual([expect.stringContaining('unrecorded'), expect.stringContaining(MAYBE)]);
    expect(await delivery('unrecorded')).toMatchObject({ privateSent: expect.any(Number), privateUncertain: true });
    expect(log).toContain('an earlier attempt began sending this private result and stopped; not sending it again');
    // The channel: the placeholder became the one-line note; the result never appears there.
    const messageId = (await delivery('unrecorded'))['messageId'];
    const visible = slack.visible(CHANNEL).filter((m) => m.ts === messageId);
    expect(visible.map((m) => m.text)).toEqual([expect.stringContaining(NOTE)]);
    expect(slack.visible(CHANNEL).some((m) => m.text.includes('unrecorded'))).toBe(false);
    expect(mcp.calls.filter((c) => c.tool === 'echo' && JSON.stringify(c.args).includes('unrecorded'))).toHaveLength(1);
  }, 90_000);
});
