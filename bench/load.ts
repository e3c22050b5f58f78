import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** What an open-loop run observed: latency from each request's scheduled send time to its full response. */
export interface OpenLoopResult {
  latencies: number[];
  /** Requests answered with another status than expected, or that failed. */
  errors: number;
  statuses: Record<string, number>;
}

/**
 * Sends `rate` requests per second for `seconds`, open loop: each request leaves at its scheduled
 * time whether or not earlier ones were answered, and its latency counts from that scheduled time
 * (so a stall is not hidden by sending less). Bounded: exactly rate×seconds requests, then waits
 * at most `drainMs` (default 10000) for the last answers. `fire` gets each request's scheduled
 * time (performance.now()), for figures that time a later effect of the same request.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  fire: (i: number, scheduled: number) => Promise<number>,
  expect = 200,
  drainMs = 10_000,
): Promise<OpenLoopResult> {
  const n = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const out: OpenLoopResult = { latencies: [], errors: 0, statuses: {} };
  const pending = new Set<Promise<void>>();
  const t0 = performance.now() + 10;
  let i = 0;
  while (i < n) {
    const now = performance.now();
    for (; i < n && t0 + i * interval <= now; i++) {
      const scheduled = t0 + i * interval;
      const p: Promise<void> = fire(i, scheduled)
        .then(
          (status) => {
            out.latencies.push(performance.now() - scheduled);
            out.statuses[status] = (out.statuses[status] ?? 0) + 1;
            if (status !== expect) out.errors++;
          },
          () => {
            out.errors++;
            out.statuses.error = (out.statuses.error ?? 0) + 1;
          },
        )
        .finally(() => pending.delete(p));
      pending.add(p);
    }
    if (i < n) await sleep(Math.max(0, t0 + i * interval - performance.now()));
  }
  await Promise.race([Promise.all(pending), sleep(drainMs)]);
  out.errors += pending.size;
  return out;
}

/** A keep-alive HTTP client for loopback load (lighter than fetch on a busy 2-core box). */
export class LoopbackClient {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  /** Sends one request; resolves with the status once the whole body arrived. */
  request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers, agent: this.#agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.end(o.body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
