import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startPrivateRedis } from '../../src/redis/index.js';
import type { Runner } from '../../src/runner/index.js';
import { SlackSigner } from '../../test/support/slack-signing.js';
import { USERS, type BenchEnv } from '../env.js';
import { stats, type BenchRow } from '../lib.js';
import { LoopbackClient, openLoop, type OpenLoopResult } from '../load.js';
import type { BenchOptions } from '../options.js';
import { startProductProcess, type LoopDelay } from '../processes.js';

/** Tool calls kept enqueued but not yet seen by the MCP server: enough to keep every worker busy. */
const BACKLOG = 400;
/** How the tool workers run in the `serve` process measured. */
const SETTINGS = [
  { workers: 0, label: 'tool workers inside serve (ONBEHALF_WORKERS=0)' },
  { workers: 1, label: 'tool workers in 1 supervised process (ONBEHALF_WORKERS=1, the default)' },
];

/** Keeps `BACKLOG` `web.echo` calls ahead of what the MCP server has seen, until `stop()`. */
function keepBusy(env: BenchEnv, producer: Runner) {
  const from = env.mcp.calls.length;
  const seen = () => env.mcp.calls.length - from;
  let sent = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const room = Math.min(64, BACKLOG - (sent - seen()));
      if (room <= 0) {
        await sleep(2);
        continue;
      }
      await Promise.all(
        Array.from({ length: room }, () => {
          const i = sent++;
          return producer.enqueueToolCall(env.request(USERS[i % 2]!, 'web', 'echo', { text: `load ${i}` }, i));
        }),
      );
    }
  })();
  return {
    seen,
    /** Stops enqueuing and waits (bounded) until every call sent has reached the server. */
    async stop() {
      stopped = true;
      await loop;
      for (let t = Date.now(); seen() < sent && Date.now() - t < 60_000;) await sleep(20);
    },
  };
}

/** One `serve` process with its own Redis, on the shared database: acks idle, then under tool load. */
async function measure(env: BenchEnv, o: BenchOptions, workers: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'onbehalf-bench-ackload-'));
  const redis = await startPrivateRedis({ dir: path.join(dir, 'redis') });
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const client = new LoopbackClient();
  try {
    const serve = await startProductProcess(
      {
        ...env.childEnv,
        ...env.slackEnv,
        REDIS_URL: redis.url,
        ONBEHALF_DATA_DIR: dir,
        ONBEHALF_WORKERS: String(workers),
        ONBEHALF_MAX_QUEUED_PER_USER: '100000',
        // Workers inside serve post each outcome to the fake Slack too, as the supervised ones do.
        BENCH_REAL_CHAT: '1',
      },
      { mode: 'serve', prefix: 'onbehalf', concurrency: 16, cpuProfDir: o.cpuProfDir },
    );
    try {
      const signer = new SlackSigner(env.signingSecret);
      const failures = new Set<string>();
      const url = `http://127.0.0.1:${serve.port}/slack/events`;
      const slash = (i: number) => {
        const r = signer.command({
          teamId: 'T1',
          userId: `U${i % 20}`,
          channelId: 'CACK',
          text: 'help',
          triggerId: `t${i}`,
        });
        return client.request(url, { method: 'POST', headers: r.headers, body: r.body }).catch((err: Error) => {
          failures.add(err.message);
          throw err;
        });
      };
      const producer = env.producer('onbehalf', { url: redis.url, connection });
      // Warm-up (not recorded): the workers answer a first call, both paths are compiled.
      const first = env.mcp.calls.length;
      await producer.enqueueToolCall(env.request('alice', 'web', 'echo', { text: 'warm' }, 0));
      for (let t = Date.now(); env.mcp.calls.length === first && Date.now() - t < 60_000;) await sleep(20);
      for (let i = 0; i < 200; i++) await slash(i);
      await serve.loopDelay();
      const idle = await openLoop(o.slackRate, o.slackSeconds, slash);
      const idleLoop = await serve.loopDelay();
      const load = keepBusy(env, producer);
      // Until the workers are up and the queue is full: calls reaching the server.
      for (let t = Date.now(); load.seen() < BACKLOG && Date.now() - t < 60_000;) await sleep(20);
      const before = load.seen();
      const t0 = performance.now();
      await serve.loopDelay();
      const loaded = await openLoop(o.slackRate, o.slackSeconds, slash);
      const loadedLoop = await serve.loopDelay();
      const rate = (load.seen() - before) / ((performance.now() - t0) / 1000);
      await load.stop();
      return { idle, loaded, rate, idleLoop, loadedLoop, failures: [...failures] };
    } finally {
      await serve.stop();
    }
  } finally {
    client.close();
    connection.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const max = (r: OpenLoopResult) => Math.max(...r.latencies);

/**
 * Figure 1b: the Slack ack of figure 1 (signed `/onbehalf help` at `slackRate`/s, open loop) from a
 * `serve` process while the same deployment runs `web.echo` tool calls as fast as it can (a
 * backlog kept full from outside, as agent turns or other producers would), against the same
 * process idle just before; with the workers inside `serve` and in the process it supervises.
 */
export async function ackUnderLoad(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const setting of SETTINGS) {
    const { idle, loaded, rate, idleLoop, loadedLoop, failures } = await measure(env, o, setting.workers);
    const lag = (l: LoopDelay) => `p99 ${Math.round(l.p99)} / max ${Math.round(l.max)} ms`;
    const s = stats(loaded.latencies);
    const b = stats(idle.latencies);
    rows.push({
      key: 'ack_under_load',
      figure: `1b. Slack ack under tool load, ${setting.label}`,
      unit: 'ms',
      baseline: { label: 'same process idle', ...b },
      ours: s,
      ratio: s.median / b.median,
      goal: 'p99 < 250 ms, max < 1 s',
      met: s.p99 < 250 && max(loaded) < 1000 && loaded.errors === 0,
      notes: `${o.slackRate} req/s × ${o.slackSeconds} s while ${Math.round(rate)} tool calls/s ran; max ${Math.round(max(loaded))} ms (idle ${Math.round(max(idle))} ms); serve's event-loop delay under load ${lag(loadedLoop)} (idle ${lag(idleLoop)}); statuses ${JSON.stringify(loaded.statuses)}${failures.length ? `; failed requests: ${failures.join(', ')}` : ''}`,
      extra: {
        workers: setting.workers,
        maxMs: Math.round(max(loaded)),
        toolCallsPerS: Math.round(rate),
        serveLoopP99Ms: Math.round(loadedLoop.p99),
        serveLoopMaxMs: Math.round(loadedLoop.max),
      },
    });
  }
  return rows;
}
