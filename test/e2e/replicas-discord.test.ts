import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/redis/index.js';
import { startCli } from '../support/cli.js';
import { FakeDiscord, snowflake, type FakeUser, type RecordedCall } from '../support/discord-fake.js';
import { tempDir, testKey } from '../support/env.js';
import { startTestRedis } from '../support/redis.js';
import { until } from '../runner/processes.js';

const BOT_TOKEN = 'MTEx.replicas-canary.' + 'r'.repeat(24);
type Replica = Awaited<ReturnType<typeof startCli>> & { name: string; url: string };

describe('two serve replicas on one bot: exactly one holds the Discord gateway', () => {
  const tmp = tempDir('onbehalf-replicas-discord-');
  const guildId = snowflake();
  const channelId = snowflake();
  const alice: FakeUser = { id: snowflake(), username: 'alice' };
  let fake: FakeDiscord;
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  const replicas: Replica[] = [];
  const shared: Record<string, string> = {};

  /** A real `onbehalf serve` process with its own data directory, sharing the database file, Redis and keys. */
  const startReplica = async (name: string): Promise<Replica> => {
    const port = await freePort();
    const r = await startCli(['serve'], {
      cwd: tmp.dir,
      env: {
        ...shared,
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        ONBEHALF_DATA_DIR: path.join(tmp.dir, name),
      },
      ready: /onbehalf is listening/,
      timeoutMs: 30_000,
    });
    const replica = { ...r, name, url: `http://127.0.0.1:${port}` };
    replicas.push(replica);
    return replica;
  };
  const holding = (r: Replica) => r.output().split('took the lease').length - 1;

  beforeAll(async () => {
    fake = await FakeDiscord.start({
      guilds: [{ id: guildId, name: 'Acme', channels: [{ id: channelId, name: 'help' }] }],
    });
    redis = await startTestRedis();
    Object.assign(shared, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      REDIS_URL: redis.url,
      DATABASE_URL: `file:${path.join(tmp.dir, 'onbehalf.db')}`,
      ONBEHALF_KEYS: testKey(),
      ...fake.appEnv(BOT_TOKEN),
    });
    // One after the other: the first creates the database, the second finds the gateway taken.
    await startReplica('a');
    await fake.waitConnected();
    await startReplica('b');
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
      await r.exited;
    }
    await fake?.stop();
    await redis?.stop();
    tmp.cleanup();
  });

  /** Alice mentions the bot; resolves with the bot's reply to that very message. */
  const ask = async (text: string, timeoutMs = 15_000): Promise<RecordedCall> => {
    const { id } = fake.message(alice, { guildId, channelId }, text);
    return fake.waitForCall(
      (c) =>
        c.method === 'POST' &&
        c.path === `/channels/${channelId}/messages` &&
        (c.body as { message_reference?: { message_id?: string } }).message_reference?.message_id === id,
      timeoutMs,
    );
  };

  it('the first replica holds the gateway and answers; the second stays off it', async () => {
    const [a, b] = replicas as [Replica, Replica];
    expect(holding(a)).toBe(1);
    expect(holding(b)).toBe(0);
    // Its platforms start once it listens: the line follows shortly after.
    await until(
      () => b.output().includes('another replica holds the Discord gateway'),
      10_000,
      "b's word on the gateway",
    );
    expect(fake.identifies).toBe(1);
    expect((await ask('help')).status).toBe(200);
    // Without the gateway, b still serves its web routes (and its workers send through REST).
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
  });

  it('the holder SIGKILLed: the other replica connects within 15 s and answers; never two sessions at once', async () => {
    const [a, b] = replicas as [Replica, Replica];
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    await until(() => fake.identifies === 2 && fake.connected, 15_000, 'the second replica to identify');
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(holding(b)).toBe(1);
    expect((await ask('help')).status).toBe(200);
    expect(fake.maxLiveSessions).toBe(1);
  });

  it('the holder stopped cleanly: it gives the lease back and a new replica takes over at once', async () => {
    const [, b] = replicas as [Replica, Replica];
    const c = await startReplica('c');
    expect(holding(c)).toBe(0);
    b.child.kill('SIGTERM');
    await b.exited;
    const stoppedAt = Date.now();
    await until(() => fake.identifies === 3 && fake.connected, 15_000, 'the new replica to identify');
    // Released, not expired: the next try (every 2 s) takes it.
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect(holding(c)).toBe(1);
    expect((await ask('whoami')).status).toBe(200);
    expect(fake.maxLiveSessions).toBe(1);
  });
});
