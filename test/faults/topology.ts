// The multi-machine topology on loopback: 2 `onbehalf serve` processes and 2 `onbehalf worker`
// processes of the real product, each with its own data directory, sharing nothing but a private
// Postgres server, a redis-server and ONBEHALF_KEYS. Their peers: the fake Slack Web API, the
// loopback Discord gateway, the loopback OAuth provider, the MCP server that reports the
// credential it saw, a scripted model, and a load balancer as the deployment's PUBLIC_URL.
import path from 'node:path';
import { freePort } from '../../src/redis/index.js';
import { Balancer } from '../support/balancer.js';
import { startCli } from '../support/cli.js';
import { FakeDiscord, snowflake } from '../support/discord-fake.js';
import { tempDir, testKey } from '../support/env.js';
import { obedientModel } from '../support/llm-server.js';
import { startTestPostgres } from '../support/postgres.js';
import { startTestRedis } from '../support/redis.js';
import { startSlackApi } from '../support/slack-api.js';
import { SlackSigner, type SignOptions } from '../support/slack-signing.js';
import { world } from '../support/world.js';
import { startWorker, type WorkerProcess } from '../runner/processes.js';

export const TEAM = 'TACME';
export const CHANNEL = 'CSUPPORT';
const SIGNING = 'topology-signing-secret-5d2a9e';
const DISCORD_BOT = 'MTEx.topology-canary.' + 't'.repeat(24);
/** Tool calls each worker process runs at once (each serve replica runs the product's default, 16). */
export const WORKER_CONCURRENCY = 4;
export const SERVE_CONCURRENCY = 16;

/** A `serve` replica: a real `onbehalf serve` process. */
export type ServeProcess = Awaited<ReturnType<typeof startCli>> & { name: string; url: string };

/** Starts the topology: peers, Postgres, Redis, the org's setup, then the four processes. */
export async function topology() {
  const tmp = tempDir('onbehalf-topology-');
  const [pg, redis, slack, lb] = await Promise.all([
    startTestPostgres(),
    startTestRedis(),
    startSlackApi(),
    Balancer.start(),
  ]);
  const guildId = snowflake();
  const discordChannel = snowflake();
  const discord = await FakeDiscord.start({
    guilds: [{ id: guildId, name: 'Acme', channels: [{ id: discordChannel, name: 'help' }] }],
  });
  const shared: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    ONBEHALF_KEYS: testKey(),
    ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
    ONBEHALF_MAX_QUEUED_PER_USER: '2000',
    ONBEHALF_JOB_LOCK_MS: '1500',
    ONBEHALF_STALLED_CHECK_MS: '500',
    ...slack.appEnv(SIGNING, 'xoxb-topology-bot'),
  };
  // Every process gets the Discord bot's REST access (a turn run on a worker answers through it);
  // only a serve replica connects to the gateway.
  const discordEnv = discord.appEnv(DISCORD_BOT);
  // The org's setup, done once by the product itself (an admin's work), before any replica runs:
  // migrate, the provider, the MCP server `web` bound to the caller's grant, a policy allowing its
  // tools, and bob connected through the real OAuth flow. This app stops before the drill starts.
  const w = await world({
    redis: false,
    shell: false,
    platform: 'slack',
    workspace: TEAM,
    provider: 'github',
    servers: [{ name: 'web', grant: true }],
    llm: obedientModel(),
    users: ['UALICE', 'UBOB'],
    env: shared,
    app: { runner: { startWorkers: false } },
  });
  const allowed = await w.app.policy.rule(w.org.id, 'allow', 'web', { tools: '*' });
  if (!allowed.ok) throw new Error(JSON.stringify(allowed));
  await w.connect('UBOB', { login: 'bob-at-vendor' });
  await w.t.stop();
  Object.assign(shared, { LLM_BASE_URL: w.llm!.baseUrl, LLM_MODEL: 'scripted', PUBLIC_URL: lb.url });

  const serves: ServeProcess[] = [];
  const workers: WorkerProcess[] = [];
  const startServe = async (name: string): Promise<ServeProcess> => {
    const port = await freePort();
    const r = await startCli(['serve'], {
      cwd: tmp.dir,
      env: {
        ...shared,
        ...discordEnv,
        PORT: String(port),
        ONBEHALF_DATA_DIR: path.join(tmp.dir, name),
        // Its tool workers and agent turns run in this very process.
        ONBEHALF_WORKERS: '0',
      },
      ready: /onbehalf is listening/,
      timeoutMs: 45_000,
    });
    const replica = { ...r, name, url: `http://127.0.0.1:${port}` };
    serves.push(replica);
    lb.backends.set(name, replica.url);
    return replica;
  };
  const startWorkerProcess = async (name: string) => {
    const wp = await startWorker(
      {
        ...shared,
        ...discordEnv,
        ONBEHALF_DATA_DIR: path.join(tmp.dir, name),
        LOCK_MS: '1500',
        STALLED_MS: '500',
        CONCURRENCY: String(WORKER_CONCURRENCY),
      },
      45_000,
    );
    workers.push(wp);
    return wp;
  };

  const stop = async () => {
    for (const r of serves) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      await r.exited;
    }
    for (const wp of workers) await wp.stop();
    await Promise.all([w.oauth.stop(), w.mcp.stop(), w.llm?.close(), discord.stop(), slack.stop(), lb.stop()]);
    await redis.stop();
    await pg.stop();
    tmp.cleanup();
  };
  try {
    // One after the other: the first holds the Discord gateway, the second finds it taken.
    await startServe('a');
    await discord.waitConnected(20_000);
    await startServe('b');
    await Promise.all([startWorkerProcess('c'), startWorkerProcess('d')]);
  } catch (err) {
    await stop();
    throw err;
  }

  const signer = new SlackSigner(SIGNING);
  let n = 0;
  const replica = (name: 'a' | 'b') => serves.find((s) => s.name === name)!;
  return {
    pg,
    redis,
    slack,
    discord,
    discordWhere: { guildId, channelId: discordChannel },
    lb,
    oauth: w.oauth,
    mcp: w.mcp,
    serves,
    workers,
    replica,
    signer,
    /** A signed `/onbehalf <line>` from `user` in `channel`, delivered to replica `to` (as the balancer would). */
    command: (to: 'a' | 'b', user: string, line: string, channel = CHANNEL) =>
      signer.post(
        `${replica(to).url}/slack/events`,
        signer.command({ teamId: TEAM, userId: user, channelId: channel, text: line, triggerId: `trig-${++n}` }),
      ),
    /** The pid of every process running tool calls (serve replicas and workers) still alive. */
    pids: () =>
      [...serves, ...workers]
        .map((p) => p.child)
        .filter((c) => c.exitCode === null && c.signalCode === null)
        .map((c) => c.pid!),
    /** A mention of the bot by `user`, as one event with its own id, ready to deliver (and redeliver). */
    mention(user: string, words: string) {
      const ts = `1700003${String(++n).padStart(4, '0')}.000100`;
      return {
        ts,
        eventId: `Ev-topo-${n}`,
        event: { type: 'app_mention', user, text: `<@UBOT> ${words}`, ts, channel: CHANNEL },
      };
    },
    deliver: (to: 'a' | 'b', m: { eventId: string; event: Record<string, unknown> }, o?: SignOptions) =>
      signer.post(`${replica(to).url}/slack/events`, signer.event(m.event, { teamId: TEAM, eventId: m.eventId }, o)),
    /** A click of button `b` by `user`, delivered to replica `to`. */
    click: (to: 'a' | 'b', user: string, b: { action_id: string; value?: string }) =>
      signer.post(
        `${replica(to).url}/slack/events`,
        signer.interaction({
          type: 'block_actions',
          team: { id: TEAM },
          user: { id: user, team_id: TEAM },
          trigger_id: `trig-${++n}`,
          channel: { id: CHANNEL },
          container: { type: 'message', channel_id: CHANNEL, message_ts: '1700000000.000001', is_ephemeral: true },
          actions: [{ action_id: b.action_id, type: 'button', value: b.value, action_ts: '1' }],
        }),
      ),
    stop,
  };
}
export type Topology = Awaited<ReturnType<typeof topology>>;
