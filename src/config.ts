import { existsSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { configVariableNames, variables, type Vars } from './config-vars.js';
import { CodedError } from './errors.js';

export { chatIdentityPattern } from './config-vars.js';

/** A start-up configuration problem; `message` is the one line shown to the operator. */
export class ConfigError extends CodedError {
  readonly code = 'config_invalid';
}

/** Typed configuration; built once by `loadConfig`, passed to `createApp`. */
export interface Config {
  env: Vars['NODE_ENV'];
  port: number;
  /** Base URL users reach; default `http://localhost:PORT`. */
  publicUrl: string;
  dataDir: string;
  /** SQLite file path, or `:memory:`. Default `<dataDir>/onbehalf.db`. Unused when `postgresUrl` is set. */
  databasePath: string;
  /** `DATABASE_URL=postgres://…`: the Postgres database. Unset: SQLite. */
  postgresUrl: string | undefined;
  /** Unset: a private redis-server is started under `<dataDir>/redis`. */
  redisUrl: string | undefined;
  /** Raw `id:base64` entries; the first seals. Unset: a generated dev key (not in production). */
  keys: string[] | undefined;
  admins: string[];
  allowStdio: boolean;
  /**
   * `ONBEHALF_CONFIG`: the config file applied at start (`config apply`), with the environment its
   * `env:NAME` secret references read. Unset: everything is configured in chat.
   */
  configFile: { path: string; env: Readonly<Record<string, string | undefined>> } | undefined;
  allowPrivateUrls: boolean;
  /** The client id used with authorization servers that accept CIMD. Default `publicUrl + /oauth/client.json`. */
  clientMetadataUrl: string | undefined;
  /** Parked tool calls waiting for a grant longer than this are cancelled. Default 60 minutes. */
  parkedMinutes: number;
  /** BullMQ lock of a running tool job, and how often stalled jobs are looked for (runner/tuning.ts RECOVERY). */
  jobLockMs: number;
  stalledCheckMs: number;
  /** Tool-worker processes `serve` supervises (`app/workers.ts`); 0 runs the workers inside `serve`. Default 1. */
  workers: number;
  /** The raw value of every variable that was set, as read: what a supervised worker process is started with. */
  vars: Record<string, string>;
  /** Tool calls one user may have queued, running or awaiting approval at once; more are refused. Default 20. */
  maxQueuedPerUser: number;
  /** Tool calls one user may have parked at once; past it a call that must park fails. Default 10. */
  maxParkedPerUser: number;
  /** Set: `/metrics` requires `Authorization: Bearer <token>`. Unset: `/metrics` is open. */
  metricsToken: string | undefined;
  /** `AUDIT_WEBHOOK_URL` (+ `AUDIT_WEBHOOK_SECRET`): every audit event is also delivered there as JSON lines. */
  auditWebhook: { url: string; secret: string | undefined } | undefined;
  /** Tool calls the model chose that wait for the caller's approval longer than this are cancelled. Default 10 minutes. */
  approvalMinutes: number;
  /** Idle grants are refreshed at least once per this many hours (`ONBEHALF_KEEPALIVE_HOURS`); 0: off. Default 24. */
  keepAliveHours: number;
  logLevel: Vars['LOG_LEVEL'];
  slack: {
    signingSecret?: string;
    botToken?: string;
    appToken?: string;
    apiUrl?: string;
    /** Multi-workspace install flow (`SLACK_CLIENT_ID`/`SLACK_CLIENT_SECRET`); unset: single workspace with SLACK_BOT_TOKEN. */
    clientId?: string;
    clientSecret?: string;
    stateSecret?: string;
    /** OpenID issuer of Sign in with Slack (used when SLACK_CLIENT_ID/SECRET are set). Default https://slack.com. */
    oidcIssuer: string;
    /** Workspace owners/admins (users.info) become admins. Default false. */
    adminsFromWorkspace: boolean;
  };
  discord: {
    token?: string;
    applicationId?: string;
    apiUrl?: string;
    /** OAuth2 `identify` sign-in for connect links (with DISCORD_APPLICATION_ID). Unset: no Discord sign-in. */
    clientSecret?: string;
    /** Members with Administrator or Manage Guild become admins. Default false. */
    adminsFromGuild?: boolean;
    /** Request the privileged MessageContent intent. Default false (mentions and DMs still carry text). */
    messageContent?: boolean;
  };
  /** Unset: direct mode (no LLM). */
  llm: { baseUrl: string; apiKey?: string; model: string } | undefined;
}

function oneLine(name: string, issue: z.core.$ZodIssue, example: string): string {
  const what =
    issue.code === 'invalid_value' && 'values' in issue ? `must be one of ${issue.values.join(', ')}` : issue.message;
  return `${name} ${what.replace(/^Invalid input: /, 'is invalid: ')} (example: ${name}=${example})`;
}

/**
 * Reads the environment into a Config. `env` defaults to `process.env` after loading `.env`
 * from the working directory if present. Throws ConfigError with one line naming the variable.
 */
export function loadConfig(env?: Record<string, string | undefined>): Config {
  if (!env) {
    if (existsSync('.env')) process.loadEnvFile('.env');
    env = process.env;
  }
  const out: Record<string, unknown> = {};
  const vars: Record<string, string> = {};
  for (const [name, spec] of Object.entries(variables)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') vars[name] = raw;
    const parsed = spec.schema.safeParse(raw === '' ? undefined : raw);
    if (!parsed.success) throw new ConfigError(oneLine(name, parsed.error.issues[0]!, spec.example));
    out[name] = parsed.data;
  }
  const v = out as Vars;
  return { ...assemble(v, env), vars };
}

const fail = (name: string, what: string, example: string): never => {
  throw new ConfigError(`${name} ${what} (example: ${name}=${example})`);
};

/** The sealing keys: required in production and with Postgres, each 32 bytes, no id twice. */
function checkKeys(v: Vars): void {
  // Replicas sharing one database must open each other's seals: a per-machine dev key cannot.
  if (isPostgres(v.DATABASE_URL) && !v.ONBEHALF_KEYS)
    fail(
      'ONBEHALF_KEYS',
      'is required with a Postgres DATABASE_URL: every machine must open the values the others sealed, so the per-machine development key cannot be used (generate one: openssl rand -base64 32; give every machine the same list)',
      variables.ONBEHALF_KEYS.example,
    );
  if (v.NODE_ENV === 'production' && !v.ONBEHALF_KEYS) {
    fail(
      'ONBEHALF_KEYS',
      'is required when NODE_ENV=production (generate one: openssl rand -base64 32)',
      variables.ONBEHALF_KEYS.example,
    );
  }
  for (const entry of v.ONBEHALF_KEYS ?? []) {
    const key = Buffer.from(entry.slice(entry.indexOf(':') + 1), 'base64');
    if (key.length !== 32)
      fail(
        'ONBEHALF_KEYS',
        `key "${entry.slice(0, entry.indexOf(':'))}" must be 32 bytes of base64 (got ${key.length})`,
        variables.ONBEHALF_KEYS.example,
      );
  }
  const ids = (v.ONBEHALF_KEYS ?? []).map((e) => e.slice(0, e.indexOf(':')));
  if (new Set(ids).size !== ids.length) fail('ONBEHALF_KEYS', 'has a key id twice', variables.ONBEHALF_KEYS.example);
}

/** Variables that only make sense together: each missing partner is named. */
function checkPairs(v: Vars): void {
  if (v.LLM_BASE_URL && !v.LLM_MODEL)
    fail('LLM_MODEL', 'is required when LLM_BASE_URL is set', variables.LLM_MODEL.example);
  if (v.SLACK_BOT_TOKEN && !v.SLACK_SIGNING_SECRET && !v.SLACK_APP_TOKEN) {
    fail(
      'SLACK_SIGNING_SECRET',
      'is required when SLACK_BOT_TOKEN is set (or set SLACK_APP_TOKEN for Socket Mode)',
      variables.SLACK_SIGNING_SECRET.example,
    );
  }
  if (Boolean(v.SLACK_CLIENT_ID) !== Boolean(v.SLACK_CLIENT_SECRET)) {
    fail(
      v.SLACK_CLIENT_ID ? 'SLACK_CLIENT_SECRET' : 'SLACK_CLIENT_ID',
      'is required with the other for the Slack install flow',
      v.SLACK_CLIENT_ID ? variables.SLACK_CLIENT_SECRET.example : variables.SLACK_CLIENT_ID.example,
    );
  }
  // SLACK_CLIENT_ID beside SLACK_BOT_TOKEN: one workspace, with Sign in with Slack for connect links (no install flow).
  if (v.DISCORD_CLIENT_SECRET && !v.DISCORD_APPLICATION_ID)
    fail(
      'DISCORD_APPLICATION_ID',
      'is required when DISCORD_CLIENT_SECRET is set',
      variables.DISCORD_APPLICATION_ID.example,
    );
  if (v.SLACK_CLIENT_ID && !v.SLACK_SIGNING_SECRET && !v.SLACK_APP_TOKEN) {
    fail(
      'SLACK_SIGNING_SECRET',
      'is required when SLACK_CLIENT_ID is set (or set SLACK_APP_TOKEN for Socket Mode)',
      variables.SLACK_SIGNING_SECRET.example,
    );
  }
  if (v.DISCORD_TOKEN && !v.DISCORD_APPLICATION_ID)
    fail('DISCORD_APPLICATION_ID', 'is required when DISCORD_TOKEN is set', variables.DISCORD_APPLICATION_ID.example);
  if (v.ONBEHALF_STALLED_CHECK_MS > v.ONBEHALF_JOB_LOCK_MS)
    fail(
      'ONBEHALF_STALLED_CHECK_MS',
      `must not exceed ONBEHALF_JOB_LOCK_MS (${v.ONBEHALF_JOB_LOCK_MS}), or a dead worker's call waits more than one extra check`,
      variables.ONBEHALF_STALLED_CHECK_MS.example,
    );
  if (v.NODE_ENV === 'production' && !v.PUBLIC_URL)
    fail('PUBLIC_URL', 'is required when NODE_ENV=production', variables.PUBLIC_URL.example);
}

const isPostgres = (url: string | undefined): url is string => /^postgres(ql)?:\/\//.test(url ?? '');

function assemble(v: Vars, env: Readonly<Record<string, string | undefined>>): Omit<Config, 'vars'> {
  checkKeys(v);
  checkPairs(v);
  const postgresUrl = isPostgres(v.DATABASE_URL) ? v.DATABASE_URL : undefined;
  const dbUrl = postgresUrl ? undefined : v.DATABASE_URL?.replace(/^file:/, '');
  return {
    env: v.NODE_ENV,
    port: v.PORT,
    publicUrl: v.PUBLIC_URL ?? `http://localhost:${v.PORT}`,
    dataDir: path.resolve(v.ONBEHALF_DATA_DIR),
    databasePath:
      dbUrl === ':memory:' ? ':memory:' : path.resolve(dbUrl ?? path.join(v.ONBEHALF_DATA_DIR, 'onbehalf.db')),
    postgresUrl,
    redisUrl: v.REDIS_URL,
    keys: v.ONBEHALF_KEYS,
    admins: v.ONBEHALF_ADMINS,
    allowStdio: v.ONBEHALF_ALLOW_STDIO,
    configFile: v.ONBEHALF_CONFIG ? { path: path.resolve(v.ONBEHALF_CONFIG), env } : undefined,
    allowPrivateUrls: v.ONBEHALF_ALLOW_PRIVATE_URLS,
    clientMetadataUrl: v.ONBEHALF_CLIENT_METADATA_URL,
    parkedMinutes: v.ONBEHALF_PARKED_MINUTES,
    maxQueuedPerUser: v.ONBEHALF_MAX_QUEUED_PER_USER,
    maxParkedPerUser: v.ONBEHALF_MAX_PARKED_PER_USER,
    metricsToken: v.METRICS_TOKEN,
    auditWebhook: v.AUDIT_WEBHOOK_URL ? { url: v.AUDIT_WEBHOOK_URL, secret: v.AUDIT_WEBHOOK_SECRET } : undefined,
    approvalMinutes: v.ONBEHALF_APPROVAL_MINUTES,
    keepAliveHours: v.ONBEHALF_KEEPALIVE_HOURS,
    jobLockMs: v.ONBEHALF_JOB_LOCK_MS,
    stalledCheckMs: v.ONBEHALF_STALLED_CHECK_MS,
    workers: v.ONBEHALF_WORKERS,
    logLevel: v.LOG_LEVEL,
    slack: {
      signingSecret: v.SLACK_SIGNING_SECRET,
      botToken: v.SLACK_BOT_TOKEN,
      appToken: v.SLACK_APP_TOKEN,
      apiUrl: v.SLACK_API_URL,
      clientId: v.SLACK_CLIENT_ID,
      clientSecret: v.SLACK_CLIENT_SECRET,
      stateSecret: v.SLACK_STATE_SECRET,
      oidcIssuer: v.SLACK_OIDC_ISSUER.replace(/\/+$/, ''),
      adminsFromWorkspace: v.SLACK_ADMINS_FROM_WORKSPACE,
    },
    discord: {
      token: v.DISCORD_TOKEN,
      applicationId: v.DISCORD_APPLICATION_ID,
      apiUrl: v.DISCORD_API_URL,
      clientSecret: v.DISCORD_CLIENT_SECRET,
      adminsFromGuild: v.DISCORD_ADMINS_FROM_GUILD,
      messageContent: v.DISCORD_MESSAGE_CONTENT,
    },
    llm: v.LLM_BASE_URL ? { baseUrl: v.LLM_BASE_URL, apiKey: v.LLM_API_KEY, model: v.LLM_MODEL! } : undefined,
  };
}

/** Names of every variable, for README and `.env.example` checks. */
export { configVariableNames } from './config-vars.js';

/**
 * The environment of a worker process `serve` supervises: this process's own (PATH, proxies, CA
 * files) without any configuration variable, then exactly the variables `config` was read from,
 * then `overrides` (the Redis `serve` uses). So the worker is configured as `serve` is, even when
 * `config` came from somewhere other than the environment.
 */
export function workerProcessEnv(config: Config, overrides: Record<string, string>): Record<string, string> {
  const known = new Set(configVariableNames);
  const runtime = Object.entries(process.env).filter(
    (e): e is [string, string] => e[1] !== undefined && !known.has(e[0]),
  );
  return { ...Object.fromEntries(runtime), ...config.vars, ...overrides };
}
