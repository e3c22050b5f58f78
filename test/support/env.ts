import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';

/** A fresh temporary data directory, removed by the returned function. */
export function tempDir(prefix = 'onbehalf-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A random sealing key entry for ONBEHALF_KEYS. */
export const testKey = (id = 'k1'): string => `${id}:${randomBytes(32).toString('base64')}`;

/** Config for a test: temp data dir, port 0, a random key, quiet logs, plus `env` overrides. */
export function testConfig(dataDir: string, env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    ONBEHALF_DATA_DIR: dataDir,
    ONBEHALF_KEYS: testKey(),
    ONBEHALF_ALLOW_PRIVATE_URLS: 'true',
    LOG_LEVEL: 'debug',
    // The tool workers run in the test's process, with the seams a test brings; tests of the
    // supervised worker processes set their own count.
    ONBEHALF_WORKERS: '0',
    ...env,
  });
}
