import { Secret } from '../../src/crypto/index.js';
import type { BenchEnv } from '../env.js';
import { stats, type BenchRow } from '../lib.js';
import type { BenchOptions } from '../options.js';

/**
 * Figure 5: a call of `gh.echo` (the stdio test server, alice's token in GITHUB_TOKEN) through the
 * app's MCP pool as the executor makes it (tools/list, cached per process, then tools/call): warm,
 * with the pooled process alive, against cold, after the pool dropped it (spawn + initialize +
 * tools/list + tools/call).
 */
export async function stdioPool(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
  const server = env.app.policy.server(env.orgId, 'gh');
  if (!server) throw new Error('server gh is missing');
  const creds = { env: { GITHUB_TOKEN: new Secret(env.tokens.alice) }, headers: {} };
  const pool = env.app.pool;
  const once = async (i: number) => {
    const t0 = performance.now();
    const listed = await pool.tools(server, creds);
    if (listed.kind !== 'ok') throw new Error(`stdio tools/list: ${listed.kind}`);
    const r = await pool.call(server, creds, 'echo', { text: `stdio ${i}` }, 30_000);
    if (r.kind !== 'ok') throw new Error(`stdio call: ${r.kind}`);
    return performance.now() - t0;
  };
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < o.stdioCold; i++) {
    await pool.discard(server, creds);
    cold.push(await once(i));
  }
  for (let i = 0; i < 20; i++) await once(i);
  for (let i = 0; i < o.stdioWarm; i++) warm.push(await once(i));
  await pool.discard(server, creds);
  const b = stats(cold);
  const s = stats(warm);
  return [
    {
      key: 'stdio_pool',
      figure: '5. stdio pool (gh.echo)',
      unit: 'ms',
      baseline: { label: 'cold spawn', ...b },
      ours: s,
      ratio: s.median / b.median,
      goal: 'report the ratio (no stated goal)',
      met: null,
      notes: `warm pooled call is ${(b.median / s.median).toFixed(0)}× faster than a cold spawn at the median; the cold spawn starts node + tsx + the MCP SDK server`,
    },
  ];
}
