import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Median and p99 of a sample, in its unit. */
export function stats(samples: number[]): { median: number; p99: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  return { median: at(0.5), p99: at(0.99), n: s.length };
}

/** One row of the results table: a figure measured against its baseline in the same run. */
export interface BenchRow {
  /** Which figure: slack_ack, ack_under_load, tool_overhead, throughput, refresh_storm, stdio_pool, memory, recovery, first_sign, parked_calls. */
  key: string;
  figure: string;
  unit: string;
  baseline: { label: string; median: number; p99: number; n: number } | null;
  ours: { median: number; p99: number; n: number };
  /** ours/baseline at the median (null without a baseline). */
  ratio: number | null;
  goal: string;
  met: boolean | null;
  notes?: string;
  /** Figure-specific counts (crossings, refresh requests, MB …). */
  extra?: Record<string, number | string | boolean>;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The markdown table `npm run bench` prints. */
export function table(rows: BenchRow[]): string {
  const lines = [
    '| figure | baseline (median / p99) | ours (median / p99) | ratio | goal | met |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) =>
      [
        r.figure,
        r.baseline ? `${r.baseline.label}: ${fmt(r.baseline.median)} / ${fmt(r.baseline.p99)} ${r.unit}` : '—',
        `${fmt(r.ours.median)} / ${fmt(r.ours.p99)} ${r.unit}`,
        r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
        r.goal,
        r.met === null ? '—' : r.met ? 'yes' : '**no**',
      ]
        .join(' | ')
        .replace(/^/, '| ')
        .replace(/$/, ' |'),
    ),
  ];
  return lines.join('\n');
}

/** Writes the results as JSON to `file` (default `bench/results/latest.json`); returns its path. */
export function writeResults(rows: BenchRow[], meta: Record<string, unknown>, file?: string): string {
  const target = file ?? fileURLToPath(new URL('./results/latest.json', import.meta.url));
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, JSON.stringify({ at: new Date().toISOString(), ...meta, rows }, null, 2) + '\n');
  return target;
}

/** Milliseconds since `t0` (from performance.now()). */
export const since = (t0: number) => performance.now() - t0;
