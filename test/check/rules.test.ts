import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { tempDir } from '../support/env.js';

// `npm run check` is the house's guard: these prove it fails on each deliberate violation.
const repo = fileURLToPath(new URL('../..', import.meta.url));
const checkScript = (
  JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { scripts: { check: string } }
).scripts.check;

async function lint(file: string, code: string) {
  const eslint = new ESLint({ cwd: repo });
  const [result] = await eslint.lintText(code, { filePath: path.join(repo, file) });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => m.ruleId);
}

/** The cycle check exactly as `npm run check` runs it, aimed at `dir`. */
function cycles(dir: string) {
  const madge = checkScript.split('&&').find((s) => s.includes('madge'));
  if (!madge) throw new Error('npm run check runs no cycle check');
  const args = madge.trim().split(/\s+/).slice(1, -1); // drop `madge` and its target
  return spawnSync(path.join(repo, 'node_modules/.bin/madge'), [...args, dir], { cwd: repo, encoding: 'utf8' });
}

describe('npm run check', () => {
  it('refuses an inner layer that imports chat/ or a platform', async () => {
    for (const file of ['src/runner/probe.ts', 'src/oauth/probe.ts', 'src/agent/probe.ts', 'src/policy/x/probe.ts'])
      expect(await lint(file, "import { x } from '../chat/types.js';\nexport const y = x;\n")).toContain(
        'no-restricted-imports',
      );
    expect(
      await lint('src/identity/probe.ts', "import { x } from '../platforms/slack/index.js';\nexport const y = x;\n"),
    ).toContain('no-restricted-imports');
    // The outer layers may.
    expect(
      await lint('src/platforms/probe.ts', "import { x } from '../chat/types.js';\nexport const y = x;\n"),
    ).toEqual([]);
  });

  it('refuses a chat command hint worded in an inner layer', async () => {
    const hint = 'export const why = `connect ${"github"} with /onbehalf connect github`;\n';
    expect(await lint('src/runner/probe.ts', hint)).toContain('no-restricted-syntax');
    expect(await lint('src/policy/probe.ts', "export const why = 'ask an admin: /onbehalf admin bind';\n")).toContain(
      'no-restricted-syntax',
    );
    expect(await lint('src/chat/probe.ts', hint)).toEqual([]);
  });

  it('refuses a file over 300 lines and a function over 60', async () => {
    const long = Array.from({ length: 301 }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n';
    expect(await lint('src/chat/probe.ts', long)).toContain('max-lines');
    const body = Array.from({ length: 60 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    expect(await lint('src/chat/probe.ts', `export function f() {\n${body}\n  return 0;\n}\n`)).toContain(
      'max-lines-per-function',
    );
  });

  it('finds an import cycle, and src/ has none', () => {
    const { dir, cleanup } = tempDir();
    try {
      mkdirSync(path.join(dir, 'ring'));
      writeFileSync(path.join(dir, 'ring/a.ts'), "import { b } from './b.js';\nexport const a = () => b;\n");
      writeFileSync(path.join(dir, 'ring/b.ts'), "import { a } from './a.js';\nexport const b = () => a;\n");
      const bad = cycles(path.join(dir, 'ring'));
      expect(bad.status).not.toBe(0);
      expect(bad.stdout + bad.stderr).toMatch(/a\.ts > b\.ts/);
      const src = cycles(path.join(repo, 'src'));
      expect(src.stdout + src.stderr).toMatch(/No circular dependency found/);
      expect(src.status).toBe(0);
    } finally {
      cleanup();
    }
  });
});
