// `npm run bench:readme [-- --results=FILE --readme=FILE]`: writes README's Performance table from a
// bench results file (default bench/results/latest.json), between the bench:table markers, with the
// machine, its load and the date the figures were measured on.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { table, type BenchRow } from './lib.js';

interface Results {
  at: string;
  quick: boolean;
  node: string;
  cpus: number;
  cpuModel?: string;
  loadavgAtStart: number[];
  loadavgAtEnd: number[];
  durationS: number;
  failures: string[];
  rows: BenchRow[];
}

const START = '<!-- bench:table (written by npm run bench:readme from bench/results/latest.json) -->';
const END = '<!-- /bench:table -->';

/** The Performance section's measured block for these results. */
export function readmeBlock(r: Results): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  const head =
    `Measured ${r.at.slice(0, 10)} on ${r.cpus} cores (${r.cpuModel ?? 'unknown CPU'}), Node ${r.node}, ` +
    `load average ${load(r.loadavgAtStart)} at start → ${load(r.loadavgAtEnd)} at end, ` +
    `${r.quick ? 'quick run' : 'full run'} of ${Math.round(r.durationS)} s` +
    (r.failures.length ? `; figures that failed: ${r.failures.join('; ')}` : '') +
    ':';
  const notes = r.rows.filter((x) => x.notes).map((x) => `- ${x.figure}: ${x.notes}`);
  return [START, '', head, '', table(r.rows), '', ...notes, '', END].join('\n');
}

/** README with its measured block replaced (the markers must be there once each). */
export function withTable(readme: string, r: Results): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README has no ${START} … ${END} block`);
  return readme.slice(0, a) + readmeBlock(r) + readme.slice(b + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) =>
    process.argv
      .slice(2)
      .find((a) => a.startsWith(`--${name}=`))
      ?.slice(name.length + 3);
  const results = arg('results') ?? fileURLToPath(new URL('./results/latest.json', import.meta.url));
  const readme = arg('readme') ?? fileURLToPath(new URL('../README.md', import.meta.url));
  const r = JSON.parse(readFileSync(results, 'utf8')) as Results;
  writeFileSync(readme, withTable(readFileSync(readme, 'utf8'), r));
  process.stdout.write(`${readme}: Performance table written from ${results} (${r.rows.length} rows)\n`);
}
