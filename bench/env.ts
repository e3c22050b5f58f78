import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { Secret } from '../src/crypto/index.js';
import { freePort } from '../src/redis/index.js';
import { Runner, type ToolCallRequest } from '../src/runner/index.js';
import { startMcpHttpServer, stdioServerCommand, type TestMcpHttpServer } from '../test/support/mcp-servers/index.js';
import { authorizeInBrowser, OAuthTestServer } from '../test/support/oauth-server.js';
import { FakeDiscord } from '../test/support/discord-fake.js';
import { startLlmServer } from '../test/support/llm-server.js';
import { startSlackApi, type SlackApi } from '../test/support/slack-api.js';
import { WaitingNotifier } from './notifier.js';

/** The users every figure calls as; each has connected their own account at the provider `vendor`. */
export const USERS = ['alice', 'bob', 'carol'] as const;
export type BenchUser = (typeof USERS)[number];

/** Counts log lines at warn and above (kept for the report) and drops the rest, as a production sink would write them. */
class LogSink extends Writable {
  warnings: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (/"level":(40|50|60)/.test(line) && this.warnings.length < 50) this.warnings.push(line.slice(0, 300));
    }
    cb();
  }
}

/**
 * Everything the figures share: the real app (serve mode, Slack configured, workers in this
 * process at concurrency 64, its own private redis-server), a loopback OAuth server, a loopback
 * Streamable HTTP MCP server (`web`, bound to `Authorization: Bearer <caller's token>`), the stdio
 * test server (`gh`, `GITHUB_TOKEN` = caller's token), a fake Slack Web API, a fake Discord
 * (REST and gateway, one guild; the app is connected to it as its bot), and a loopback
 * OpenAI-compatible model for agent turns (it answers every turn at once with a short text; only
 * mentions reach it, so the other figures do not touch it, and child processes run without it).
 */
export interface BenchEnv {
  app: App;
  dataDir: string;
  baseUrl: string;
  signingSecret: string;
  /** Env for child processes (worker/serve) sharing this app's database and Redis. */
  childEnv: Record<string, string>;
  /** The app's Slack variables (signing secret, bot token, the fake Web API), for a child `serve`. */
  slackEnv: Record<string, string>;
  notifier: WaitingNotifier;
  oauth: OAuthTestServer;
  mcp: TestMcpHttpServer;
  slack: SlackApi;
  discord: FakeDiscord;
  orgId: string;
  userIds: Record<BenchUser, string>;
  /** Each user's current access token (compared with what the MCP server saw; never printed). */
  tokens: Record<BenchUser, string>;
  logs: LogSink;
  /** A tool call request as `who` (Slack user of workspace T1). */
  request(who: BenchUser, server: string, tool: string, args: Record<string, unknown>, i: number): ToolCallRequest;
  /** Marks a user's token as expired (the next call must refresh it). */
  expire(who: BenchUser): Promise<void>;
  /** Re-reads a user's current access token (after a refresh rotated it). */
  refreshTokens(who: BenchUser): Promise<void>;
  /** An enqueue-only runner on another queue prefix (its jobs run in child processes); default on this app's Redis. */
  producer(prefix: string, redis?: { url: string; connection: Redis }): Runner;
  stop(): Promise<void>;
}

/**
 * Builds the shared environment; `stop()` ends every server and process it started. With
 * `databaseUrl` (`postgres://…`) the app and its child processes share that database instead of a
 * SQLite file in the data directory.
 */
export async function startBenchEnv(opts: { databaseUrl?: string } = {}): Promise<BenchEnv> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'onbehalf-bench-'));
  const stops: (() => Promise<void>)[] = [async () => rmSync(dataDir, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const oauth = await OAuthTestServer.start();
    stops.push(() => oauth.stop());
    const mcp = await startMcpHttpServer();
    stops.push(() => mcp.stop());
    const slack = await startSlackApi();
    stops.push(() => slack.stop());
    const discord = await FakeDiscord.start();
    stops.push(() => discord.stop());
    const llm = await startLlmServer(() => ({ text: 'On it: here is your answer.' }));
    stops.push(() => llm.close());

    const port = await freePort();
    const signingSecret = randomBytes(16).toString('hex');
    const keys = `k1:${randomBytes(32).toString('base64')}`;
    const publicUrl = `http://127.0.0.1:${port}`;
    const env = {
      NODE_ENV: 'production',
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      ONBEHALF_DATA_DIR: dataDir,
      ONBEHALF_KEYS: keys,
      ONBEHALF_ALLOW_STDIO: 'true',
      ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
      LOG_LEVEL: 'info',
      // The figures bring their own worker processes (or run workers in the process they measure).
      ONBEHALF_WORKERS: '0',
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
    };
    const notifier = new WaitingNotifier();
    const logs = new LogSink();
    const slackEnv = slack.appEnv(signingSecret, `xoxb-bench-${randomBytes(8).toString('hex')}`);
    const app = await createApp(
      loadConfig({
        ...env,
        ...slackEnv,
        ...discord.appEnv(`bench-discord-${randomBytes(8).toString('hex')}`),
        LLM_BASE_URL: llm.baseUrl,
        LLM_MODEL: 'bench',
      }),
      {
        mode: 'serve',
        logDestination: logs,
        shutdownGraceMs: 2000,
        runner: { notifier, tuning: { concurrency: 64, maxQueuedPerUser: 1_000_000 } },
      },
    );
    stops.push(() => app.stop());
    await app.start();

    const userIds = {} as Record<BenchUser, string>;
    let orgId = '';
    for (const who of USERS) {
      const r = await app.identity.resolve({
        platform: 'slack',
        workspaceId: 'T1',
        userId: who,
        displayName: who,
        workspaceName: 'Bench',
      });
      orgId = r.org.id;
      userIds[who] = r.user.id;
    }
    const added = await app.oauth.addProvider(orgId, {
      slug: 'vendor',
      kind: 'oauth2',
      clientId: 'bench-client',
      clientSecret: new Secret('bench-secret'),
      scopes: ['repo'],
      issuer: oauth.issuer,
      ...oauth.endpoints,
    });
    if (!added.ok) throw new Error(`provider: ${JSON.stringify(added.error)}`);
    const tokens = {} as Record<BenchUser, string>;
    const refreshTokens = async (who: BenchUser) => {
      const tok = await app.oauth.accessTokenFor(orgId, userIds[who], 'vendor');
      if (tok.kind !== 'ok') throw new Error(`no token for ${who}: ${tok.kind}`);
      tokens[who] = tok.token.reveal();
    };
    for (const who of USERS) {
      oauth.login = `${who}-vendor`;
      const step = await authorizeInBrowser(await app.oauth.connectLink(orgId, userIds[who], 'vendor'));
      if (!('callbackUrl' in step)) throw new Error(`connect ${who}: ${step.status}`);
      const cb = await step.browser.fetch(step.callbackUrl);
      if (cb.status !== 200) throw new Error(`callback ${who}: ${cb.status}`);
      // A first connect from an unproven browser is held until its user confirms.
      const ok = await app.oauth.confirmHeld(orgId, userIds[who], 'vendor');
      if (!ok.ok) throw new Error(`confirm ${who}: ${JSON.stringify(ok.error)}`);
      await refreshTokens(who);
    }
    for (const [name, input] of [
      ['web', { transport: 'http' as const, url: mcp.url }],
      ['gh', { transport: 'stdio' as const, ...stdioServerCommand }],
    ] as const) {
      const r = await app.policy.addServer(orgId, { name, ...input });
      if (!r.ok) throw new Error(`server ${name}: ${JSON.stringify(r.error)}`);
    }
    for (const r of [
      await app.policy.bind(orgId, 'web', 'header', 'Authorization', 'oauth:vendor', 'Bearer {token}'),
      await app.policy.bind(orgId, 'gh', 'env', 'GITHUB_TOKEN', 'oauth:vendor'),
    ])
      if (!r.ok) throw new Error(`bind: ${JSON.stringify(r.error)}`);

    const producers = new Map<string, Runner>();
    stops.push(async () => {
      for (const p of producers.values()) await p.stop(1000);
    });
    return {
      app,
      dataDir,
      baseUrl: publicUrl,
      signingSecret,
      notifier,
      oauth,
      mcp,
      slack,
      discord,
      orgId,
      userIds,
      tokens,
      logs,
      slackEnv,
      childEnv: {
        ...env,
        REDIS_URL: app.redisUrl,
        DATABASE_URL: opts.databaseUrl ?? `file:${app.config.databasePath}`,
        PORT: '0',
      },
      request: (who, server, tool, args, i) => ({
        orgId,
        userId: userIds[who],
        chatIdentity: `slack:T1:${who}`,
        server,
        tool,
        args,
        target: {
          platform: 'slack',
          workspaceId: 'T1',
          channelId: 'CBENCH',
          userId: who,
          isDirect: false,
          messageId: `m${i}`,
        },
        requestId: `bench-${i}`,
      }),
      async expire(who) {
        const { connectedAccounts } = app.store.t;
        await app.store.changes(
          app.store.db
            .update(connectedAccounts)
            .set({ expiresAt: Date.now() - 1000 })
            .where(eq(connectedAccounts.userId, userIds[who])),
        );
      },
      refreshTokens,
      producer(prefix, redis = { url: app.redisUrl, connection: app.redis }) {
        const have = producers.get(`${redis.url} ${prefix}`);
        if (have) return have;
        const r = new Runner(
          {
            store: app.store,
            policy: app.policy,
            pool: app.pool,
            tokens: app.oauth,
            notifier,
            audit: app.audit,
            log: app.log,
            connection: redis.connection,
            redisUrl: redis.url,
          },
          { prefix, maxQueuedPerUser: 1_000_000 },
        );
        producers.set(`${redis.url} ${prefix}`, r);
        return r;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
