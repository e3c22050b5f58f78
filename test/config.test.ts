import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../src/config.js';
import { testKey, tempDir } from './support/env.js';
import { runCli } from './support/cli.js';

const errorOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('starts on embedded defaults with no environment at all', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.databasePath).toMatch(/data\/onbehalf\.db$/);
    expect(c.redisUrl).toBeUndefined();
    expect(c.llm).toBeUndefined();
    expect(c.admins).toEqual([]);
    expect(c.approvalMinutes).toBe(10);
    expect(loadConfig({ ONBEHALF_APPROVAL_MINUTES: '3' }).approvalMinutes).toBe(3);
    expect(c.keepAliveHours).toBe(24);
    expect(loadConfig({ ONBEHALF_KEEPALIVE_HOURS: '0' }).keepAliveHours).toBe(0);
    expect(loadConfig({})).toMatchObject({ jobLockMs: 5000, stalledCheckMs: 2000, workers: 1 });
    expect(loadConfig({ ONBEHALF_JOB_LOCK_MS: '20000', ONBEHALF_STALLED_CHECK_MS: '10000' })).toMatchObject({
      jobLockMs: 20000,
      stalledCheckMs: 10000,
    });
  });

  const cases: [string, Record<string, string>, RegExp][] = [
    ['PORT not a number', { PORT: 'eighty' }, /^PORT .*\(example: PORT=3000\)$/],
    ['PORT out of range', { PORT: '70000' }, /^PORT .*\(example: PORT=3000\)$/],
    ['PUBLIC_URL not a URL', { PUBLIC_URL: 'onbehalf.example.com' }, /^PUBLIC_URL .*example: PUBLIC_URL=https:/],
    ['PUBLIC_URL not http', { PUBLIC_URL: 'ftp://x.example.com' }, /^PUBLIC_URL must start with http/],
    [
      'REDIS_URL wrong scheme',
      { REDIS_URL: 'http://127.0.0.1:6379' },
      /^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/,
    ],
    [
      'DATABASE_URL neither SQLite nor Postgres',
      { DATABASE_URL: 'mysql://db/x' },
      /^DATABASE_URL must be a SQLite file path, file:PATH, or a postgres:\/\/ URL/,
    ],
    [
      'Postgres without sealing keys',
      { DATABASE_URL: 'postgres://onbehalf@db.internal:5432/onbehalf' },
      /^ONBEHALF_KEYS is required with a Postgres DATABASE_URL: every machine must open the values the others sealed/,
    ],
    ['ONBEHALF_KEYS malformed', { ONBEHALF_KEYS: 'nocolon' }, /^ONBEHALF_KEYS each entry must be id:base64/],
    [
      'ONBEHALF_KEYS short key',
      { ONBEHALF_KEYS: 'k1:c2hvcnQ=' },
      /^ONBEHALF_KEYS key "k1" must be 32 bytes of base64 \(got 5\)/,
    ],
    [
      'ONBEHALF_KEYS duplicate id',
      { ONBEHALF_KEYS: `${testKey('a')},${testKey('a')}` },
      /^ONBEHALF_KEYS has a key id twice/,
    ],
    [
      'production without keys',
      { NODE_ENV: 'production', PUBLIC_URL: 'https://x.example.com' },
      /^ONBEHALF_KEYS is required when NODE_ENV=production/,
    ],
    [
      'production without PUBLIC_URL',
      { NODE_ENV: 'production', ONBEHALF_KEYS: testKey() },
      /^PUBLIC_URL is required when NODE_ENV=production/,
    ],
    ['NODE_ENV unknown', { NODE_ENV: 'staging' }, /^NODE_ENV must be one of development, production, test/],
    [
      'ONBEHALF_ADMINS malformed',
      { ONBEHALF_ADMINS: 'alice' },
      /^ONBEHALF_ADMINS each entry must be platform:workspace:user/,
    ],
    [
      'ONBEHALF_ALLOW_STDIO not boolean',
      { ONBEHALF_ALLOW_STDIO: 'maybe' },
      /^ONBEHALF_ALLOW_STDIO must be one of .*true, false/,
    ],
    ['SLACK_BOT_TOKEN wrong kind', { SLACK_BOT_TOKEN: 'xoxp-123' }, /^SLACK_BOT_TOKEN must start with xoxb-/],
    [
      'SLACK_BOT_TOKEN without a way in',
      { SLACK_BOT_TOKEN: 'xoxb-123' },
      /^SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set/,
    ],
    ['SLACK_APP_TOKEN wrong kind', { SLACK_APP_TOKEN: 'xoxb-1' }, /^SLACK_APP_TOKEN must start with xapp-/],
    [
      'DISCORD_TOKEN without application id',
      { DISCORD_TOKEN: 'abcdefghijkl' },
      /^DISCORD_APPLICATION_ID is required when DISCORD_TOKEN is set/,
    ],
    [
      'DISCORD_APPLICATION_ID not numeric',
      { DISCORD_APPLICATION_ID: 'abc' },
      /^DISCORD_APPLICATION_ID must be a numeric snowflake/,
    ],
    [
      'LLM_BASE_URL without model',
      { LLM_BASE_URL: 'http://127.0.0.1:9/v1' },
      /^LLM_MODEL is required when LLM_BASE_URL is set/,
    ],
    [
      'ONBEHALF_APPROVAL_MINUTES not a number',
      { ONBEHALF_APPROVAL_MINUTES: 'soon' },
      /^ONBEHALF_APPROVAL_MINUTES .*\(example: ONBEHALF_APPROVAL_MINUTES=10\)$/,
    ],
    [
      'ONBEHALF_KEEPALIVE_HOURS negative',
      { ONBEHALF_KEEPALIVE_HOURS: '-1' },
      /^ONBEHALF_KEEPALIVE_HOURS .*\(example: ONBEHALF_KEEPALIVE_HOURS=24\)$/,
    ],
    [
      'a stalled check slower than the job lock',
      { ONBEHALF_JOB_LOCK_MS: '5000', ONBEHALF_STALLED_CHECK_MS: '8000' },
      /^ONBEHALF_STALLED_CHECK_MS must not exceed ONBEHALF_JOB_LOCK_MS \(5000\)/,
    ],
    ['LOG_LEVEL unknown', { LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [
      'a client metadata document URL that is not https',
      { ONBEHALF_CLIENT_METADATA_URL: 'http://onbehalf.example.com/oauth/client.json' },
      /^ONBEHALF_CLIENT_METADATA_URL must be an https:\/\/ URL/,
    ],
  ];
  for (const [name, env, expected] of cases) {
    it(`rejects ${name} in one line naming the variable`, () => {
      const msg = errorOf(env);
      expect(msg).toMatch(expected);
      expect(msg).not.toContain('\n');
      expect(msg).toMatch(/\(example: [A-Z_]+=.+\)$/);
    });
  }

  it('recognises a Postgres DATABASE_URL', () => {
    for (const url of ['postgres://u:pw@db.internal:5432/onbehalf', 'postgresql://db.internal/onbehalf']) {
      const c = loadConfig({ DATABASE_URL: url, ONBEHALF_KEYS: testKey() });
      expect(c.postgresUrl).toBe(url);
    }
    expect(loadConfig({ DATABASE_URL: 'file:./x.db' }).postgresUrl).toBeUndefined();
  });

  it('with Postgres, `onbehalf serve` refuses in one line: without keys naming ONBEHALF_KEYS, with them naming the database it cannot reach (never its password)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const env = { PORT: '0', ONBEHALF_DATA_DIR: dir, DATABASE_URL: 'postgres://onbehalf:pw@127.0.0.1:9/onbehalf' };
      const noKeys = await runCli(['serve'], { cwd: dir, env, timeoutMs: 20_000 });
      expect(noKeys.code).toBe(2);
      expect(noKeys.stderr).toMatch(/^onbehalf: ONBEHALF_KEYS is required with a Postgres DATABASE_URL[^\n]*\n$/);
      const keyed = await runCli(['serve'], { cwd: dir, env: { ...env, ONBEHALF_KEYS: testKey() }, timeoutMs: 20_000 });
      expect(keyed.stderr).toMatch(
        /^onbehalf: cannot use the Postgres database 127\.0\.0\.1:9\/onbehalf of DATABASE_URL: ECONNREFUSED\n$/,
      );
      expect(keyed.stderr + keyed.stdout).not.toContain(':pw@');
    } finally {
      cleanup();
    }
  });

  it('never echoes a rejected key value back', () => {
    const bad = 'k1:' + Buffer.from('sixteen-byte-key').toString('base64');
    expect(errorOf({ ONBEHALF_KEYS: bad })).not.toContain(bad.slice(3));
  });

  it('a bad value stops `onbehalf serve` with exit 2 and one line on stderr', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const r = await runCli(['serve'], { cwd: dir, env: { PORT: 'eighty' } });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^onbehalf: PORT .*example: PORT=3000/);
    } finally {
      cleanup();
    }
  });

  it('loads .env from the working directory', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${dir}/.env`, 'PORT=nope\n');
      const r = await runCli(['migrate'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/PORT/);
    } finally {
      cleanup();
    }
  });
});

describe('configuration is documented', () => {
  it('every variable appears in .env.example and README.md', async () => {
    const { readFileSync } = await import('node:fs');
    const { configVariableNames } = await import('../src/config.js');
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const missing = configVariableNames.filter((n) => !example.includes(n) || !readme.includes(n));
    expect(missing).toEqual([]);
  });
});
