import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/crypto/index.js';
import { startCli } from '../support/cli.js';
import { tempDir, testKey } from '../support/env.js';
import { startMcpHttpServer, type TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { startTestRedis } from '../support/redis.js';
import { startHarness, type Harness } from './harness.js';
import { until } from './processes.js';

const TOKEN = 'cli-worker-CANARY-token-88';
let redis: Awaited<ReturnType<typeof startTestRedis>>;
let http: TestMcpHttpServer;
let h: Harness;
const tmp = tempDir('onbehalf-cliworker-');
const key = testKey();
const dbFile = path.join(tmp.dir, 'data', 'onbehalf.db');

beforeAll(async () => {
  redis = await startTestRedis();
  http = await startMcpHttpServer();
  h = await startHarness(redis.url, { workers: false, dbFile, keys: [key] });
  await h.policy.addServer(h.org.id, { name: 'web', transport: 'http', url: http.url });
  await h.policy.bind(h.org.id, 'web', 'header', 'Authorization', 'user_secret:token', 'Bearer {token}');
  await h.policy.setSecret(h.org.id, 'user', (await h.user('alice')).id, 'token', new Secret(TOKEN));
});
afterAll(async () => {
  await h?.stop();
  await http?.stop();
  await redis?.stop();
  tmp.cleanup();
});

describe('onbehalf worker', () => {
  it('runs tool workers alone, runs queued calls, and exits 0 on SIGTERM', async () => {
    const id = await h.call('alice', 'web', 'whoami');
    const run = await startCli(['worker'], {
      cwd: tmp.dir,
      ready: /tool workers started/,
      timeoutMs: 30_000,
      env: {
        REDIS_URL: redis.url,
        ONBEHALF_KEYS: key,
        DATABASE_URL: `file:${dbFile}`,
        ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
      },
    });
    try {
      await until(
        async () => (await h.runner.executor.calls.get(id))?.status === 'succeeded',
        20_000,
        'the call to run',
      );
      expect(http.calls.at(-1)).toMatchObject({ tool: 'whoami', seen: { authorization: `Bearer ${TOKEN}` } });
      // No web server in worker mode.
      expect(run.output()).not.toMatch(/onbehalf is listening/);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.output()).not.toContain(TOKEN);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  });
});
