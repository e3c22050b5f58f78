// Every environment variable onbehalf reads: its schema and an example shown when it is wrong.
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
  .transform((u) => u.replace(/\/+$/, ''));

/** `ONBEHALF_ADMINS` entries: `slack:T…:U…`, `discord:G…:U…`, `shell:local:NAME`. */
export const chatIdentityPattern = /^(slack|discord|shell):[^:\s]+:[^:\s]+$/;

const keyEntry = /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=_-]+$/;

/** Each variable: its schema and an example shown when it is wrong. */
export const variables = {
  NODE_ENV: { schema: z.enum(['development', 'production', 'test']).default('development'), example: 'production' },
  PORT: { schema: z.coerce.number().int().min(0).max(65535).default(3000), example: '3000' },
  PUBLIC_URL: { schema: httpUrl.optional(), example: 'https://onbehalf.example.com' },
  ONBEHALF_DATA_DIR: { schema: z.string().min(1).default('./data'), example: './data' },
  DATABASE_URL: {
    schema: z
      .string()
      .regex(
        /^(file:)?[^:]+$|^file::memory:$|^:memory:$|^postgres(ql)?:\/\/.+/,
        'must be a SQLite file path, file:PATH, or a postgres:// URL',
      )
      .optional(),
    example: 'file:./data/onbehalf.db',
  },
  REDIS_URL: {
    schema: z
      .string()
      .regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL')
      .optional(),
    example: 'redis://127.0.0.1:6379',
  },
  ONBEHALF_KEYS: {
    schema: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean),
      )
      .refine((list) => list.length > 0, 'must list at least one key')
      .refine((list) => list.every((e) => keyEntry.test(e)), 'each entry must be id:base64')
      .optional(),
    example: 'k1:' + 'A'.repeat(43) + '=',
  },
  ONBEHALF_ADMINS: {
    schema: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean),
      )
      .refine((list) => list.every((e) => chatIdentityPattern.test(e)), 'each entry must be platform:workspace:user')
      .default([]),
    example: 'slack:T0123:U0456,discord:1122:3344,shell:local:alice',
  },
  ONBEHALF_ALLOW_STDIO: { schema: bool.default(false), example: 'true' },
  ONBEHALF_CONFIG: { schema: z.string().min(1).optional(), example: './onbehalf.yaml' },
  ONBEHALF_CLIENT_METADATA_URL: {
    schema: httpUrl.refine((u) => u.startsWith('https://'), 'must be an https:// URL').optional(),
    example: 'https://onbehalf.example.com/oauth/client.json',
  },
  ONBEHALF_ALLOW_PRIVATE_URLS: { schema: bool.default(false), example: 'false' },
  ONBEHALF_PARKED_MINUTES: { schema: z.coerce.number().int().min(1).max(10_080).default(60), example: '60' },
  ONBEHALF_MAX_QUEUED_PER_USER: { schema: z.coerce.number().int().min(1).max(100_000).default(20), example: '20' },
  ONBEHALF_MAX_PARKED_PER_USER: { schema: z.coerce.number().int().min(1).max(100_000).default(10), example: '10' },
  AUDIT_WEBHOOK_URL: { schema: httpUrl.optional(), example: 'https://siem.example.com/hooks/onbehalf' },
  AUDIT_WEBHOOK_SECRET: {
    schema: z.string().min(16, 'is too short (16+ characters)').optional(),
    example: '(a random string: openssl rand -hex 32)',
  },
  METRICS_TOKEN: {
    schema: z.string().min(16, 'is too short (16+ characters)').optional(),
    example: '(a random string: openssl rand -hex 32)',
  },
  ONBEHALF_JOB_LOCK_MS: { schema: z.coerce.number().int().min(1000).max(600_000).default(5000), example: '5000' },
  ONBEHALF_STALLED_CHECK_MS: {
    schema: z.coerce.number().int().min(500).max(600_000).default(2000),
    example: '2000',
  },
  // Tool workers in child processes of `serve` (app/workers.ts), not worker_threads: each runs
  // `onbehalf worker` as it is, so the supervised worker and a scaled-out one are the same code; a
  // crash, OOM or process.exit in a tool path (stdio servers, native modules) takes down only it; it
  // is stopped and recovered by pid like any worker. Measured on 2 loaded cores: a process was ready
  // in 3.5–3.9 s at 213–217 MB RSS, a worker_thread running the same composition root in 4.4–6.5 s
  // (the TypeScript loader starts again per thread) at +175 MB; threads would save ~40 MB each and
  // nothing the ack needs. Default 1: ingress off the tool event loop at the least memory; more
  // for tool throughput past one process (bench figure 3).
  ONBEHALF_WORKERS: { schema: z.coerce.number().int().min(0).max(64).default(1), example: '1' },
  // Providers such as Google (testing apps), Microsoft and Atlassian expire a refresh token left
  // unused for days to months; the shortest common idle limit is 24 h of some test tenants, so a
  // daily keep-alive keeps every such grant alive while costing one token request a grant a day.
  // 0 turns keep-alive off (for providers whose refresh tokens never idle out).
  ONBEHALF_KEEPALIVE_HOURS: { schema: z.coerce.number().int().min(0).max(8760).default(24), example: '24' },
  ONBEHALF_APPROVAL_MINUTES: { schema: z.coerce.number().int().min(1).max(1440).default(10), example: '10' },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    example: 'info',
  },
  SLACK_SIGNING_SECRET: { schema: z.string().min(8, 'is too short').optional(), example: '8f7e…(from the app page)' },
  SLACK_BOT_TOKEN: {
    schema: z
      .string()
      .regex(/^xoxb-/, 'must start with xoxb-')
      .optional(),
    example: 'xoxb-…',
  },
  SLACK_APP_TOKEN: {
    schema: z
      .string()
      .regex(/^xapp-/, 'must start with xapp-')
      .optional(),
    example: 'xapp-…',
  },
  SLACK_API_URL: { schema: httpUrl.optional(), example: 'https://slack.com/api' },
  SLACK_CLIENT_ID: {
    schema: z
      .string()
      .regex(/^\d+\.\d+$/, 'must look like 1234567890.1234567890')
      .optional(),
    example: '1234567890.1234567890',
  },
  SLACK_CLIENT_SECRET: {
    schema: z.string().min(8, 'is too short').optional(),
    example: '(from the app page, Basic Information)',
  },
  SLACK_STATE_SECRET: {
    schema: z.string().min(16, 'is too short (16+ characters)').optional(),
    example: '(any random string; default: derived from ONBEHALF_KEYS)',
  },
  SLACK_ADMINS_FROM_WORKSPACE: { schema: bool.default(false), example: 'true' },
  DISCORD_TOKEN: { schema: z.string().min(10, 'is too short').optional(), example: 'MTEx…(bot token)' },
  DISCORD_APPLICATION_ID: {
    schema: z.string().regex(/^\d+$/, 'must be a numeric snowflake').optional(),
    example: '112233445566778899',
  },
  DISCORD_API_URL: { schema: httpUrl.optional(), example: 'https://discord.com/api' },
  DISCORD_CLIENT_SECRET: {
    schema: z.string().min(8, 'is too short').optional(),
    example: '(from the Developer Portal, OAuth2)',
  },
  SLACK_OIDC_ISSUER: { schema: httpUrl.default('https://slack.com'), example: 'https://slack.com' },
  DISCORD_ADMINS_FROM_GUILD: { schema: bool.default(false), example: 'true' },
  DISCORD_MESSAGE_CONTENT: { schema: bool.default(false), example: 'false' },
  LLM_BASE_URL: { schema: httpUrl.optional(), example: 'https://api.openai.com/v1' },
  LLM_API_KEY: { schema: z.string().min(1).optional(), example: 'sk-…' },
  LLM_MODEL: { schema: z.string().min(1).optional(), example: 'gpt-4o-mini' },
} as const;

export type Vars = { [K in keyof typeof variables]: z.output<(typeof variables)[K]['schema']> };

/** Names of every variable, for README and `.env.example` checks. */
export const configVariableNames = Object.keys(variables);
