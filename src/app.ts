import type { DestinationStream } from 'pino';
import type { Redis } from 'ioredis';
import path from 'node:path';
import type { Config } from './config.js';
import { Keyring, LinkSigner, loadOrCreateDevKey, upgradeSeals } from './crypto/index.js';
import { openDb, type Db } from './db/index.js';
import { AppEvents } from './events.js';
import { AuditLog } from './audit/index.js';
import { Identity } from './identity/index.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import {
  RedisReachability,
  checkEvictionPolicy,
  ingressConnection,
  isConnectionError,
  maskRedisUrl,
  startPrivateRedis,
  type PrivateRedis,
} from './redis/index.js';
import { lockDataDir } from './datadir-lock.js';
import type { Hono } from 'hono';
import { createWeb, listen, type WebEnv } from './web/index.js';
import { OAuthService } from './oauth/index.js';
import { NetGuard, type NetGuardOptions } from './net/index.js';
import { oauthRouter } from './web/oauth.js';
import { chatSignIn } from './platforms/signin.js';
import { ChatCore, ConnectionAnnouncer, OutboundRouter, type ChatInbound } from './chat/index.js';
import { Agent, ThreadMemory, type AgentToolOutcome } from './agent/index.js';
import { LinkCodes, OrgJoins } from './identity/index.js';
import { discordGateway, discordOutbound } from './platforms/discord/index.js';
import { slackOutbound, slackPlatform } from './platforms/slack/index.js';
import { McpPool } from './mcp/index.js';
import { Policy, type RunnerTokens } from './policy/index.js';
import {
  OutboundNotifier,
  Runner,
  ToolCatalog,
  chatPolicy,
  outcomeText,
  type RunnerNotifier,
  type RunnerTuning,
  type TurnJob,
} from './runner/index.js';
import { CodedError } from './errors.js';

/** PORT is taken by another process: one line naming PORT. */
export class PortInUseError extends CodedError {
  readonly code = 'port_in_use';
  constructor(readonly port: number) {
    super(
      `port ${port} is already in use (PORT=${port}): stop the process listening there, or set PORT to a free port`,
    );
  }
}

/** Which parts of the product a process runs. */
export type AppMode = 'serve' | 'worker' | 'cli';

export interface AppOptions {
  /** Default `serve`. */
  mode?: AppMode;
  /** Where log lines go; default stdout. Tests capture them here. */
  logDestination?: DestinationStream;
  /** How long `stop()` lets running work finish. Default 10000 ms. */
  shutdownGraceMs?: number;
  /** Extra routers mounted on the web server (the demo's provider and MCP server). */
  routes?: { path: string; router: Hono<WebEnv> }[];
  /** Address the web server binds. Default `0.0.0.0`; the terminal commands bind `127.0.0.1`. */
  hostname?: string;
  /** Runner seams and tunables: the chat notifier (default: posts through `outbound`), the agent, timings. */
  runner?: {
    notifier?: RunnerNotifier;
    turnProcessor?: (turn: TurnJob) => Promise<void>;
    tuning?: RunnerTuning;
    /** Run tool workers in this process (`serve`, `worker`). Default true; tests that bring their own worker processes say false. */
    startWorkers?: boolean;
  };
  /** Tests only: how the network guard resolves names and which loopback addresses play public ones. */
  net?: Pick<NetGuardOptions, 'resolve' | 'allowAddresses' | 'allowHttp'>;
}

/** The running product: every service, built from Config by `createApp`. */
export interface App {
  config: Config;
  log: Logger;
  db: Db;
  keyring: Keyring;
  links: LinkSigner;
  metrics: Metrics;
  events: AppEvents;
  audit: AuditLog;
  identity: Identity;
  /** Redis URL in use (private or REDIS_URL); undefined in `cli` mode. */
  redisUrl: string | undefined;
  /** Fail-fast connection for ingress; undefined in `cli` mode. */
  redis: Redis | undefined;
  /** Bound HTTP port once started in `serve` mode. */
  port: number | undefined;
  /** The OAuth engine (providers, connect links, tokens); undefined in `cli` mode (it needs Redis). */
  oauth: OAuthService | undefined;
  /** Senders per platform (Discord registered when DISCORD_TOKEN is set), usable from any process. */
  outbound: OutboundRouter;
  /** The chat core, once the composition root builds it; `serve` starts the Discord gateway only when set. */
  chat: ChatInbound | undefined;
  /** MCP servers, bindings, access rules, secrets, teams. */
  policy: Policy;
  /** MCP clients and stdio processes per (server, caller credential set). */
  pool: McpPool;
  /** Each caller's tools (`catalogFor`) and `testServer`. */
  catalog: ToolCatalog;
  /** Tool and turn queues; workers run in `serve` and `worker` modes. Undefined in `cli` mode. */
  runner: Runner | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Resolves when `redis` is ready, reports its first error, or after `ms`, whichever comes first. */
function firstAnswer(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.once('ready', done);
    redis.once('error', done);
  });
}

function buildKeyring(config: Config, log: Logger): Keyring {
  if (config.keys) return new Keyring(config.keys);
  const { entry, created } = loadOrCreateDevKey(config.dataDir);
  log.warn(
    { file: path.join(config.dataDir, 'dev.key'), created },
    'ONBEHALF_KEYS is not set: using a development sealing key stored under the data directory (refused when NODE_ENV=production)',
  );
  return new Keyring([entry]);
}

function logSealUpgrade(log: Logger, r: ReturnType<typeof upgradeSeals>): void {
  if (r.resealed) log.info({ resealed: r.resealed }, 'sealed values upgraded to owner-bound AAD');
  for (const u of r.leftUnopened)
    log.warn(u, 'a sealed value of the old format was left as is; it will not open and must be set again');
}

/** Composition root: constructs every service from Config; nothing global. */
export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const mode = opts.mode ?? 'serve';
  // First, before anything under the data directory is touched: one owner of its private redis-server.
  const dirLock = mode !== 'cli' && !config.redisUrl ? lockDataDir(config.dataDir, `onbehalf ${mode}`) : undefined;
  try {
    return await build(config, opts, mode, dirLock?.release);
  } catch (err) {
    dirLock?.release();
    throw err;
  }
}

/** Wraps the runner's logger: connection errors of its queues and workers go to `reach` (one voice). */
function quietConnectionErrors(log: Logger, reach: RedisReachability): Logger {
  return new Proxy(log, {
    get(target, prop) {
      if (prop === 'warn') {
        return (obj: unknown, ...rest: unknown[]) => {
          const err = (obj as { err?: unknown } | null)?.err;
          if (typeof err === 'string' && isConnectionError(err)) return reach.failed(err);
          return (target.warn as (...a: unknown[]) => void)(obj, ...rest);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function build(
  config: Config,
  opts: AppOptions,
  mode: AppMode,
  releaseLock: (() => void) | undefined,
): Promise<App> {
  const log = createLogger(config.logLevel, opts.logDestination);
  const metrics = createMetrics();
  const keyring = buildKeyring(config, log);
  const db = openDb(config.databasePath);
  logSealUpgrade(log, upgradeSeals(db, keyring));
  const events = new AppEvents();
  const links = new LinkSigner(keyring);
  const audit = new AuditLog(db);
  const identity = new Identity(db, config.admins);
  const closers: (() => Promise<void> | void)[] = [
    () => void db.$client.close(),
    ...(releaseLock ? [releaseLock] : []),
  ];
  const outbound = new OutboundRouter();
  const discordOut = mode !== 'cli' ? discordOutbound(config.discord, outbound) : undefined;
  const slackOut = mode !== 'cli' ? slackOutbound(config, { db, keyring, identity, log }, outbound) : undefined;

  let privateRedis: PrivateRedis | undefined;
  let redis: Redis | undefined;
  let redisUrl: string | undefined;
  let reach: RedisReachability | undefined;
  if (mode !== 'cli') {
    if (config.redisUrl) {
      redisUrl = config.redisUrl;
    } else {
      privateRedis = await startPrivateRedis({ dir: path.join(config.dataDir, 'redis') });
      redisUrl = privateRedis.url;
      log.info({ port: privateRedis.port, pid: privateRedis.pid }, 'started private redis-server');
      closers.unshift(() => privateRedis!.stop());
    }
    reach = new RedisReachability(
      config.redisUrl ? `REDIS_URL=${maskRedisUrl(redisUrl)}` : `the private redis-server ${redisUrl}`,
      log,
    );
    redis = ingressConnection(redisUrl);
    const rr = reach;
    redis.on('error', (err) => rr.failed(err)); // the connection's errors: one throttled line
    redis.on('ready', () => rr.ready());
    const r = redis;
    closers.unshift(async () => {
      await r.quit().catch(() => r.disconnect());
    });
  }

  // Every outbound request a tenant admin can aim (providers, discovery, MCP servers) goes through this one guard.
  const net = new NetGuard({ ...opts.net, allowPrivate: config.allowPrivateUrls });
  closers.unshift(() => net.close());
  const oauth = redis
    ? new OAuthService({
        db,
        keyring,
        links,
        redis,
        events,
        audit,
        log: log.child({ part: 'oauth' }),
        metrics,
        publicUrl: config.publicUrl,
        net,
        signIn: chatSignIn(config),
      })
    : undefined;

  const policy = new Policy(db, keyring, { allowStdio: config.allowStdio, net });
  const pool = new McpPool(log.child({ part: 'mcp' }), { net });
  closers.unshift(() => pool.close());
  const tokens: RunnerTokens = oauth ?? {
    accessTokenFor: async (_o, _u, slug) => ({ kind: 'unknown_provider', providerSlug: slug }),
    connectLink: async () => `${config.publicUrl}/`,
  };
  const catalog = new ToolCatalog(policy, pool, tokens);
  let agent: Agent | undefined;
  const runner =
    redis && redisUrl
      ? new Runner(
          {
            db,
            policy,
            pool,
            tokens,
            audit,
            metrics,
            log: quietConnectionErrors(log.child({ part: 'runner' }), reach!),
            connection: redis,
            redisUrl,
            notifier: opts.runner?.notifier ?? new OutboundNotifier(outbound, log.child({ part: 'runner' })),
            turnProcessor: opts.runner?.turnProcessor ?? (async (turn) => agent?.run(turn)),
          },
          {
            parkedTtlMs: config.parkedMinutes * 60_000,
            approvalTtlMs: config.approvalMinutes * 60_000,
            maxQueuedPerUser: config.maxQueuedPerUser,
            maxParkedPerUser: config.maxParkedPerUser,
            ...opts.runner?.tuning,
          },
        )
      : undefined;
  if (runner) {
    runner.listen(events);
    closers.unshift(() => runner.stop(opts.shutdownGraceMs ?? 10_000));
  }

  let chat: ChatInbound | undefined;
  if (runner && oauth) {
    const chatLog = log.child({ part: 'chat' });
    const announcer = new ConnectionAnnouncer(db, identity, outbound, chatLog);
    // Ahead of the runner's resume: the confirmation goes where the calls wait, before their results.
    events.prependListener('connection.active', (e) => void announcer.connected(e));
    events.on('connection.held', (e) => void announcer.held(e));
    events.on('connection.refused', (e) => void announcer.refused(e));
    events.on('connection.signin_mismatch', (e) => void announcer.signInMismatch(e));
    agent = new Agent({
      memory: new ThreadMemory(db),
      outbound,
      log: log.child({ part: 'agent' }),
      llm: config.llm,
      user: (orgId, userId) => identity.user(orgId, userId),
      catalog: (orgId, user, channelId) => catalog.catalogFor(orgId, user, channelId, { forModel: true }),
      runTool: async (turn, server, tool, args): Promise<AgentToolOutcome> => {
        const r = await runner.runToolCall({ ...turn, server, tool, args, turnId: turn.requestId });
        if (r.kind === 'parked') return { kind: 'parked', providerSlug: r.providerSlug, callId: r.callId };
        if (r.kind === 'held') return { kind: 'held', callId: r.callId };
        return {
          kind: 'done',
          ok: r.outcome.kind === 'result' && !r.outcome.isError,
          text: outcomeText({ server, tool }, r.outcome),
        };
      },
    });
    chat = new ChatCore(
      {
        identity,
        linkCodes: new LinkCodes(db),
        orgJoins: new OrgJoins(db),
        audit,
        outbound,
        oauth,
        policy: chatPolicy(policy, catalog),
        runner,
        llm: Boolean(config.llm),
        dataDir: config.dataDir,
      },
      chatLog,
    );
  }

  let stopping = false;
  const app: App = {
    config,
    log,
    db,
    keyring,
    links,
    metrics,
    events,
    audit,
    identity,
    redisUrl,
    redis,
    port: undefined,
    oauth,
    outbound,
    chat,
    policy,
    pool,
    catalog,
    runner,
    async start() {
      // Redis away (REDIS_URL unreachable) never holds up HTTP: workers start when Redis answers.
      const wantWorkers =
        Boolean(runner) && (mode === 'serve' || mode === 'worker') && opts.runner?.startWorkers !== false;
      let workers: 'waiting' | 'starting' | 'started' = 'waiting';
      const startWorkers = async () => {
        if (!runner || !wantWorkers || workers !== 'waiting' || stopping) return;
        workers = 'starting';
        try {
          await runner.startWorkers();
          workers = 'started';
          log.info({ mode }, 'tool workers started');
        } catch (err) {
          workers = 'waiting';
          log.warn({ err: (err as Error).message }, 'tool workers could not start; retrying when Redis is ready again');
        }
      };
      if (redis) {
        const r = redis;
        const onReady = () => {
          if (config.redisUrl) void checkEvictionPolicy(r, log);
          return startWorkers();
        };
        await firstAnswer(r, 2000);
        r.on('ready', () => void onReady());
        if (r.status === 'ready') await onReady();
      }
      if (mode === 'serve') {
        if (!config.metricsToken && config.env === 'production')
          log.warn('METRICS_TOKEN is not set: /metrics is open to anyone who can reach this port');
        const web = createWeb({
          log,
          metrics,
          metricsToken: config.metricsToken,
          readiness: [
            { name: 'database', check: async () => void db.$client.prepare('select 1').get() },
            { name: 'redis', check: async () => void (await redis!.ping()) },
          ],
          routes: [
            ...(oauth ? [{ path: '/oauth', router: oauthRouter(oauth, { publicUrl: config.publicUrl }) }] : []),
            ...(opts.routes ?? []),
          ],
        });
        // Slack over HTTP: /slack/events (and /slack/install, /slack/oauth_redirect for the install flow).
        const slack =
          app.chat && slackOut
            ? slackPlatform(config, { core: app.chat, db, keyring, identity, audit, log, sender: slackOut })
            : undefined;
        if (slack?.router) web.route('/slack', slack.router);
        const server = await listen(web, config.port, opts.hostname).catch((err: NodeJS.ErrnoException) => {
          throw err.code === 'EADDRINUSE' ? new PortInUseError(config.port) : err;
        });
        app.port = server.port;
        closers.unshift(() => server.close());
        log.info({ port: server.port, publicUrl: config.publicUrl }, 'onbehalf is listening');
        const gateway =
          app.chat && discordOut
            ? discordGateway(config.discord, { core: app.chat, identity, audit, log, outbound: discordOut })
            : undefined;
        if (gateway) {
          closers.unshift(() => gateway.stop());
          await gateway.start();
        } else if (discordOut)
          log.warn('DISCORD_TOKEN is set but no chat core is built: the Discord gateway is not started');
        if (slack) {
          closers.unshift(() => slack.stop());
          await slack.start();
        } else if (slackOut) log.warn('Slack is configured but no chat core is built: /slack/events is not mounted');
      }
    },
    async stop() {
      stopping = true;
      // Each step is bounded: a dependency that is already gone (Redis down) must not hang shutdown.
      const bound = (opts.shutdownGraceMs ?? 10_000) + 5_000;
      for (const close of closers.splice(0)) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            close(),
            new Promise<void>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`a shutdown step took over ${bound} ms; moving on`)), bound);
            }),
          ]);
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'error during shutdown');
        } finally {
          clearTimeout(timer);
        }
      }
      log.flush?.();
    },
  };
  return app;
}
