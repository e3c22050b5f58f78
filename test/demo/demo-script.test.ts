import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/redis/index.js';
import { tempDir } from '../support/env.js';
import { runCli } from '../support/cli.js';

describe('onbehalf demo --script', () => {
  it('connects, runs, disconnects offline on the embedded defaults, and exits 0; a second run works too', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const port = await freePort();
      const env = { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` };
      const first = await runCli(['demo', '--script'], { cwd: dir, env });
      expect(first.stdout).toMatch(/→ Connect demo: http:\/\/127\.0\.0\.1:\d+\/oauth\/start\?t=/);
      expect(first.stdout).toMatch(/demo account @alice is now connected for alice in local/);
      expect(first.stdout).toMatch(/You are alice at the demo provider\./);
      expect(first.stdout).toMatch(/1\. Hello from the onbehalf demo/);
      expect(first.stdout).toMatch(/Disconnected demo/);
      expect(first.stdout).toMatch(/Walkthrough complete/);
      expect(first.code).toBe(0);
      const second = await runCli(['demo', '--script', '--as', 'bob'], { cwd: dir, env });
      expect(second.stdout).toMatch(/You are bob at the demo provider\./);
      expect(second.code).toBe(0);
    } finally {
      cleanup();
    }
  });

  it('shell refuses to start without a user name, in one line', async () => {
    const { dir, cleanup } = tempDir();
    const r = await runCli(['shell'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout.trim()).toBe('onbehalf shell: say who you are. Use: onbehalf shell --as NAME (1–32 letters, digits, . _ -)');
    cleanup();
  });

  it('`onbehalf shell --as NAME` reads commands from the terminal and answers as that user', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const port = await freePort();
      const r = await runCli(['shell', '--as', 'ada'], {
        cwd: dir,
        env: { PORT: String(port), ONBEHALF_ADMINS: 'shell:local:ada' },
        input: '/onbehalf whoami\nhello there\n/onbehalf admin secret list\n',
      });
      expect(r.stdout).toMatch(/You are ada \(admin\) in local/);
      expect(r.stdout).toMatch(/No secrets yet/);
      expect(r.code).toBe(0);
    } finally {
      cleanup();
    }
  });
});
