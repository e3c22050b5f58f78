import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/redis/index.js';
import { tempDir } from '../support/env.js';
import { runCli, startCli } from '../support/cli.js';

/** Local addresses listening on `port`, from the kernel's own table (`0100007F` is 127.0.0.1). */
function listeners(port: number): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((c) => c[3] === '0A' && c[1]?.endsWith(`:${hex}`))
      .map((c) => c[1]!.split(':')[0]!),
  );
}

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

  it("each demo run has its own data, removed when it ends: a second run does not resume the first run's parked call, and the shell inherits nothing", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const port = await freePort();
      const env = { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` };
      const first = await runCli(['demo', '--script'], { cwd: dir, env });
      expect(first.code).toBe(0);
      const data = first.stdout.match(/data: (\S+), removed when the demo ends/)![1]!;
      expect(existsSync(data)).toBe(false);
      // The first run ended with a call parked for alice's demo account; connecting again must not run it too.
      const second = await runCli(['demo', '--script'], { cwd: dir, env });
      expect(second.code).toBe(0);
      expect(second.stdout.match(/You are alice at the demo provider\./g)).toHaveLength(1);
      const shell = await runCli(['shell', '--as', 'alice'], {
        cwd: dir,
        env: { PORT: String(port) },
        input: '/onbehalf whoami\n/onbehalf tools\n/onbehalf admin server list\n',
      });
      expect(shell.code).toBe(0);
      expect(shell.stdout).toMatch(/You are alice \(member\) in local/);
      expect(shell.stdout).not.toMatch(/notes|demo/);
      expect(shell.stdout).toMatch(/`\/onbehalf admin server` is for admins only/);
    } finally {
      cleanup();
    }
  });

  it('the shell and the demo listen on 127.0.0.1 only', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const port = await freePort();
      const shell = await startCli(['shell', '--as', 'ada'], {
        cwd: dir,
        env: { PORT: String(port) },
        ready: /onbehalf shell as ada/,
      });
      expect(listeners(port)).toEqual(['0100007F']);
      shell.child.stdin!.end();
      expect(await shell.exited).toBe(0);
      const demo = await startCli(['demo'], { cwd: dir, env: { PORT: String(port) }, ready: /You are alice\. Try:/ });
      expect(listeners(port)).toEqual(['0100007F']);
      demo.child.stdin!.end();
      expect(await demo.exited).toBe(0);
    } finally {
      cleanup();
    }
  });

  it('shell refuses to start without a user name, in one line', async () => {
    const { dir, cleanup } = tempDir();
    const r = await runCli(['shell'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout.trim()).toBe(
      'onbehalf shell: say who you are. Use: onbehalf shell --as NAME (1–32 letters, digits, . _ -)',
    );
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
