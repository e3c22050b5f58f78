import { setTimeout as sleep } from 'node:timers/promises';
import type { Runner } from '../../src/runner/index.js';
import type { BenchEnv, BenchUser } from '../env.js';
import { stats, type BenchRow } from '../lib.js';
import type { BenchOptions } from '../options.js';
import { startProductProcess, type ProductProcess } from '../processes.js';

/** The stated bound: RSS after the calls, after a full GC, at most this much above idle. */
export const MEMORY_GROWTH_BOUND_MB = 50;
/** "None between 10,000 and 50,000 calls": RSS after GC may rise at most this much per call (under 5 MB over 40,000). */
export const SLOPE_BOUND_BYTES = 128;
const MB = 1024 * 1024;

/** `n` readings of the process's RSS and heap (MB) after a full GC, 200 ms apart. */
export async function sample(p: ProductProcess, n = 5): Promise<{ rss: number[]; heap: number[]; gc: boolean }> {
  const rss: number[] = [];
  const heap: number[] = [];
  let gc = false;
  for (let i = 0; i < n; i++) {
    const m = await p.memory();
    rss.push(m.rss / MB);
    heap.push(m.heapUsed / MB);
    gc = m.gc;
    await sleep(200);
  }
  return { rss, heap, gc };
}

/** Runs calls `from`…`to` of web.echo (alice and bob alternating) in batches of 1000; `afterBatch` runs after each (calls done so far). */
async function callsThrough(
  env: BenchEnv,
  results: Map<string, string>,
  producer: Runner,
  from: number,
  to: number,
  afterBatch?: (done: number) => Promise<void>,
): Promise<number> {
  let notResult = 0;
  for (let done = from; done < to;) {
    const n = Math.min(1000, to - done);
    const ids = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const who: BenchUser = (done + i) % 2 ? 'bob' : 'alice';
        return producer
          .enqueueToolCall(env.request(who, 'web', 'echo', { text: `mem ${done + i}` }, done + i))
          .then((r) => r.callId);
      }),
    );
    const deadline = Date.now() + 120_000;
    while (!ids.every((id) => results.has(id))) {
      if (Date.now() > deadline) throw new Error('memory: a batch did not finish in 120 s');
      await sleep(20);
    }
    notResult += ids.filter((id) => results.get(id) !== 'result').length;
    for (const id of ids) results.delete(id);
    done += n;
    await afterBatch?.(done);
  }
  return notResult;
}

/**
 * Figure 6: RSS of an `onbehalf serve` process (web server + workers, concurrency 16) idle, then
 * after `memoryCalls` calls of web.echo (alice and bob alternating, in batches of 1000), each after
 * a full GC inside the process (5 samples 200 ms apart); then its slope (bytes per call) as the same
 * process goes on to `memorySlopeCalls` calls: a leak shows as a slope.
 */
export async function memory(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
  const p = await startProductProcess(env.childEnv, {
    mode: 'serve',
    prefix: 'bench-mem',
    concurrency: 16,
    cpuProfDir: o.cpuProfDir,
  });
  const producer = env.producer('bench-mem');
  const results = new Map<string, string>();
  p.onDone((d) => void results.set(d.callId, d.kind));
  try {
    await sleep(1000);
    const idle = await sample(p);
    let warm: number | undefined;
    let notResult = await callsThrough(env, results, producer, 0, o.memoryCalls, async (done) => {
      if (done <= 1000) warm = stats((await sample(p, 3)).rss).median;
    });
    const after = await sample(p);
    // The slope: RSS and heap (medians of 3 samples after GC) at 8 points or every batch, whichever is fewer.
    const points: Point[] = [{ calls: o.memoryCalls, rss: stats(after.rss).median, heap: stats(after.heap).median }];
    const every = Math.max(1000, Math.ceil((o.memorySlopeCalls - o.memoryCalls) / 8 / 1000) * 1000);
    notResult += await callsThrough(env, results, producer, o.memoryCalls, o.memorySlopeCalls, async (done) => {
      if ((done - o.memoryCalls) % every && done < o.memorySlopeCalls) return;
      const m = await sample(p, 3);
      points.push({ calls: done, rss: stats(m.rss).median, heap: stats(m.heap).median });
    });
    const later = await sample(p);
    return [memoryRow(o, idle, after, warm, notResult), slopeRow(o, after, later, points, notResult)];
  } finally {
    await p.stop();
  }
}

type Sampled = Awaited<ReturnType<typeof sample>>;

function memoryRow(
  o: BenchOptions,
  idle: Sampled,
  after: Sampled,
  warm: number | undefined,
  notResult: number,
): BenchRow {
  const b = stats(idle.rss);
  const s = stats(after.rss);
  const growth = s.median - b.median;
  return {
    key: 'memory',
    figure: `6. Memory of serve (${o.memoryCalls.toLocaleString('en-US')} calls)`,
    unit: 'MB RSS',
    baseline: { label: 'idle', ...b },
    ours: s,
    ratio: s.median / b.median,
    goal: `growth < ${MEMORY_GROWTH_BOUND_MB} MB after GC`,
    met: growth < MEMORY_GROWTH_BOUND_MB && notResult === 0 && idle.gc,
    notes: `growth ${growth.toFixed(1)} MB (after the first batch of ${Math.min(1000, o.memoryCalls)} calls: ${warm?.toFixed(1)} MB RSS, so ${(s.median - (warm ?? b.median)).toFixed(1)} MB over the remaining calls); heap used ${stats(idle.heap).median.toFixed(1)} → ${stats(after.heap).median.toFixed(1)} MB; calls not answered with a result: ${notResult}`,
    extra: { growthMb: growth, warmRssMb: warm ?? NaN, notResult },
  };
}

interface Point {
  calls: number;
  rss: number;
  heap: number;
}

/** Least-squares slope of `y` (MB) against calls, in bytes per call. */
function slope(points: Point[], y: (p: Point) => number): number {
  const mx = points.reduce((a, p) => a + p.calls, 0) / points.length;
  const my = points.reduce((a, p) => a + y(p), 0) / points.length;
  const num = points.reduce((a, p) => a + (p.calls - mx) * (y(p) - my), 0);
  const den = points.reduce((a, p) => a + (p.calls - mx) ** 2, 0);
  return den ? (num / den) * MB : NaN;
}

/** Bytes per call over the checkpoints: RSS (the row) and heap used (the notes). */
function slopeRow(o: BenchOptions, after: Sampled, later: Sampled, points: Point[], notResult: number): BenchRow {
  const calls = o.memorySlopeCalls - o.memoryCalls;
  const rss = slope(points, (p) => p.rss);
  const heap = slope(points, (p) => p.heap);
  const k = (x: number) => x.toLocaleString('en-US');
  return {
    key: 'memory',
    figure: `6. Memory slope of serve (${k(o.memoryCalls)} → ${k(o.memorySlopeCalls)} calls)`,
    unit: 'MB RSS',
    baseline: { label: `after ${k(o.memoryCalls)}`, ...stats(after.rss) },
    ours: stats(later.rss),
    ratio: stats(later.rss).median / stats(after.rss).median,
    goal: `near-flat: < ${SLOPE_BOUND_BYTES} bytes per call`,
    met: rss < SLOPE_BOUND_BYTES && notResult === 0 && after.gc,
    notes: `the same process as the row above, ${k(calls)} more calls of web.echo in batches of 1000; least-squares slope over ${points.length} points (RSS and heap after a full GC, median of 3): ${Math.round(rss)} bytes per call of RSS, ${Math.round(heap)} of heap used (${stats(after.heap).median.toFixed(1)} → ${stats(later.heap).median.toFixed(1)} MB); calls not answered with a result: ${notResult}`,
    extra: { rssBytesPerCall: Math.round(rss), heapBytesPerCall: Math.round(heap), notResult },
  };
}
