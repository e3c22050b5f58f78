import { setTimeout as sleep } from 'node:timers/promises';
import { Secret } from '../../src/crypto/index.js';
import type { Runner, ToolCallRequest } from '../../src/runner/index.js';
import { authorizeInBrowser } from '../../test/support/oauth-server.js';
import type { BenchEnv } from '../env.js';
import { stats, type BenchRow } from '../lib.js';
import type { BenchOptions } from '../options.js';
import { startProductProcess, type ProductProcess } from '../processes.js';
import { sample } from './memory.js';

/** Calls one user may have parked at once (the product's default `ONBEHALF_MAX_PARKED_PER_USER`). */
const PER_USER = 10;
/** Parked calls live in the database, not in the process: RSS with them all parked, after GC, at most this much above idle. */
export const PARKED_GROWTH_BOUND_MB = 25;
/** "No growth in idle CPU": with every call parked, at most this much more of a core than idle before. */
const IDLE_CPU_SLACK_PCT = 1;
const MB = 1024 * 1024;

type Done = Map<string, { kind: string; at: number }>;

/** A provider and a server no park user has connected yet: `park.echo` needs each caller's own `parkvendor` grant. */
async function setUp(env: BenchEnv, users: number): Promise<string[]> {
  const { app, orgId, oauth } = env;
  const added = await app.oauth.addProvider(orgId, {
    slug: 'parkvendor',
    kind: 'oauth2',
    clientId: 'bench-park-client',
    clientSecret: new Secret('bench-park-secret'),
    scopes: ['repo'],
    issuer: oauth.issuer,
    ...oauth.endpoints,
  });
  if (!added.ok) throw new Error(`provider: ${JSON.stringify(added.error)}`);
  const server = await app.policy.addServer(orgId, { name: 'park', transport: 'http', url: env.mcp.url });
  if (!server.ok) throw new Error(`server: ${JSON.stringify(server.error)}`);
  const bound = await app.policy.bind(orgId, 'park', 'header', 'Authorization', 'oauth:parkvendor', 'Bearer {token}');
  if (!bound.ok) throw new Error(`bind: ${JSON.stringify(bound.error)}`);
  return Promise.all(
    Array.from(
      { length: users },
      async (_, i) =>
        (
          await app.identity.resolve({
            platform: 'slack',
            workspaceId: 'T1',
            userId: `UPARK${i}`,
            displayName: `park${i}`,
            workspaceName: 'Bench',
          })
        ).user.id,
    ),
  );
}

/** `park.echo` as user `u` (Slack user UPARK<u>), the `i`-th call. */
function request(env: BenchEnv, userIds: string[], i: number, round: string): ToolCallRequest {
  const u = i % userIds.length;
  const base = env.request('alice', 'park', 'echo', { text: `${round} ${i}` }, i);
  return {
    ...base,
    userId: userIds[u]!,
    chatIdentity: `slack:T1:UPARK${u}`,
    target: { ...base.target, channelId: 'CPARK', userId: `UPARK${u}`, messageId: `${round}${i}` },
    requestId: `bench-${round}-${i}`,
  };
}

/** Enqueues `n` calls (1000 at a time) and waits until each is reported as `kind`; per-call ms from `t0` (wall clock). */
async function runAll(
  producer: Runner,
  done: Done,
  n: number,
  req: (i: number) => ToolCallRequest,
  kind: string,
  ids: string[] = [],
): Promise<{ ids: string[]; wrong: number }> {
  for (let i = ids.length; i < n; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - i) }, (_, j) => req(i + j));
    ids.push(...(await Promise.all(batch.map((r) => producer.enqueueToolCall(r).then((x) => x.callId)))));
  }
  await until(() => ids.every((id) => done.has(id)), 300_000, `${n} calls reported`);
  return { ids, wrong: ids.filter((id) => done.get(id)!.kind !== kind).length };
}

async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  for (const t = Date.now(); !ok(); await sleep(20))
    if (Date.now() - t > ms) throw new Error(`parked: not ${what} in time`);
}

/** Each user connects `parkvendor` in a browser (the grant is held: a new vendor account, an unproven browser). */
async function connectAll(env: BenchEnv, userIds: string[]): Promise<void> {
  for (const [i, userId] of userIds.entries()) {
    env.oauth.login = `park${i}-vendor`;
    const step = await authorizeInBrowser(await env.app.oauth.connectLink(env.orgId, userId, 'parkvendor'));
    if (!('callbackUrl' in step)) throw new Error(`connect park${i}: ${step.status}`);
    const cb = await step.browser.fetch(step.callbackUrl);
    if (cb.status !== 200) throw new Error(`callback park${i}: ${cb.status}`);
  }
}

/** RSS and heap (MB, after GC), 5 samples 200 ms apart; and the share of a core used per second over `seconds` idle. */
async function idleSample(p: ProductProcess, seconds: number) {
  const { rss, heap } = await sample(p);
  const cpu: number[] = [];
  let last = await p.cpu();
  for (let s = 0; s < seconds; s++) {
    const t = performance.now();
    await sleep(1000);
    const now = await p.cpu();
    cpu.push(((now - last) / 1000 / (performance.now() - t)) * 100);
    last = now;
  }
  return { rss: stats(rss), heap: stats(heap).median, cpu: stats(cpu) };
}

const latencies = (done: Done, ids: string[], t0: number) => ids.map((id) => done.get(id)!.at - t0);
const seconds = (l: number[]) => Math.max(...l) / 1000;

/**
 * Figure 9: `parkedCalls` calls of `park.echo` from many users (10 each, the default cap), none of
 * whom has connected the provider yet, through an `onbehalf serve` process (workers inside it,
 * concurrency 16): the time to park them all (each caller's connect prompt sent), serve's RSS and
 * idle CPU with them all parked against the same process idle before, and the time from their
 * grants arriving (every user confirms the grant they connected, at once) to every call answered;
 * the same calls run fresh afterwards, as the same users with their grants, are the baseline.
 */
export async function parkedCalls(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
  const n = o.parkedCalls;
  const userIds = await setUp(env, Math.ceil(n / PER_USER));
  const p = await startProductProcess(
    { ...env.childEnv, ...env.slackEnv },
    { mode: 'serve', prefix: 'bench-park', concurrency: 16, cpuProfDir: o.cpuProfDir },
  );
  const done: Done = new Map();
  p.onDone((d) => void done.set(d.callId, { kind: d.kind, at: d.at }));
  const producer = env.producer('bench-park');
  try {
    // Warm-up (not recorded): the call path compiled, the heap settled before the process is measured idle.
    const warm = await runAll(
      producer,
      done,
      Math.min(500, n),
      (i) => env.request(i % 2 ? 'bob' : 'alice', 'web', 'echo', { text: 'warm' }, i),
      'result',
    );
    if (warm.wrong) throw new Error('parked: a warm-up call was not answered with a result');
    const idle = await idleSample(p, o.parkedIdleSeconds);
    const t0 = Date.now();
    const parked = await runAll(producer, done, n, (i) => request(env, userIds, i, 'park'), 'needs_connect');
    const parkLat = latencies(done, parked.ids, t0);
    for (const id of parked.ids) done.delete(id);
    const c0 = performance.now();
    await connectAll(env, userIds);
    const connectS = (performance.now() - c0) / 1000;
    const full = await idleSample(p, o.parkedIdleSeconds);
    const tg = Date.now();
    const confirmed = await Promise.all(userIds.map((u) => p.confirmHeld(env.orgId, u, 'parkvendor')));
    const confirmS = (Date.now() - tg) / 1000;
    if (!confirmed.every(Boolean)) throw new Error('parked: a held grant was not there to confirm');
    await until(() => parked.ids.every((id) => done.has(id)), 300_000, `${n} resumed calls answered`);
    const notResult = parked.ids.filter((id) => done.get(id)!.kind !== 'result').length;
    const resumeLat = latencies(done, parked.ids, tg);
    const tf = Date.now();
    const fresh = await runAll(producer, done, n, (i) => request(env, userIds, i, 'fresh'), 'result');
    const freshLat = latencies(done, fresh.ids, tf);
    return rows(o, userIds.length, {
      idle,
      full,
      parkLat,
      resumeLat,
      freshLat,
      wrongPark: parked.wrong,
      notResult: notResult + fresh.wrong,
      connectS,
      confirmS,
    });
  } finally {
    await p.stop();
  }
}

type Sample = Awaited<ReturnType<typeof idleSample>>;

function rows(
  o: BenchOptions,
  users: number,
  m: {
    idle: Sample;
    full: Sample;
    parkLat: number[];
    resumeLat: number[];
    freshLat: number[];
    wrongPark: number;
    notResult: number;
    connectS: number;
    confirmS: number;
  },
): BenchRow[] {
  const n = o.parkedCalls;
  const label = `${n.toLocaleString('en-US')} calls, ${users.toLocaleString('en-US')} users`;
  const fresh = { label: `the same calls fresh, grants in place`, ...stats(m.freshLat) };
  const rate = (l: number[]) => Math.round(n / seconds(l));
  const park = stats(m.parkLat);
  const resume = stats(m.resumeLat);
  const growth = m.full.rss.median - m.idle.rss.median;
  const heapGrowth = m.full.heap - m.idle.heap;
  const cpuGrowth = m.full.cpu.median - m.idle.cpu.median;
  const load = `serve with workers inside (concurrency 16), ${label} (at most ${PER_USER} parked per user)`;
  return [
    {
      key: 'parked_calls',
      figure: `9. Park ${label} (enqueue → connect prompt)`,
      unit: 'ms',
      baseline: fresh,
      ours: park,
      ratio: park.median / fresh.median,
      goal: 'every call parked, its caller asked to connect',
      met: m.wrongPark === 0,
      notes: `${load}; all parked in ${seconds(m.parkLat).toFixed(1)} s (${rate(m.parkLat)} calls/s; the same calls fresh: ${seconds(m.freshLat).toFixed(1)} s, ${rate(m.freshLat)} calls/s); calls not parked: ${m.wrongPark}`,
      extra: { calls: n, users, parkS: seconds(m.parkLat), parkPerS: rate(m.parkLat), notParked: m.wrongPark },
    },
    {
      key: 'parked_calls',
      figure: `9. Resume ${label} (grant arrives → answered)`,
      unit: 'ms',
      baseline: fresh,
      ours: resume,
      ratio: resume.median / fresh.median,
      goal: 'every parked call answered once its grant arrives',
      met: m.notResult === 0,
      notes: `${load}; every user confirms their held grant at once (confirmations done in ${m.confirmS.toFixed(1)} s; the browser connects before them took ${m.connectS.toFixed(0)} s, not timed); every call answered ${seconds(m.resumeLat).toFixed(1)} s after the grants arrived: ${rate(m.resumeLat)} calls/s resumed against ${rate(m.freshLat)} calls/s fresh (each user's first resumed call opens their MCP session with the new grant: initialize, tools/list, the SDK compiling the tools' schemas; the fresh calls reuse it); calls not answered with a result: ${m.notResult}`,
      extra: {
        resumeS: seconds(m.resumeLat),
        resumePerS: rate(m.resumeLat),
        freshPerS: rate(m.freshLat),
        notResult: m.notResult,
      },
    },
    {
      key: 'parked_calls',
      figure: `9. RSS of serve with ${label} parked`,
      unit: 'MB RSS',
      baseline: { label: 'same process idle, none parked', ...m.idle.rss },
      ours: m.full.rss,
      ratio: m.full.rss.median / m.idle.rss.median,
      goal: `growth < ${PARKED_GROWTH_BOUND_MB} MB after GC (RSS and heap)`,
      met: growth < PARKED_GROWTH_BOUND_MB && heapGrowth < PARKED_GROWTH_BOUND_MB,
      notes: `${load}; RSS growth ${growth.toFixed(1)} MB (RSS right after start-up is inflated and falls once the process has run, so the heap is the finer figure); heap used ${m.idle.heap.toFixed(1)} → ${m.full.heap.toFixed(1)} MB, ${Math.round((heapGrowth * MB) / n)} bytes per parked call; after a full GC, 5 samples`,
      extra: { growthMb: growth, heapGrowthMb: heapGrowth, heapBytesPerParked: Math.round((heapGrowth * MB) / n) },
    },
    {
      key: 'parked_calls',
      figure: `9. Idle CPU of serve with ${label} parked`,
      unit: '% of a core',
      baseline: { label: 'same process idle, none parked', ...m.idle.cpu },
      ours: m.full.cpu,
      ratio: m.full.cpu.median / Math.max(m.idle.cpu.median, 0.01),
      goal: `no growth (≤ idle + ${IDLE_CPU_SLACK_PCT} point)`,
      met: cpuGrowth <= IDLE_CPU_SLACK_PCT,
      notes: `${load}; user + system CPU per second over ${o.parkedIdleSeconds} s with nothing to do, before parking and with every call parked: ${m.idle.cpu.median.toFixed(2)} → ${m.full.cpu.median.toFixed(2)} % of a core at the median`,
      extra: { cpuGrowthPct: cpuGrowth },
    },
  ];
}
