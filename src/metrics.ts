import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
