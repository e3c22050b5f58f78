import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { childEnv } from '../support/cli.js';

const clone = fileURLToPath(new URL('../..', import.meta.url));

/** `npx onbehalf …` typed in the clone; offline, so it can only be the clone's own bin. */
const npx = (...args: string[]) =>
  spawnSync('npx', ['onbehalf', ...args], {
    cwd: clone,
    env: childEnv({ npm_config_offline: 'true', npm_config_update_notifier: 'false' }),
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('npx onbehalf in a fresh clone (no npm link)', () => {
  it("runs the clone's own command: help, and a subcommand's --help", () => {
    const help = npx('help');
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout.split('\n')[0]).toBe('Usage: onbehalf <command> [options]');
    const serve = npx('serve', '--help');
    expect(serve.status, serve.stderr).toBe(0);
    expect(serve.stdout.split('\n')[0]).toBe('Usage: onbehalf serve');
  });
});
