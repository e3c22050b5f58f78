import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testKey } from '../support/env.js';
import type { TestMcpHttpServer } from '../support/mcp-servers/index.js';
import { queuesIdle } from '../support/queues.js';
import { startTestRedis } from '../support/redis.js';
import { readNotices, startWorker, type WorkerProcess } from '../runner/processes.js';
import { faultBed, until, type FaultBed, type Sent } from './bed.js';

describe('one of two worker processes SIGKILLed under load', () => {
  const tmp = tempDir('onbehalf-drill-workers-');
  const noticeFile = path.join(tmp.dir, 'notices.jsonl');
  const key = testKey();
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let mcp: TestMcpHttpServer;
  let bed: FaultBed;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    // 24 slow calls per user in flight: past the default per-user cap of queued calls.
    const shared = {
      REDIS_URL: redis.url,
      DATABASE_URL: `file:${path.join(tmp.dir, 'onbehalf.db')}`,
      ONBEHALF_KEYS: key,
      ONBEHALF_MAX_QUEUED_PER_USER: '1000',
    };
    // Ingress only: the chat side enqueues; the two `onbehalf worker` processes run the calls.
    bed = await faultBed(shared, { startWorkers: false, world: { servers: [{ name: 'web' }] } });
    mcp = bed.mcp;
    const env = {
      ...shared,
      ONBEHALF_DATA_DIR: tmp.dir,
      NOTICE_FILE: noticeFile,
      LOCK_MS: '1500',
      STALLED_MS: '500',
      CONCURRENCY: '4',
      ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
    };
    workers.push(...(await Promise.all([startWorker(env), startWorker(env)])));
  });

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await bed?.stop();
    await redis?.stop();
    tmp.cleanup();
  });

  it('the survivor recovers the stalled calls: each call is answered once, read-only ones re-run, others reported interrupted, never run twice', async () => {
    const [w1, w2] = workers as [WorkerProcess, WorkerProcess];
    const sent: { s: Sent; tool: string }[] = [];
    for (let i = 0; i < 48; i++) {
      const tool = i % 4 === 3 ? 'create_note' : 'read_notes';
      const args = tool === 'create_note' ? `{"text":"note ${i}","delayMs":1000}` : '{"delayMs":1000}';
      sent.push({ s: await bed.send(i % 2 ? 'alice' : 'bob', `run web.${tool} ${args}`), tool });
    }
    expect(sent.every((x) => x.s.ok)).toBe(true);
    // Killed mid-stream, while the victim surely holds a read-only call: each worker runs at most 4 calls
    // (CONCURRENCY), so 5 read_notes that reached the MCP server and are not answered yet put at least one on w1.
    const answered = (pid: number | undefined) => readNotices(noticeFile).filter((n) => n.pid === pid).length;
    const readIds = new Set(sent.filter((x) => x.tool === 'read_notes').map((x) => x.s.requestId));
    const unansweredReads = async () => {
      const reads = new Set((await bed.rows()).filter((r) => readIds.has(r.request_id)).map((r) => r.id));
      const answeredReads = readNotices(noticeFile).filter((n) => reads.has(n.callId)).length;
      return mcp.calls.filter((c) => c.tool === 'read_notes').length - answeredReads;
    };
    await until(
      async () => answered(w1.child.pid) >= 2 && answered(w2.child.pid) >= 2 && (await unansweredReads()) >= 5,
      20_000,
      'both workers answering, with 5 read-only calls in flight',
    );
    w1.child.kill('SIGKILL');
    await w1.exited;
    const killedAt = Date.now();
    const postedBeforeKill = readNotices(noticeFile).length;
    const byCall = () => {
      const m = new Map<string, ReturnType<typeof readNotices>>();
      for (const n of readNotices(noticeFile)) m.set(n.callId, [...(m.get(n.callId) ?? []), n]);
      return m;
    };
    const callIds = new Map((await bed.rows()).map((r) => [r.request_id, r.id]));
    await until(
      () => sent.every((x) => byCall().has(callIds.get(x.s.requestId)!)),
      45_000,
      'every call to be answered',
    );
    const recoveredIn = Date.now() - killedAt;
    await queuesIdle(redis.url, 2000); // a duplicate would come from a job still pending

    const notices = byCall();
    for (const { s, tool } of sent) {
      const mine = notices.get(callIds.get(s.requestId)!)!;
      expect(mine, s.requestId).toHaveLength(1);
      const kind = mine[0]!.outcome!.kind;
      if (tool === 'read_notes') expect(kind).toBe('result');
      else {
        expect(['result', 'interrupted']).toContain(kind);
        if (kind === 'interrupted') expect(mine[0]!.text).toMatch(/interrupted .* may have run on web/);
      }
    }
    // Whatever was posted after the kill came from the survivor.
    const late = readNotices(noticeFile).slice(postedBeforeKill);
    expect(late.length).toBeGreaterThan(0);
    expect(late.filter((n) => n.pid !== w2.child.pid)).toEqual([]);
    const creates = sent.filter((x) => x.tool === 'create_note').length;
    const reads = sent.length - creates;
    // Non-idempotent calls ran at most once each; at least one read-only call was re-run after the kill (a real recovery).
    expect(mcp.calls.filter((c) => c.tool === 'create_note')).toHaveLength(creates);
    expect(mcp.calls.filter((c) => c.tool === 'read_notes').length).toBeGreaterThan(reads);
    expect(recoveredIn).toBeLessThan(30_000);
    expect((await bed.rows()).filter((r) => r.status === 'queued' || r.status === 'running')).toEqual([]);
  }, 90_000);
});
