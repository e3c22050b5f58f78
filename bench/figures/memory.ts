import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchEnv, BenchUser } from '../env.js';
import { stats, type BenchRow } from '../lib.js';
import type { BenchOptions } from '../options.js';
import { startProductProcess, type ProductProcess } from '../processes.js';

/** The stated bound: RSS after the calls, after a full GC, at most this much above idle. */
export const MEMORY_GROWTH_BOUND_MB = 50;
const MB = 1024 * 1024;

async function sample(p: ProductProcess, n = 5): Promise<{ rss: number[]; heap: number[]; gc: boolean }> {
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

/**
 * Figure 6: RSS of an `onbehalf serve` process (web server + workers, concurrency 16) idle, then
 * after `memoryCalls` calls of web.echo (alice and bob alternating, in batches of 1000), each after
 * a full GC inside the process (5 samples 200 ms apart).
 */
export async function memory(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
  const p = await startProductProcess(env.childEnv, {
    mode: 'serve',
    prefix: 'bench-mem',
    concurrency: 16,
    cpuProfDir: o.cpuProfDir,
  });
  const results = new Map<string, string>();
  p.onDone((d) => void results.set(d.callId, d.kind));
  const producer = env.producer('bench-mem');
  try {
    await sleep(1000);
    const idle = await sample(p);
    let notResult = 0;
    let warm: number | undefined;
    for (let done = 0; done < o.memoryCalls;) {
      const n = Math.min(1000, o.memoryCalls - done);
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
      if (warm === undefined) warm = stats((await sample(p, 3)).rss).median;
    }
    const after = await sample(p);
    const b = stats(idle.rss);
    const s = stats(after.rss);
    const growth = s.median - b.median;
    return [
      {
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
      },
    ];
  } finally {
    await p.stop();
  }
}
