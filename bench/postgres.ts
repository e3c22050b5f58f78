// The Postgres rows of `npm run bench`: the tool-call overhead and throughput figures again, in the
// same run, with the product on a private Postgres server (test/support/postgres.ts: initdb +
// pg_ctl in a temp dir, stopped by PID; fsync off, as in the tests) instead of its SQLite file.
import { startTestPostgres } from '../test/support/postgres.js';
import { startBenchEnv, type BenchEnv } from './env.js';
import { toolOverhead } from './figures/overhead.js';
import { throughput } from './figures/throughput.js';
import type { BenchRow } from './lib.js';
import type { BenchOptions } from './options.js';

export const postgresFigures: [string, (env: BenchEnv, o: BenchOptions) => Promise<BenchRow[]>][] = [
  ['tool_overhead', toolOverhead],
  ['throughput', throughput],
];

/** Runs the wanted figures on Postgres; each row's key gains `_pg` and its name "(Postgres)". */
export async function onPostgres(
  o: BenchOptions,
  wanted: (key: string) => boolean,
  log: (s: string) => void,
): Promise<{ rows: BenchRow[]; failures: string[] }> {
  const rows: BenchRow[] = [];
  const failures: string[] = [];
  const figures = postgresFigures.filter(([key]) => wanted(`${key}_pg`));
  if (!figures.length) return { rows, failures };
  log('Postgres: starting a private server and the product on it…');
  const pg = await startTestPostgres();
  try {
    const env = await startBenchEnv({ databaseUrl: pg.url });
    try {
      // The two settings the SQLite rows are usually best at, to keep the run's length.
      const po: BenchOptions = {
        ...o,
        throughputSettings: o.quick
          ? o.throughputSettings
          : [
              [1, 16],
              [2, 64],
            ],
      };
      for (const [key, run] of figures) {
        const t0 = performance.now();
        try {
          for (const r of await run(env, po)) rows.push({ ...r, key: `${r.key}_pg`, figure: `${r.figure} (Postgres)` });
          log(`${key} on Postgres: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        } catch (err) {
          failures.push(`${key}_pg: ${(err as Error).message}`);
          log(`${key} on Postgres: FAILED: ${(err as Error).stack ?? String(err)}`);
        }
      }
    } finally {
      await env.stop();
    }
  } finally {
    await pg.stop();
  }
  return { rows, failures };
}
