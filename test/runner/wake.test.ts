import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ReplyTarget } from '../../src/chat/types.js';
import { world, type World } from '../support/world.js';
import { RecordingNotifier } from './harness.js';
import { startWorker, type WorkerProcess } from './processes.js';

const target: ReplyTarget = {
  platform: 'slack',
  workspaceId: 'T1',
  channelId: 'C1',
  userId: 'alice',
  threadId: '171.1',
  isDirect: false,
};

describe('a call waited for in a serve process and run by a worker process', () => {
  let w: World;
  let worker: WorkerProcess | undefined;
  let orgId: string;
  let alice: string;

  beforeAll(async () => {
    // The serve app runs no tool workers: every call it waits for runs in the worker process, which
    // shares only the database and Redis with it.
    w = await world({
      platform: 'slack',
      servers: [{ name: 'open' }],
      shell: false,
      app: { runner: { notifier: new RecordingNotifier(), startWorkers: false } },
    });
    const { app } = w.t;
    const who = {
      platform: 'slack' as const,
      workspaceId: 'T1',
      userId: 'alice',
      displayName: 'Alice',
      workspaceName: 'Acme',
    };
    ({
      org: { id: orgId },
      user: { id: alice },
    } = await app.identity.resolve(who));
    worker = await startWorker({
      REDIS_URL: app.redisUrl,
      DATABASE_URL: app.config.postgresUrl ?? `file:${app.config.databasePath}`,
      ONBEHALF_KEYS: app.config.keys!.join(','),
      ONBEHALF_DATA_DIR: w.t.dataDir,
      PUBLIC_URL: app.config.publicUrl,
      ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
      NOTICE_FILE: path.join(w.t.dataDir, 'notices.jsonl'),
    });
  }, 60_000);
  afterAll(async () => {
    await worker?.stop();
    await w?.stop();
  });

  it('answers the waiter as soon as the call ends, and the waiter reads nothing from the database while it runs', async () => {
    const b = w.t.app;
    // Every statement the serve process sends to its database goes through one of these.
    const spies = (['rows', 'first', 'changes', 'execute', 'tx'] as const).map((m) => vi.spyOn(b.store, m));
    const queries = () => spies.reduce((n, s) => n + s.mock.calls.length, 0);
    const run = async (delayMs: number) => {
      const before = queries();
      const started = Date.now();
      const result = await b.runner.runToolCall({
        orgId,
        userId: alice,
        chatIdentity: 'slack:T1:alice',
        server: 'open',
        tool: 'read_notes',
        args: { delayMs },
        target,
        requestId: `req-${delayMs}`,
        turnId: `turn-${delayMs}`,
      });
      return { result, queries: queries() - before, ms: Date.now() - started };
    };

    const quick = await run(0);
    const slow = await run(2500);
    for (const { result } of [quick, slow])
      expect(result).toMatchObject({ kind: 'done', outcome: { kind: 'result', text: '0 note(s)' } });
    // Woken by the worker's message, not by a late read (the safety read comes only after 5 s).
    expect(slow.ms).toBeGreaterThanOrEqual(2500);
    expect(slow.ms).toBeLessThan(2500 + 1500);
    // 2.5 s more of waiting cost no statement: the waiter read the row when it was told to, not on a timer.
    expect(slow.queries).toBe(quick.queries);
    expect(quick.queries).toBeGreaterThan(0);
  }, 30_000);
});
