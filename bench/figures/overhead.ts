import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { BenchEnv } from '../env.js';
import { stats, type BenchRow } from '../lib.js';
import type { BenchOptions } from '../options.js';

/** Timestamps (performance.now()) of one call's stages, filled by the probes below. */
interface Trace {
  t0: number;
  enqueued?: number;
  picked?: number;
  tokenIn?: number;
  tokenOut?: number;
  mcpIn?: number;
  mcpOut?: number;
  told?: number;
}

type Probe = { restore(): void };

/** Times an instance's async method into the current trace (an own property shadowing the prototype's). */
function probe<T extends object>(obj: T, method: keyof T & string, onIn: () => void, onOut: () => void): Probe {
  const original = obj[method] as unknown as (...a: unknown[]) => Promise<unknown>;
  (obj as Record<string, unknown>)[method] = async (...a: unknown[]) => {
    onIn();
    try {
      return await original.apply(obj, a);
    } finally {
      onOut();
    }
  };
  return { restore: () => void delete (obj as Record<string, unknown>)[method] };
}

const med = (xs: number[]) => stats(xs).median;

/**
 * Figure 2: one `run` of `web.echo` as alice (queue + access rules + her OAuth token unsealed +
 * pooled Streamable HTTP client + audit + notify), from enqueue to the moment the chat seam is
 * told, against a direct, already-connected MCP SDK client call of the same tool. Calls alternate
 * one by one; per-stage timestamps show where the added time goes.
 */
export async function toolOverhead(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
  const runner = env.app.runner;
  const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
  await direct.connect(
    new StreamableHTTPClientTransport(new URL(env.mcp.url), {
      requestInit: { headers: { authorization: `Bearer ${env.tokens.alice}` } },
    }),
  );
  let trace: Trace = { t0: 0 };
  const probes: Probe[] = [
    probe(
      runner.executor,
      'run',
      () => (trace.picked ??= performance.now()),
      () => undefined,
    ),
    probe(
      env.app.oauth,
      'accessTokenFor',
      () => (trace.tokenIn ??= performance.now()),
      () => (trace.tokenOut = performance.now()),
    ),
    probe(
      env.app.pool,
      'call',
      () => (trace.mcpIn = performance.now()),
      () => (trace.mcpOut = performance.now()),
    ),
  ];
  const ours: number[] = [];
  const base: number[] = [];
  const traces: Trace[] = [];
  const agent: number[] = [];
  let seq = 0;
  const viaProduct = async () => {
    trace = { t0: performance.now() };
    const { callId } = await runner.enqueueToolCall(
      env.request('alice', 'web', 'echo', { text: `overhead ${seq}` }, seq++),
    );
    trace.enqueued = performance.now();
    const f = await env.notifier.done(callId);
    if (f.outcome.kind !== 'result') throw new Error(`overhead call ended ${f.outcome.kind}`);
    trace.told = f.at;
    return trace;
  };
  const viaSdk = async () => {
    const t0 = performance.now();
    await direct.callTool({ name: 'echo', arguments: { text: `direct ${seq}` } });
    return performance.now() - t0;
  };
  try {
    for (let i = 0; i < 20; i++) {
      await viaProduct();
      await viaSdk();
    }
    for (let i = 0; i < o.overheadTrials; i++) {
      const t = await viaProduct();
      ours.push(t.told! - t.t0);
      traces.push(t);
      base.push(await viaSdk());
    }
    // The agent's path: runToolCall waits for the outcome by polling the call's row (10 ms, then doubling).
    for (let i = 0; i < Math.min(100, o.overheadTrials); i++) {
      const t0 = performance.now();
      const r = await runner.runToolCall({
        ...env.request('alice', 'web', 'echo', { text: `agent ${i}` }, seq++),
        turnId: `bench-turn-${i}`,
      });
      if (r.kind !== 'done' || r.outcome.kind !== 'result') throw new Error(`runToolCall ended ${r.kind}`);
      agent.push(performance.now() - t0);
    }
  } finally {
    for (const p of probes) p.restore();
    await direct.close().catch(() => undefined);
  }
  const b = stats(base);
  const s = stats(ours);
  const added = { p50: s.median - b.median, p99: s.p99 - b.p99 };
  const stage = (from: keyof Trace, to: keyof Trace) =>
    med(traces.map((t) => (t[to] ?? NaN) - (t[from] ?? NaN)).filter(Number.isFinite)).toFixed(2);
  const stages = {
    enqueue: stage('t0', 'enqueued'),
    queue_pickup: stage('enqueued', 'picked'),
    user_rules_token: stage('picked', 'tokenOut'),
    catalog_validate_mark_started: stage('tokenOut', 'mcpIn'),
    mcp_call: stage('mcpIn', 'mcpOut'),
    record_audit_notify: stage('mcpOut', 'told'),
  };
  return [
    {
      key: 'tool_overhead',
      figure: '2. Tool call (run web.echo, end to end)',
      unit: 'ms',
      baseline: { label: 'direct MCP SDK call', ...b },
      ours: s,
      ratio: s.median / b.median,
      goal: '≤ 1.0 ms added at p50, ≤ 3 ms at p99',
      met: added.p50 <= 1 && added.p99 <= 3,
      notes:
        `added p50 ${added.p50.toFixed(2)} ms, p99 ${added.p99.toFixed(2)} ms; median per stage (ms): ${Object.entries(
          stages,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; ` +
        `the agent's path (runToolCall, woken through Redis) p50 ${stats(agent).median.toFixed(1)} ms, p99 ${stats(agent).p99.toFixed(1)} ms`,
      extra: {
        addedP50Ms: added.p50,
        addedP99Ms: added.p99,
        agentP50Ms: stats(agent).median,
        agentP99Ms: stats(agent).p99,
        ...Object.fromEntries(Object.entries(stages).map(([k, v]) => [`stage_${k}`, Number(v)])),
      },
    },
  ];
}
