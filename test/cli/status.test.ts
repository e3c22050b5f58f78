import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir, testKey } from '../support/env.js';
import { world, type World } from '../support/world.js';

const wait = { timeout: 15_000, interval: 25 };

/** One sample of `/metrics` text, or undefined. */
const sample = (text: string, name: string, labels = '') =>
  text.match(new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm'))?.[1];

describe('onbehalf status and the /metrics gauges: the deployment at a glance', () => {
  let w: World;
  const key = testKey();
  const cwd = tempDir();
  beforeAll(async () => {
    w = await world({
      users: ['alice', 'bob', 'carol'],
      provider: 'vendor',
      servers: [{ name: 'web', grant: true }],
      // Access tokens live 1 s, so the next use of a grant refreshes it.
      oauth: { accessTtlSeconds: 1 },
      env: { ONBEHALF_KEYS: key },
    });
    await w.connect('bob');
    await w.connect('carol');
    // Alice never connected: her call waits for a grant at vendor.
    const alice = w.as('alice');
    await alice.send('/onbehalf run web.whoami {}');
    await alice.waitFor(/Connect vendor/);
    // Carol's grant dies at the provider; her next call finds it refused and waits for her to reconnect.
    w.oauth.killRefreshTokensOf('carol-at-vendor');
    const carol = w.as('carol');
    await vi.waitFor(async () => {
      const at = carol.output.length;
      await carol.send('/onbehalf run web.whoami {}');
      await carol.waitFor(/expired or was revoked|fp:/, at);
      expect(carol.output.slice(at)).toMatch(/expired or was revoked/);
    }, wait);
    // Bob's refresh finds the provider down (every attempt answered 503).
    await vi.waitFor(async () => {
      w.oauth.unavailable = 10;
      const r = await w.app.oauth.accessTokenFor(w.org.id, (await w.user('bob')).id, 'vendor');
      expect(r.kind).toBe('unavailable');
    }, wait);
    w.oauth.unavailable = 0;
  });
  afterAll(async () => {
    await w?.stop();
    cwd.cleanup();
  });

  // The running app's database and Redis (its Postgres database when the tests run on Postgres).
  const env = () => ({
    ONBEHALF_DATA_DIR: w.t.dataDir,
    REDIS_URL: w.redis!.url,
    ONBEHALF_KEYS: key,
    LOG_LEVEL: 'warn',
    ...(w.app.config.postgresUrl ? { DATABASE_URL: w.app.config.postgresUrl } : {}),
  });

  it('prints queues and workers, parked calls and connections needing reauth by provider, failures and the last errors', async () => {
    const r = await runCli(['status'], { cwd: cwd.dir, env: env(), timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Queues \(REDIS_URL=redis:\/\/127\.0\.0\.1:\d+\):$/m);
    // The tool and turn workers of the running app are connected to their queues.
    expect(out).toMatch(/^ {2}tool {2}waiting 0 · delayed 0 · active 0 · failed \d+ · workers [1-9]\d*$/m);
    expect(out).toMatch(/^ {2}turn {2}waiting 0 · delayed 0 · active 0 · failed \d+ · workers [1-9]\d*$/m);
    expect(out).toMatch(/^Parked calls \(waiting for a grant\): vendor 2$/m);
    expect(out).toMatch(/^Connections needing reauth: vendor 1$/m);
    expect(out).toMatch(
      /^Failures \(last hour\): refresh 1 provider unreachable, 1 refused \(grant dead\); notify 0$/m,
    );
    expect(out).toMatch(/^Last errors:\n(?: {2}.+\n)*? {2}\S+ \S+ connection\.refresh_failed unavailable vendor$/m);
    expect(out).toMatch(/ {2}\S+ \S+ connection\.needs_reauth needs_reauth vendor$/m);
    const json = await runCli(['status', '--json'], { cwd: cwd.dir, env: env(), timeoutMs: 30_000 });
    expect(JSON.parse(json.stdout)).toMatchObject({
      parked: [{ provider: 'vendor', count: 2 }],
      needsReauth: [{ provider: 'vendor', count: 1 }],
      refreshFailures: { unavailable: 1, needs_reauth: 1 },
      notifyFailures: 0,
    });
  });

  it('says when the queues cannot be read, and exits 1', async () => {
    const r = await runCli(['status'], {
      cwd: cwd.dir,
      env: { ...env(), REDIS_URL: 'redis://127.0.0.1:1' },
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Queues: unknown, REDIS_URL=redis:\/\/127\.0\.0\.1:1 did not answer \(.+\)$/m);
    expect(r.stdout).toMatch(/^Parked calls \(waiting for a grant\): vendor 2$/m);
  });

  it('/metrics has the same numbers as gauges', async () => {
    const text = await (await fetch(`${w.t.baseUrl}/metrics`)).text();
    expect(sample(text, 'onbehalf_parked_calls', '{provider="vendor"}')).toBe('2');
    expect(sample(text, 'onbehalf_connections_needs_reauth', '{provider="vendor"}')).toBe('1');
    expect(sample(text, 'onbehalf_refresh_failures_last_hour', '{result="unavailable"}')).toBe('1');
    expect(sample(text, 'onbehalf_refresh_failures_last_hour', '{result="needs_reauth"}')).toBe('1');
    expect(sample(text, 'onbehalf_notify_failures_last_hour')).toBe('0');
    expect(Number(sample(text, 'onbehalf_queue_workers', '{queue="tool"}'))).toBeGreaterThan(0);
    expect(sample(text, 'onbehalf_queue_jobs', '{queue="tool",state="waiting"}')).toBe('0');
    expect(sample(text, 'onbehalf_queue_jobs', '{queue="turn",state="active"}')).toBe('0');
  });
});
