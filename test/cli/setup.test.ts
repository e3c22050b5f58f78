import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/env.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

describe('scripts/setup', () => {
  it('names each missing build tool on its own line, says how to install it, and installs nothing', () => {
    const { dir, cleanup } = tempDir();
    try {
      // A PATH with node, npm and the basics, but no python3, make or g++.
      const bin = path.join(dir, 'bin');
      mkdirSync(bin);
      for (const cmd of ['node', 'npm', 'dirname', 'id', 'printf'])
        if (which(cmd)) symlinkSync(which(cmd), path.join(bin, cmd));
      const r = spawnSync('/bin/bash', [path.join(repo, 'scripts/setup')], {
        encoding: 'utf8',
        env: { PATH: bin, HOME: dir },
      });
      expect(r.status).toBe(1);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toEqual([
        'setup: missing: python3 — node-gyp needs it to build better-sqlite3 from source (install: sudo apt-get install python3)',
        'setup: missing: make — builds better-sqlite3 from source (install: sudo apt-get install make)',
        'setup: missing: g++ — compiles better-sqlite3 from source (install: sudo apt-get install g++)',
        'setup: install the tools above, then run ./scripts/setup again',
      ]);
      expect(r.stdout).not.toMatch(/npm ci|installing the npm packages/);
    } finally {
      cleanup();
    }
  });

  it('installs with npm ci from the committed lock, and says why it takes time', () => {
    const setup = readFileSync(path.join(repo, 'scripts/setup'), 'utf8');
    expect(setup).toMatch(/^npm ci --no-audit --no-fund$/m);
    expect(setup).not.toMatch(/^npm install/m);
    expect(setup).toMatch(/better-sqlite3 is built from source .*\n.*about 1–2 minutes/);
  });

  it('the committed lock is the one npm writes: every optional msgpackr-extract platform build is in it', () => {
    const lock = JSON.parse(readFileSync(path.join(repo, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    const extract = JSON.parse(readFileSync(path.join(repo, 'node_modules/msgpackr-extract/package.json'), 'utf8')) as {
      optionalDependencies: Record<string, string>;
    };
    const names = Object.keys(extract.optionalDependencies);
    expect(names.some((n) => n.includes('darwin'))).toBe(true);
    for (const name of names) expect(lock.packages).toHaveProperty([`node_modules/${name}`]);
  });

  it('installs Chromium for the browser tests only with --tests, which CI passes; an unknown option is refused', () => {
    const setup = readFileSync(path.join(repo, 'scripts/setup'), 'utf8');
    expect(setup).toMatch(
      /elif \[ "\$tests" -eq 1 \]; then\n.*chromium[\s\S]*?apt-get install -y -qq chromium fonts-liberation/,
    );
    expect(readFileSync(path.join(repo, '.ci/run'), 'utf8')).toMatch(/^\.\/scripts\/setup --tests \|\|/m);
    const r = spawnSync('/bin/bash', [path.join(repo, 'scripts/setup'), '--bogus'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout.trim()).toBe('setup: unknown option: --bogus (use --tests or --help)');
  });
});
