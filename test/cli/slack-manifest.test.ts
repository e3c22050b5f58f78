import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/env.js';
import { runCli } from '../support/cli.js';
import { SLACK_BOT_SCOPES } from '../../src/platforms/slack/index.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
const urls = (manifest: string) => [...manifest.matchAll(/(?:url: |- )(https?:\/\/\S+)/g)].map((m) => m[1]);

describe('onbehalf slack manifest', () => {
  it('prints the manifest with every URL on PUBLIC_URL, the scopes the install asks for, and touches nothing', async () => {
    const cwd = dir();
    const r = await runCli(['slack', 'manifest'], { cwd, env: { PUBLIC_URL: 'https://bot.acme.test/' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe('# onbehalf for PUBLIC_URL=https://bot.acme.test.');
    expect(r.stdout).not.toContain('example.com');
    expect(urls(r.stdout)).toEqual([
      'https://bot.acme.test/slack/events',
      'https://bot.acme.test/slack/oauth_redirect',
      'https://bot.acme.test/slack/events',
      'https://bot.acme.test/slack/events',
    ]);
    const scopes = [
      ...r.stdout
        .split('    bot:\n')[1]!
        .split('settings:')[0]!
        .matchAll(/^ {6}- ([a-z:._]+)$/gm),
    ].map((m) => m[1]);
    expect(scopes).toEqual(SLACK_BOT_SCOPES);
    expect(scopes).toContain('users:read.email');
    expect(r.stdout).toMatch(/^ {2}socket_mode_enabled: false$/m);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('--socket turns Socket Mode on and leaves out the URLs Slack would post to', async () => {
    const r = await runCli(['slack', 'manifest', '--socket'], {
      cwd: dir(),
      env: { PUBLIC_URL: 'https://bot.acme.test' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}socket_mode_enabled: true$/m);
    expect(urls(r.stdout)).toEqual(['https://bot.acme.test/slack/oauth_redirect']);
    expect(r.stdout.split('\n')[0]).toMatch(/Socket Mode: also create an app-level token with connections:write/);
  });

  it('without an https PUBLIC_URL it says in one line that Slack cannot reach it', async () => {
    const r = await runCli(['slack', 'manifest'], { cwd: dir(), env: { PORT: '4000' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'onbehalf: PUBLIC_URL is http://localhost:4000, which Slack cannot reach; set PUBLIC_URL to the https URL of this server.\n',
    );
    expect(urls(r.stdout)).toContain('http://localhost:4000/slack/events');
  });
});
