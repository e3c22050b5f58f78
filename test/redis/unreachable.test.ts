import { afterAll, describe, expect, it, vi } from 'vitest';
import path from 'node:path';
import type { ReplyTarget } from '../../src/chat/types.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../src/redis/index.js';
import type { TurnJob } from '../../src/agent/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { tempDir } from '../support/env.js';
import { startMcpHttpServer, type TestMcpHttpServer } from '../support/mcp-servers/index.js';

let t: TestApp | undefined;
let redis: PrivateRedis | undefined;
let http: TestMcpHttpServer | undefined;
const tmp = tempDir();
afterAll(async () => {
  await t?.stop();
  await redis?.stop();
  await http?.stop();
  tmp.cleanup();
});

const target: ReplyTarget = {
  platform: 'slack',
  workspaceId: 'T1',
  channelId: 'C1',
  userId: 'alice',
  threadId: '171.1',
  isDirect: false,
};

describe('REDIS_URL unreachable at start', () => {
  it('start() returns with HTTP up, and tool and turn jobs run once Redis appears on that address', async () => {
    const redisPort = await freePort();
    const turns: TurnJob[] = [];
    const started = Date.now();
    t = await startTestApp({ REDIS_URL: `redis://:s3cretpass@127.0.0.1:${redisPort}` }, 'serve', {
      runner: { turnProcessor: async (turn) => void turns.push(turn), tuning: { backoffMs: 50 } },
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    const ready = await fetch(`${t.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.redis).toBe('unavailable');
    expect(t.logs.text()).not.toMatch(/tool workers started/);
    http = await startMcpHttpServer();
    const r = await t.app.identity.resolve({
      platform: 'slack',
      workspaceId: 'T1',
      userId: 'alice',
      displayName: 'Alice',
      workspaceName: 'Acme',
    });
    await t.app.policy.addServer(r.org.id, { name: 'open', transport: 'http', url: http.url });

    redis = await startPrivateRedis({ dir: path.join(tmp.dir, 'redis'), port: redisPort });
    await vi.waitFor(() => expect(t!.logs.text()).toMatch(/tool workers started/), { timeout: 15_000 });
    expect((await fetch(`${t.baseUrl}/readyz`)).status).toBe(200);

    await t.app.turns.enqueue({
      orgId: r.org.id,
      userId: r.user.id,
      chatIdentity: 'slack:T1:alice',
      text: 'hello again',
      target,
      requestId: 'r-1',
    });
    await vi.waitFor(() => expect(turns.map((x) => x.text)).toEqual(['hello again']), { timeout: 15_000 });
    const run = await t.app.runner.runToolCall({
      orgId: r.org.id,
      userId: r.user.id,
      chatIdentity: 'slack:T1:alice',
      server: 'open',
      tool: 'echo',
      args: { text: 'ran' },
      target,
      requestId: 'r-2',
    });
    expect(run).toMatchObject({ kind: 'done', outcome: { kind: 'result' } });
    expect(JSON.stringify(run)).toContain('ran');

    const text = t.logs.text();
    expect(text.match(/cannot reach Redis at REDIS_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ — /g)).toHaveLength(1);
    expect(text).not.toContain('s3cretpass');
    expect(text).not.toMatch(/CONFIG GET refused|queue connection error|worker error/);
  });
});
