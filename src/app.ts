import path from 'node:path';
import type { Config } from './config.js';
import { Keyring, LinkSigner, loadOrCreateDevKey, upgradeSeals } from './crypto/index.js';
import { openDb, sqliteStore, type Store } from './db/index.js';
import { AuditLog } from './audit/index.js';
import { Identity } from './identity/index.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, registerOpsGauges, type Metrics } from './metrics.js';
import { OpsStatus } from './app/status.js';
import { auditSinkFor } from './app/audit-sink.js';
import { lockDataDir } from './datadir-lock.js';
import { createWeb, meRouter, oauthRouter, type WebEnv } from './web/index.js';
import type { Hono } from 'hono';
import {
  ConnectionHookSet,
  KEEPALIVE_DEFAULTS,
  OAuthService,
  ProviderStore,
  type KeepAliveOptions,
} from './oauth/index.js';
import { applyAtStart } from './config-file/index.js';
import { NetGuard } from './net/index.js';
import { chatSignIn } from './platforms/signin.js';
import { OutboundRouter } from './chat/index.js';
import type { ChatPlatform, PlatformFactory } from './chat/platform.js';
import { discordPlatform } from './platforms/discord/index.js';
import { slackPlatform } from './platforms/slack/index.js';
import { McpPool } from './mcp/index.js';
import { Policy, type RunnerTokens } from './policy/index.js';
import { ToolCatalog } from './agent/index.js';
import { browserNotices, buildChat } from './app/chat.js';
import { Closers } from './app/closers.js';
import { connectRedis, type AppRedis } from './app/redis.js';
import { buildRunner } from './app/runner.js';
import { startServices } from './app/start.js';
import { WorkerSupervisor } from './app/workers.js';
import { workerProcessEnv } from './config.js';
import type { App, AppMode, AppOptions, CliApp, ServiceApp } from './app/types.js';

export { PortInUseError } from './web/index.js';
export type { App, AppBase, AppMode, AppOptions, CliApp, RunnerOptions, ServiceApp } from './app/types.js';

/**
 * The chat platforms a process runs, each built from Config (off when Config does not name it).
 * Adding a platform: its folder under `platforms/`, implementing `ChatPlatform`, and one line here.
 */
const PLATFORMS: PlatformFactory[] = [slackPlatform, discordPlatform];

/** Composition root: constructs every service and platform from Config; nothing global. `start()` only starts. */
export async function createApp<M extends AppMode = 'serve'>(
  config: Config,
  opts: AppOptions<M> = {},
): Promise<App<M>> {
  const mode: AppMode = opts.mode ?? 'serve';
  const closers = new Closers();
  // First, before anything under the data directory is touched: one owner of its private redis-server.
  if (mode !== 'cli' && !config.redisUrl) closers.add(lockDataDir(config.dataDir, `onbehalf ${mode}`).release);
  try {
    const base = await buildBase(config, opts, closers);
    const app = mode === 'cli' ? cliApp(base, opts) : await serviceApp(base, opts, mode);
    return app as App<M>;
  } catch (err) {
    await closers.closeAll(5_000);
    throw err;
  }
}

/** The services of every mode, and what stopping them takes. */
interface Base {
  config: Config;
  log: Logger;
  metrics: Metrics;
  keyring: Keyring;
  /** The database as store code uses it (db/store.ts), on SQLite or Postgres. */
  store: Store;
  connections: ConnectionHookSet;
  links: LinkSigner;
  audit: AuditLog;
  identity: Identity;
  outbound: OutboundRouter;
  closers: Closers;
}

async function buildBase(config: Config, opts: AppOptions, closers: Closers): Promise<Base> {
  const log = createLogger(config.logLevel, opts.logDestination);
  closers.logTo(log);
  const keyring = buildKeyring(config, log);
  const store = await openStore(config, log);
  closers.add(() => store.close());
  logSealUpgrade(log, await upgradeSeals(store, keyring));
  return {
    config,
    log,
    metrics: createMetrics(),
    keyring,
    store,
    connections: new ConnectionHookSet(),
    links: new LinkSigner(keyring),
    audit: new AuditLog(store),
    identity: new Identity(store, config.admins),
    outbound: new OutboundRouter(),
    closers,
  };
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

function logSealUpgrade(log: Logger, r: Awaited<ReturnType<typeof upgradeSeals>>): void {
  if (r.resealed) log.info({ resealed: r.resealed }, 'sealed values upgraded to owner-bound AAD');
  for (const u of r.leftUnopened)
    log.warn(u, 'a sealed value of the old format was left as is; it will not open and must be set again');
}

/**
 * The database of DATABASE_URL: SQLite (the file, migrated) or Postgres (migrated at start-up; several
 * replicas starting at once take turns on an advisory lock, so each migration runs once).
 */
async function openStore(config: Config, log: Logger): Promise<Store> {
  if (!config.postgresUrl) return sqliteStore(openDb(config.databasePath));
  const { describePostgresUrl, migratePostgres, pgStore } = await import('./db/pg/index.js');
  const applied = await migratePostgres(config.postgresUrl);
  if (applied) log.info({ database: describePostgresUrl(config.postgresUrl), applied }, 'Postgres migrations applied');
  return pgStore(config.postgresUrl);
}

/** The network guard, policy and MCP pool: every outbound request a tenant admin can aim goes through `net`. */
function buildTools(b: Base, opts: AppOptions) {
  const net = new NetGuard({ ...opts.net, allowPrivate: b.config.allowPrivateUrls });
  b.closers.add(() => net.close());
  const policy = new Policy(b.store, b.keyring, { allowStdio: b.config.allowStdio, net });
  const pool = new McpPool(b.log.child({ part: 'mcp' }), { net });
  b.closers.add(() => pool.close());
  return { net, policy, pool };
}

/** `ONBEHALF_KEEPALIVE_HOURS=H`: a grant idle H/2 hours is refreshed by the next sweep; sweeps every H/24 hours. */
const keepAliveFor = (hours: number): KeepAliveOptions => ({
  idleMs: (hours * KEEPALIVE_DEFAULTS.idleMs) / 24,
  everyMs: Math.max(60_000, (hours * KEEPALIVE_DEFAULTS.everyMs) / 24),
});

/** Without Redis (`cli`) there are no grants to use: every provider is unknown. */
const noTokens = (config: Config): RunnerTokens => ({
  accessTokenFor: async (_o, _u, slug) => ({ kind: 'unknown_provider', providerSlug: slug }),
  connectLink: async () => `${config.publicUrl}/`,
});

/** Ends what `closers` holds, each step bounded by the grace period plus 5 s. */
const stopper = (b: Base, opts: AppOptions, state: { stopping: boolean }) => async () => {
  state.stopping = true;
  await b.closers.closeAll((opts.shutdownGraceMs ?? 10_000) + 5_000);
  b.log.flush?.();
};

function cliApp(b: Base, opts: AppOptions): CliApp {
  const { net, policy, pool } = buildTools(b, opts);
  const providers = new ProviderStore({ store: b.store, keyring: b.keyring, net, publicUrl: b.config.publicUrl });
  const { closers: _closers, ...services } = b;
  return {
    ...services,
    mode: 'cli',
    port: undefined,
    policy,
    providers,
    pool,
    catalog: new ToolCatalog(policy, pool, noTokens(b.config)),
    start: async () => {},
    stop: stopper(b, opts, { stopping: false }),
  };
}

/** Each platform Config turns on, plus those `opts` brings; each one's sender registered for every process. */
function buildPlatforms(b: Base, opts: AppOptions, receive: boolean, redis: AppRedis): ChatPlatform[] {
  const ctx = { ...b, receive, redis: redis.redis };
  const platforms = [...PLATFORMS.flatMap((make) => make(ctx) ?? []), ...(receive ? (opts.platforms ?? []) : [])];
  for (const p of platforms) b.outbound.register(p.name, p.outbound);
  return platforms;
}

async function serviceApp(b: Base, opts: AppOptions, mode: 'serve' | 'worker'): Promise<ServiceApp> {
  const { config, log } = b;
  const redis = await connectRedis(config, log);
  b.closers.add(redis.close);
  const platforms = buildPlatforms(b, opts, mode === 'serve', redis);
  const { net, policy, pool } = buildTools(b, opts);
  const oauth = new OAuthService({
    store: b.store,
    keyring: b.keyring,
    links: b.links,
    hooks: b.connections,
    audit: b.audit,
    metrics: b.metrics,
    redis: redis.redis,
    log: log.child({ part: 'oauth' }),
    publicUrl: config.publicUrl,
    clientMetadataUrl: config.clientMetadataUrl,
    net,
    signIn: chatSignIn(config),
    keepAlive: opts.keepAlive ?? keepAliveFor(config.keepAliveHours),
  });
  if (mode === 'serve' && config.configFile) {
    // Start-up stops on a mistake in the file (ConfigFileError names file, line and column).
    const plan = await applyAtStart({ ...b, policy, providers: oauth.providers }, config);
    log.info({ file: config.configFile.path, plan }, 'config file applied');
  }
  const catalog = new ToolCatalog(policy, pool, oauth);
  const { runner, turns, startTurns, ...more } = buildRunner({ ...b, opts, policy, pool, catalog, oauth, redis });
  b.closers.add(async () => {
    await runner.stop(opts.shutdownGraceMs ?? 10_000);
    await turns.stop(opts.shutdownGraceMs ?? 10_000);
  });
  const chat = buildChat({ ...b, ...more, runner, turns, policy, catalog, oauth }); // `more`: elicitations, titles
  const web =
    mode === 'serve' ? buildWeb(b, redis, oauth, [...(opts.routes ?? []), ...routesOf(platforms)]) : undefined;
  const workers = mode === 'serve' ? supervisor(b, opts, redis.url) : undefined;
  if (mode === 'serve') opsGauges(b, redis.redis, opts);
  const auditSink = mode === 'serve' ? auditSinkFor(b, net, redis.redis, opts.auditSink) : undefined;
  const { closers, ...services } = b;
  const state = { stopping: false };
  const app: ServiceApp = {
    ...services,
    mode,
    port: undefined,
    redisUrl: redis.url,
    redis: redis.redis,
    oauth,
    chat,
    policy,
    pool,
    catalog,
    runner,
    turns,
    platforms,
    workerPids: () => workers?.pids() ?? [],
    start: () => startServices(app, { redis, web, workers, closers, state, opts, startTurns, auditSink }),
    stop: stopper(b, opts, state),
  };
  return app;
}

/**
 * The tool-worker processes of `serve` (`ONBEHALF_WORKERS`), or none: workers then run in this
 * process — when the setting is 0, when the caller brings its own (`runner.startWorkers: false`),
 * when it brings a platform only this process can speak through (the terminal's shell), or when
 * the database is in memory (no other process could open it).
 */
function supervisor(b: Base, opts: AppOptions, redisUrl: string): WorkerSupervisor | undefined {
  const { config } = b;
  const inProcess =
    config.workers === 0 ||
    opts.runner?.startWorkers === false ||
    (opts.platforms?.length ?? 0) > 0 ||
    config.databasePath === ':memory:';
  if (inProcess) return undefined;
  return new WorkerSupervisor({
    count: config.workers,
    env: workerProcessEnv(config, {
      REDIS_URL: redisUrl,
      ONBEHALF_DATA_DIR: config.dataDir,
      DATABASE_URL: config.postgresUrl ?? `file:${config.databasePath}`,
    }),
    log: b.log.child({ part: 'workers' }),
    output: opts.logDestination ?? process.stdout,
  });
}

/** `/metrics` gauges of the whole deployment's state (queues, parked calls, grants needing reauth, failures). */
function opsGauges(b: Base, redis: AppRedis['redis'], opts: AppOptions): void {
  const status = new OpsStatus(b.store, redis, { prefix: opts.runner?.tuning?.prefix });
  b.closers.add(() => status.close());
  registerOpsGauges(b.metrics.registry, () => status.snapshot());
}

const routesOf = (platforms: readonly ChatPlatform[]) => platforms.flatMap((p) => p.routes ?? []);

/** The web server of `serve`: health, readiness (database, Redis), metrics, OAuth pages and the given routers. */
function buildWeb(b: Base, redis: AppRedis, oauth: OAuthService, routes: { path: string; router: Hono<WebEnv> }[]) {
  return createWeb({
    log: b.log,
    metrics: b.metrics,
    metricsToken: b.config.metricsToken,
    readiness: [
      { name: 'database', check: () => b.store.ping() },
      { name: 'redis', check: async () => void (await redis.redis.ping()) },
    ],
    routes: [
      { path: '/oauth', router: oauthRouter(oauth, { publicUrl: b.config.publicUrl }) },
      { path: '/me', router: meRouter(oauth, { publicUrl: b.config.publicUrl, told: browserNotices(b) }) },
      ...routes,
    ],
  });
}
