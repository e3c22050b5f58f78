import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/env.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run bench:readme', () => {
  it("writes README's Performance table from a results file: separator row, machine, load, date", () => {
    const tmp = tempDir('onbehalf-bench-readme-');
    try {
      const results = path.join(tmp.dir, 'latest.json');
      const readme = path.join(tmp.dir, 'README.md');
      const row = {
        key: 'recovery',
        figure: '7. Recovery (worker SIGKILLed mid-call)',
        unit: 'ms',
        baseline: { label: 'fresh call picked up', median: 12, p99: 30, n: 5 },
        ours: { median: 6100, p99: 8800, n: 5 },
        ratio: 508.3,
        goal: 'running again < 10 s',
        met: true,
        notes: 'worst trial 8800 ms',
      };
      writeFileSync(
        results,
        JSON.stringify({
          at: '2026-12-02T11:00:00.000Z',
          quick: false,
          node: 'v20.20.2',
          cpus: 2,
          cpuModel: 'Test CPU',
          loadavgAtStart: [0.5, 0.4, 0.3],
          loadavgAtEnd: [1.9, 1.2, 0.8],
          durationS: 181.2,
          failures: [],
          rows: [row],
        }),
      );
      const marker = '<!-- bench:table (written by npm run bench:readme from bench/results/latest.json) -->';
      writeFileSync(readme, `# Performance\n\n${marker}\nold table\n<!-- /bench:table -->\n\nafter\n`);
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'bench/readme.ts', `--results=${results}`, `--readme=${readme}`],
        { cwd: root, encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      const out = readFileSync(readme, 'utf8');
      expect(out).not.toContain('old table');
      expect(out).toContain(
        'Measured 2026-12-02 on 2 cores (Test CPU), Node v20.20.2, load average 0.5 0.4 0.3 at start → 1.9 1.2 0.8 at end, full run of 181 s:',
      );
      expect(out).toContain(
        '| figure | baseline (median / p99) | ours (median / p99) | ratio | goal | met |\n|---|---|---|---|---|---|\n',
      );
      expect(out).toContain(
        '| 7. Recovery (worker SIGKILLed mid-call) | fresh call picked up: 12.0 / 30.0 ms | 6100 / 8800 ms | 508.30× | running again < 10 s | yes |',
      );
      expect(out).toContain('- 7. Recovery (worker SIGKILLed mid-call): worst trial 8800 ms');
      expect(out.endsWith('<!-- /bench:table -->\n\nafter\n')).toBe(true);
    } finally {
      tmp.cleanup();
    }
  });
});
