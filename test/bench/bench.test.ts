import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchRow } from '../../bench/lib.js';
import { tempDir } from '../support/env.js';
import { childEnv } from '../support/cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = tempDir('onbehalf-bench-test-');
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  tmp.cleanup();
});

/** Runs `tsx bench/run.ts --quick` in its own process; resolves with its exit code and output. */
function runQuickBench(out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/run.ts'), '--quick', `--out=${out}`], {
      cwd: root,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --quick', () => {
  it('measures all ten figures against their baselines (two of them again on Postgres), prints the table and writes the JSON', async () => {
    const out = path.join(tmp.dir, 'quick.json');
    const r = await runQuickBench(out);
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { quick: boolean; failures: string[]; rows: BenchRow[] };
    expect(json.quick).toBe(true);
    expect(json.failures).toEqual([]);
    const keys = new Set(json.rows.map((row) => row.key));
    expect([...keys].sort()).toEqual([
      'ack_under_load',
      'first_sign',
      'memory',
      'parked_calls',
      'recovery',
      'refresh_storm',
      'slack_ack',
      'stdio_pool',
      'throughput',
      'throughput_pg',
      'tool_overhead',
      'tool_overhead_pg',
    ]);
    // The Postgres rows: the same figures against their own baseline, 0 token crossings.
    const onPg = json.rows.filter((row) => row.key.endsWith('_pg'));
    expect(onPg.every((row) => row.figure.endsWith('(Postgres)'))).toBe(true);
    expect(onPg.length).toBeGreaterThanOrEqual(2);
    for (const row of onPg.filter((x) => x.key === 'throughput_pg')) expect(row.extra?.crossings, row.figure).toBe(0);
    for (const row of json.rows) {
      for (const v of [row.ours.median, row.ours.p99, row.baseline?.median, row.baseline?.p99, row.ratio]) {
        expect(typeof v, `${row.figure}`).toBe('number');
        expect(Number.isFinite(v), `${row.figure}`).toBe(true);
      }
      expect(row.ours.n, row.figure).toBeGreaterThan(0);
      expect(r.stdout).toContain(`| ${row.figure} |`);
    }
    // Correctness the figures rely on (not timings): no call carried another user's token, one refresh per storm.
    for (const row of json.rows.filter((x) => x.key === 'throughput')) expect(row.extra?.crossings, row.figure).toBe(0);
    expect(json.rows.find((x) => x.key === 'refresh_storm')?.extra?.refreshRequestsMax).toBe(1);
    // The killed worker's call ran again on the other one and was answered (the figure throws otherwise).
    expect(json.rows.find((x) => x.key === 'recovery')?.extra?.trials).toBe(1);
    // Every mention, in Slack and in Discord, showed a sign of work and was answered (the figure throws otherwise).
    const firstSign = json.rows.filter((x) => x.key === 'first_sign');
    expect(firstSign.map((x) => x.extra?.turns)).toEqual([20, 20]);
    // Every call parked, then answered with a result once its user's grant arrived (and again fresh).
    const parked = json.rows.filter((x) => x.key === 'parked_calls');
    expect(parked).toHaveLength(4);
    expect(parked.map((x) => x.extra?.notParked ?? x.extra?.notResult ?? 0)).toEqual([0, 0, 0, 0]);
    expect(json.rows.filter((x) => x.key === 'memory')).toHaveLength(2);
  }, 240_000);
});
