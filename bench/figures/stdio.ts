import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Secret } from '../../src/crypto/index.js';
import { stdioServerCommand } from '../../test/support/mcp-servers/index.js';
import type { BenchEnv } from '../env.js';
import { stats, type BenchRow } from '../lib.js';
import type { BenchOptions } from '../options.js';

/** An MCP SDK stdio client of its own to the same server (the floor for the pool), connected. */
async function directClient(env: BenchEnv): Promise<Client> {
  const client = new Client({ name: 'bench-direct-stdio', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      ...stdioServerCommand,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GITHUB_TOKEN: env.tokens.alice },
      stderr: 'ignore',
    }),
  );
  return client;
}

/**
 * Figure 5: a call of `gh.echo` (the stdio test server, alice's token in GITHUB_TOKEN) through the
 * app's MCP pool as the executor makes it (tools/list, cached per process, then tools/call): warm,
 * with the pooled process alive, against cold, after the pool dropped it (spawn + initialize +
 * tools/list + tools/call), and against a warm call of a direct MCP SDK stdio client to the same server
 * (the two alternating call by call).
 */
export async function stdioPool(env: BenchEnv, o: BenchOptions): Promise<BenchRow[]> {
  const server = await env.app.policy.server(env.orgId, 'gh');
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
  // Warm calls alternate one by one with the direct client's, so both see the same moments of the machine.
  const client = await directClient(env);
  const viaSdk = async (i: number) => {
    const t0 = performance.now();
    await client.callTool({ name: 'echo', arguments: { text: `direct ${i}` } });
    return performance.now() - t0;
  };
  const directTimes: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      await once(i);
      await viaSdk(i);
    }
    for (let i = 0; i < o.stdioWarm; i++) {
      warm.push(await once(i));
      directTimes.push(await viaSdk(i));
    }
  } finally {
    await client.close();
    await pool.discard(server, creds);
  }
  const direct = stats(directTimes);
  const b = stats(cold);
  const s = stats(warm);
  return [
    {
      key: 'stdio_pool',
      figure: '5. stdio pool (gh.echo), warm against cold',
      unit: 'ms',
      baseline: { label: 'cold spawn', ...b },
      ours: s,
      ratio: s.median / b.median,
      goal: 'report the ratio (no stated goal)',
      met: null,
      notes: `warm pooled call is ${(b.median / s.median).toFixed(0)}× faster than a cold spawn at the median; the cold spawn starts node + tsx + the MCP SDK server`,
    },
    {
      key: 'stdio_pool',
      figure: '5. stdio pool (gh.echo), warm against a direct SDK client',
      unit: 'ms',
      baseline: { label: 'warm direct MCP SDK stdio call', ...direct },
      ours: s,
      ratio: s.median / direct.median,
      goal: '≤ 1.2× the direct call',
      met: s.median <= 1.2 * direct.median,
      notes: 'ours includes the pool lookup and the cached tools/list the executor makes before each call',
    },
  ];
}
