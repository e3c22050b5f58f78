import type { BenchEnv } from '../env.js';
import { stats, type BenchRow } from '../lib.js';
import type { BenchOptions } from '../options.js';
import { startProductProcess, type ProductProcess } from '../processes.js';
import { RECOVERY } from '../../src/runner/tuning.js';

const PREFIX = 'bench-recovery';
/** How long the slow call runs: long enough to be killed mid-call, then re-run to the end. */
const CALL_MS = 8000;
/**
 * How long the harness waits for a call to start on live workers before the kill (not the figure:
 * the figure is the time from the kill to the re-run). Generous, as a loaded host can be slow.
 */
const START_WAIT_MS = 30_000;

/**
 * Resolves with the first `started` report of `callId` from any of `procs` (pid and wall-clock ms).
 * Rejects, naming the call's role and what happened, if the call ends without starting or does not
 * start within `timeoutMs`.
 */
function startedOn(
  procs: ProductProcess[],
  callId: string,
  role: string,
  timeoutMs: number,
): Promise<{ pid: number; at: number }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const t = setTimeout(() => {
      settled = true;
      reject(new Error(`the ${role} (call ${callId}) did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    for (const p of procs) {
      p.onStarted((d) => {
        if (d.callId !== callId || settled) return;
        settled = true;
        clearTimeout(t);
        resolve({ pid: p.pid, at: d.at });
      });
      p.onDone((d) => {
        if (d.callId !== callId || settled) return;
        settled = true;
        clearTimeout(t);
        reject(new Error(`the ${role} (call ${callId}) ended ${d.kind} without starting`));
      });
    }
  });
}

function doneOn(procs: ProductProcess[], callId: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`call ${callId} not answered within ${timeoutMs} ms`)), timeoutMs);
    for (const p of procs)
      p.onDone((d) => {
        if (d.callId !== callId) return;
        clearTimeout(t);
        resolve(d.kind);
      });
  });
}

/**
 * Figure 7: a call whose worker died is running again. Two `onbehalf worker` processes with the
 * product's default lock and stalled check; a read-only call (`web.slow`, 8 s) starts on one, that
 * process is SIGKILLed, and the time until the other sends the call again is measured — against
 * the baseline of a fresh call being picked up (enqueue → sent) by the same live workers. Each
 * trial replaces the killed process, and the re-run call must be answered `result` exactly once.
 */
export async function recovery(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
  const spawn = () => startProductProcess(env.childEnv, { mode: 'worker', prefix: PREFIX, concurrency: 4 });
  const producer = env.producer(PREFIX);
  const procs = [await spawn(), await spawn()];
  const pickup: number[] = [];
  const recovered: number[] = [];
  let reruns = 0;
  try {
    for (let i = 0; i < o.recoveryTrials; i++) {
      // Baseline: a fresh call picked up by the live workers.
      const t0 = Date.now();
      const fresh = await producer.enqueueToolCall(env.request('alice', 'web', 'echo', { text: `fresh ${i}` }, i));
      pickup.push((await startedOn(procs, fresh.callId, 'fresh call', START_WAIT_MS)).at - t0);
      // Ours: the worker running a call dies; the other runs it again.
      const live = [...procs];
      const call = await producer.enqueueToolCall(env.request('alice', 'web', 'slow', { ms: CALL_MS + i }, 1000 + i));
      const first = await startedOn(live, call.callId, 'slow call', START_WAIT_MS);
      const victim = live.find((p) => p.pid === first.pid)!;
      const survivor = live.find((p) => p.pid !== first.pid)!;
      const again = startedOn([survivor], call.callId, 'recovered call', 60_000);
      const answered = doneOn([survivor], call.callId, 60_000 + CALL_MS);
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      recovered.push((await again).at - killedAt);
      procs.splice(procs.indexOf(victim), 1, await spawn());
      if ((await answered) !== 'result') throw new Error(`the recovered call ended ${await answered}`);
      reruns++;
    }
  } finally {
    for (const p of procs) await p.stop();
  }
  const b = stats(pickup);
  const s = stats(recovered);
  const bound = RECOVERY.lockMs + 2 * RECOVERY.stalledMs;
  return [
    {
      key: 'recovery',
      figure: '7. Recovery (worker SIGKILLed mid-call)',
      unit: 'ms',
      baseline: { label: 'fresh call picked up', ...b },
      ours: s,
      ratio: s.median / b.median,
      goal: 'running again < 10 s',
      met: Math.max(...recovered) < 10_000,
      notes: `lock ${RECOVERY.lockMs} ms, stalled check ${RECOVERY.stalledMs} ms (bound ${bound} ms); worst trial ${Math.round(Math.max(...recovered))} ms; ${reruns} re-run calls answered once each`,
      extra: { trials: recovered.length, worstMs: Math.round(Math.max(...recovered)) },
    },
  ];
}
