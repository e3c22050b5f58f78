// Entry of `npm run bench` (`-- --quick` for a smoke run, `--only=slack_ack,memory` for some
// figures (`tool_overhead_pg`, `throughput_pg`: those two on Postgres), `--out=FILE` for another results file, `--settings=1x16,2x64` for some throughput settings,
// `--cpu-prof=DIR` for CPU profiles of the worker and serve processes). Builds the real product on loopback, measures
// each figure against its baseline, prints a markdown table and writes the JSON results.
import os from 'node:os';
import { startBenchEnv, type BenchEnv } from './env.js';
import { ackUnderLoad } from './figures/ack-load.js';
import { firstSign } from './figures/first-sign.js';
import { memory } from './figures/memory.js';
import { parkedCalls } from './figures/parked.js';
import { recovery } from './figures/recovery.js';
import { toolOverhead } from './figures/overhead.js';
import { refreshStorm } from './figures/storm.js';
import { slackAck } from './figures/slack.js';
import { stdioPool } from './figures/stdio.js';
import { throughput } from './figures/throughput.js';
import { table, writeResults, type BenchRow } from './lib.js';
import { benchOptions, type BenchOptions } from './options.js';
import { onPostgres } from './postgres.js';

const figures: [string, string, (env: BenchEnv, o: BenchOptions) => Promise<BenchRow[]>][] = [
  ['slack_ack', '1. Slack ack', slackAck],
  ['ack_under_load', '1b. Slack ack under tool load', ackUnderLoad],
  ['tool_overhead', '2. Tool call overhead', toolOverhead],
  ['throughput', '3. Throughput', throughput],
  ['refresh_storm', '4. Refresh storm', refreshStorm],
  ['stdio_pool', '5. stdio pool', stdioPool],
  ['memory', '6. Memory', memory],
  ['recovery', '7. Recovery', recovery],
  ['first_sign', '8. First visible sign of work', firstSign],
  ['parked_calls', '9. Parked calls', parkedCalls],
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const out = args.find((a) => a.startsWith('--out='))?.slice(6);
const o: BenchOptions = {
  ...benchOptions(quick),
  cpuProfDir: args.find((a) => a.startsWith('--cpu-prof='))?.slice(11),
};
const settings = args.find((a) => a.startsWith('--settings='))?.slice(11);
if (settings) o.throughputSettings = settings.split(',').map((x) => x.split('x').map(Number) as [number, number]);
const log = (s: string) => process.stderr.write(`${s}\n`);

const started = performance.now();
const load = os.loadavg();
const rows: BenchRow[] = [];
const failures: string[] = [];
log(`onbehalf bench${quick ? ' (quick)' : ''}: starting the product on loopback…`);
const env = await startBenchEnv();
let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await env.stop();
  process.exit(code);
};
process.once('SIGINT', () => void stop(130));
process.once('SIGTERM', () => void stop(143));
try {
  for (const [key, name, run] of figures) {
    if (only && !only.includes(key)) continue;
    const t0 = performance.now();
    log(`${name}…`);
    try {
      const got = await run(env, o);
      rows.push(...got);
      log(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      failures.push(`${key}: ${(err as Error).message}`);
      log(`${name}: FAILED: ${(err as Error).stack ?? String(err)}`);
    }
  }
  // The same figures on Postgres, beside SQLite's (`--only=tool_overhead_pg,throughput_pg` for just those).
  const pg = await onPostgres(o, (key) => !only || only.includes(key), log);
  rows.push(...pg.rows);
  failures.push(...pg.failures);
} finally {
  const meta = {
    quick,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadavgAtStart: load,
    loadavgAtEnd: os.loadavg(),
    durationS: Math.round((performance.now() - started) / 100) / 10,
    failures,
    warnings: env.logs.warnings.length,
  };
  const file = writeResults(
    rows,
    meta,
    out ?? (quick ? new URL('./results/quick.json', import.meta.url).pathname : undefined),
  );
  process.stdout.write(
    `${table(rows)}\n\n${rows
      .filter((r) => r.notes)
      .map((r) => `- ${r.figure}: ${r.notes}`)
      .join(
        '\n',
      )}\n\nresults: ${file} (${meta.durationS} s, load ${load.map((l) => l.toFixed(1)).join(' ')} → ${meta.loadavgAtEnd.map((l) => l.toFixed(1)).join(' ')})\n`,
  );
  if (env.logs.warnings.length)
    log(
      `product warnings (first ${Math.min(5, env.logs.warnings.length)}):\n${env.logs.warnings.slice(0, 5).join('\n')}`,
    );
}
await stop(failures.length ? 1 : 0);
