import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OpsSnapshot } from './app/status.js';

/** The product's Prometheus registry with default process metrics and our own counters. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'onbehalf_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'onbehalf_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    toolCalls: new Counter({
      name: 'onbehalf_tool_calls_total',
      help: 'Tool calls by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    toolCallSeconds: new Histogram({
      name: 'onbehalf_tool_call_seconds',
      help: 'Tool call latency, queue to result',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    answerFeedback: new Counter({
      name: 'onbehalf_answer_feedback_total',
      help: "Thumbs up / down on the agent's answers, by rating",
      labelNames: ['rating'] as const,
      registers: [registry],
    }),
    oauthEvents: new Counter({
      name: 'onbehalf_oauth_events_total',
      help: 'Connect, refresh and revoke events by kind and result',
      labelNames: ['event', 'result'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The deployment's state as gauges, read at scrape time from the database and the queues (so they
 * count every process's work, not this one's): queue depth and workers, parked calls and grants
 * needing reauthorisation by provider, refresh and notify failures of the last hour. One snapshot
 * serves all of one scrape.
 */
export function registerOpsGauges(registry: Registry, read: () => Promise<OpsSnapshot>): void {
  let last: { at: number; snap: Promise<OpsSnapshot> } | undefined;
  const snap = () => {
    if (!last || Date.now() - last.at > 1000) last = { at: Date.now(), snap: read() };
    return last.snap;
  };
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (s: OpsSnapshot, set: (labels: Record<L, string>, v: number) => void) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await snap().catch(() => undefined);
        this.reset();
        if (s) fill(s, (labels, v) => (labelNames.length ? this.set(labels, v) : this.set(v)));
      },
    });
  gauge('onbehalf_queue_jobs', 'Jobs in the tool and turn queues by state', ['queue', 'state'], (s, set) => {
    if (!Array.isArray(s.queues)) return;
    for (const q of s.queues) for (const [state, n] of Object.entries(q.counts)) set({ queue: q.name, state }, n);
  });
  gauge('onbehalf_queue_workers', 'Workers connected to each queue', ['queue'], (s, set) => {
    if (Array.isArray(s.queues)) for (const q of s.queues) set({ queue: q.name }, q.workers);
  });
  gauge('onbehalf_parked_calls', 'Tool calls waiting for a grant, by provider', ['provider'], (s, set) => {
    for (const p of s.parked) set({ provider: p.provider }, p.count);
  });
  gauge('onbehalf_connections_needs_reauth', 'Grants that need reconnecting, by provider', ['provider'], (s, set) => {
    for (const p of s.needsReauth) set({ provider: p.provider }, p.count);
  });
  gauge(
    'onbehalf_refresh_failures_last_hour',
    'Token refreshes that failed in the last hour, by result',
    ['result'],
    (s, set) => {
      for (const [result, n] of Object.entries(s.refreshFailures)) set({ result }, n);
    },
  );
  gauge(
    'onbehalf_notify_failures_last_hour',
    'Results that could not be posted to chat in the last hour',
    [],
    (s, set) => set({}, s.notifyFailures),
  );
}
