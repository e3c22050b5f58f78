import type { AuditSinkOptions } from '../audit/sink.js';
import type { DestinationStream } from 'pino';
import type { Redis } from 'ioredis';
import type { Hono } from 'hono';
import type { AuditLog } from '../audit/index.js';
import type { ChatInbound, OutboundRouter } from '../chat/index.js';
import type { ChatPlatform } from '../chat/platform.js';
import type { Config } from '../config.js';
import type { Keyring, LinkSigner } from '../crypto/index.js';
import type { Store } from '../db/index.js';
import type { Identity } from '../identity/index.js';
import type { Logger } from '../log.js';
import type { McpPool } from '../mcp/index.js';
import type { Metrics } from '../metrics.js';
import type { NetGuardOptions } from '../net/index.js';
import type { ConnectionHookSet, KeepAliveOptions, OAuthService, ProviderStore } from '../oauth/index.js';
import type { Policy } from '../policy/index.js';
import type { ToolCatalog, TurnJob, TurnQueue } from '../agent/index.js';
import type { Runner, RunnerNotifier, RunnerTuning } from '../runner/index.js';
import type { WebEnv } from '../web/index.js';

/** Which parts of the product a process runs. */
export type AppMode = 'serve' | 'worker' | 'cli';

/** Runner seams and tunables of `AppOptions`. */
export interface RunnerOptions {
  /** Default: posts through the app's `outbound`. */
  notifier?: RunnerNotifier;
  /** Default: the agent. */
  turnProcessor?: (turn: TurnJob) => Promise<void>;
  tuning?: RunnerTuning;
  /** Run tool workers in this process (`serve`, `worker`). Default true; tests that bring their own worker processes say false. */
  startWorkers?: boolean;
}

export interface AppOptions<M extends AppMode = AppMode> {
  /** Default `serve`. */
  mode?: M;
  /** Where log lines go; default stdout. Tests capture them here. */
  logDestination?: DestinationStream;
  /** How long `stop()` lets running work finish. Default 10000 ms. */
  shutdownGraceMs?: number;
  /** Extra routers mounted on the web server (the demo's provider and MCP server). */
  routes?: { path: string; router: Hono<WebEnv> }[];
  /** Platforms beyond those Config turns on, started with them in `serve` (the terminal commands' shell). Default none. */
  platforms?: ChatPlatform[];
  /** Address the web server binds. Default `0.0.0.0`; the terminal commands bind `127.0.0.1`. */
  hostname?: string;
  /** Runner seams and tunables: the chat notifier (default: posts through `outbound`), the agent, timings. */
  runner?: RunnerOptions;
  /** Keep-alive timings instead of those `ONBEHALF_KEEPALIVE_HOURS` implies (tests run it in milliseconds). */
  keepAlive?: KeepAliveOptions;
  /** Audit sink timings (`AUDIT_WEBHOOK_URL`). Default `AUDIT_SINK_DEFAULTS`. */
  auditSink?: AuditSinkOptions;
  /** Tests only: how the network guard resolves names and which loopback addresses play public ones. */
  net?: Pick<NetGuardOptions, 'resolve' | 'allowAddresses' | 'allowHttp'>;
}

/** What every process has, built from Config by `createApp`. */
export interface AppBase {
  config: Config;
  log: Logger;
  /** The database as store code uses it (db/store.ts), on SQLite or Postgres. */
  store: Store;
  keyring: Keyring;
  links: LinkSigner;
  metrics: Metrics;
  /** What the OAuth engine calls when a grant arrives, is held or refused (chat speaks, the runner resumes). */
  connections: ConnectionHookSet;
  audit: AuditLog;
  identity: Identity;
  /** Bound HTTP port once started in `serve` mode. */
  port: number | undefined;
  /** Senders per platform (each configured platform's `outbound`), usable from any process. */
  outbound: OutboundRouter;
  /** MCP servers, bindings, access rules, secrets, teams. */
  policy: Policy;
  /** MCP clients and stdio processes per (server, caller credential set). */
  pool: McpPool;
  /** Each caller's tools (`catalogFor`) and `testServer`. */
  catalog: ToolCatalog;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A `serve` or `worker` process: Redis, the OAuth engine, the runner, the chat core and its platforms. */
export interface ServiceApp extends AppBase {
  mode: 'serve' | 'worker';
  /** Redis URL in use (private or REDIS_URL). */
  redisUrl: string;
  /** Fail-fast connection for ingress. */
  redis: Redis;
  /** The OAuth engine (providers, connect links, tokens). */
  oauth: OAuthService;
  /** The chat core; `start()` hands this one to each platform (tests may set another before). */
  chat: ChatInbound;
  /** The tool queue, parking and approvals; workers run in this process unless `runner.startWorkers` is false. */
  runner: Runner;
  /** The agent's turn queue; its worker starts with the tool workers. */
  turns: TurnQueue;
  /** The chat platforms, built up front; `serve` starts them, a worker only sends through them. */
  platforms: readonly ChatPlatform[];
  /** Pids of the tool-worker processes `serve` supervises (`ONBEHALF_WORKERS`); empty when workers run in this process. */
  workerPids(): number[];
}

/** A `cli` process (`keys rotate`): the database and policy, no Redis and nothing that needs it. */
export interface CliApp extends AppBase {
  mode: 'cli';
  /** OAuth providers (no connect flows without Redis): what `config apply` and `config export` change and read. */
  providers: ProviderStore;
}

/** The running product in mode `M` (default `serve`). */
export type App<M extends AppMode = 'serve'> = M extends 'cli' ? CliApp : ServiceApp;
