import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { alive } from '../support/cli.js';
import { stdioServerCommand } from '../support/mcp-servers/index.js';
import { startTestRedis } from '../support/redis.js';
import { startSlackApi, type SlackApi } from '../support/slack-api.js';
import { SlackSigner } from '../support/slack-signing.js';

// `serve` with ONBEHALF_WORKERS=1: the tool calls run in a worker process it supervises, so nothing a
// tool does to its worker (here: the worker stopped outright, SIGSTOP, as if its event loop were
// stuck in a synchronous loop) reaches the process that acknowledges Slack.
const SECRET = 'ingress-signing-secret-1';
let t: TestApp;
let app: App;
let slack: SlackApi;
let redis: Awaited<ReturnType<typeof startTestRedis>>;
const signer = new SlackSigner(SECRET);
let trigger = 0;

const command = (text: string) =>
  signer.post(
    `${t.baseUrl}/slack/events`,
    signer.command({ teamId: 'T1', userId: 'UALICE', channelId: 'C1', text, triggerId: `trig-${++trigger}` }),
  );

/** Runs `gh.parent_pid` through Slack and answers the pid of the process that ran the call. */
async function workerOfNextCall(): Promise<number> {
  const file = path.join(t.dataDir, `ppid-${trigger}`);
  expect((await command(`run gh.parent_pid {"file":"${file}"}`)).status).toBe(200);
  await vi.waitFor(() => expect(existsSync(file)).toBe(true), { timeout: 30_000, interval: 50 });
  return Number(readFileSync(file, 'utf8').trim());
}

beforeAll(async () => {
  [slack, redis] = await Promise.all([startSlackApi(), startTestRedis()]);
  t = await startTestApp({
    ...slack.appEnv(SECRET, 'xoxb-worker-processes'),
    REDIS_URL: redis.url,
    ONBEHALF_ALLOW_STDIO: 'true',
    ONBEHALF_WORKERS: '1',
  });
  app = t.app;
  const { org } = await app.identity.resolve({
    platform: 'slack',
    workspaceId: 'T1',
    userId: 'UALICE',
    displayName: 'alice',
  });
  const added = await app.policy.addServer(org.id, { name: 'gh', transport: 'stdio', ...stdioServerCommand });
  expect(added.ok).toBe(true);
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await slack?.stop();
  await redis?.stop();
});

describe('serve runs tool calls in worker processes it supervises', () => {
  it('a signed slash command is acknowledged and /healthz answers while the worker running tools cannot run at all', async () => {
    const worker = await workerOfNextCall();
    expect(worker).not.toBe(process.pid);
    expect(app.workerPids()).toEqual([worker]);
    // It yields a core to serve when both want one: niceness 10 (field 19 of /proc/PID/stat).
    const stat = readFileSync(`/proc/${worker}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])).toBe(10);
    process.kill(worker, 'SIGSTOP');
    try {
      const help = await command('help');
      expect(help.status).toBe(200);
      expect(help.text).toContain('run');
      expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
      // A call is still taken (queued) while no worker can pick it up.
      expect((await command('run gh.echo {"text":"queued"}')).status).toBe(200);
    } finally {
      process.kill(worker, 'SIGCONT');
    }
    await vi.waitFor(() => expect(slack.calls.some((c) => c.raw.includes('queued'))).toBe(true), {
      timeout: 30_000,
      interval: 50,
    });
  }, 60_000);

  it('a worker process that dies is replaced (one log line), and calls run on the new one', async () => {
    const [before] = app.workerPids();
    process.kill(before!, 'SIGKILL');
    await vi.waitFor(() => expect(t.logs.containing('a tool worker process exited')).toHaveLength(1), {
      timeout: 10_000,
    });
    expect(JSON.parse(t.logs.containing('a tool worker process exited')[0]!)).toMatchObject({
      pid: before,
      signal: 'SIGKILL',
    });
    const after = await workerOfNextCall();
    expect(after).not.toBe(before);
    expect(app.workerPids()).toEqual([after]);
  }, 60_000);

  it('stopping serve stops its worker processes', async () => {
    const pids = app.workerPids();
    expect(pids).toHaveLength(1);
    await app.stop();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 30_000);
});
