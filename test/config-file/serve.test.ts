import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { ShellOutbound } from '../../src/platforms/shell/index.js';
import { tempDir, testConfig, testKey } from '../support/env.js';
import { LogCapture } from '../support/logs.js';
import { stdioServerCommand } from '../support/mcp-servers/index.js';
import { testDialect, testPostgresUrl } from '../support/store.js';
import { ShellSession } from '../support/shell.js';
import { startTestRedis } from '../support/redis.js';

const fileWith = (servers: boolean) => `orgs:
  - platform: shell
    workspace: local
    admins: [ada]
${
  servers
    ? `    servers:
      - name: notes
        transport: stdio
        command: ${JSON.stringify(stdioServerCommand.command)}
        args: ${JSON.stringify(stdioServerCommand.args)}
    rules:
      - allow: notes
        tools: "*"
`
    : ''
}`;

const open: { app?: App; ada?: ShellSession; cleanup?: () => void } = {};
afterEach(async () => {
  await open.ada?.close();
  await open.app?.stop();
  open.cleanup?.();
});

describe('serve applies the config file at start', () => {
  it("runs the file's stdio server without ONBEHALF_ALLOW_STDIO, refuses chat changes to it, and leaves what chat made when the file drops it", async () => {
    const { dir, cleanup } = tempDir('onbehalf-config-serve-');
    open.cleanup = cleanup;
    const file = path.join(dir, 'onbehalf.yaml');
    writeFileSync(file, fileWith(true));
    // One key for both starts: the second opens what the first sealed.
    const env = {
      ONBEHALF_CONFIG: file,
      ONBEHALF_KEYS: testKey(),
      PORT: '0',
      // Under the Postgres run, one fresh database for both starts.
      ...(testDialect === 'postgres' ? { DATABASE_URL: await testPostgresUrl() } : {}),
    };
    const start = async () => {
      const app = await createApp(testConfig(dir, env), { logDestination: new LogCapture() });
      await app.start();
      open.app = app;
      app.outbound.register('shell', new ShellOutbound(() => open.ada?.stream));
      return app;
    };
    const app = await start();
    const ada = (open.ada = new ShellSession(app.chat, 'ada'));

    const org1 = (await app.identity.orgOf('shell', 'local'))!;
    const events = await app.audit.query(org1.id);
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['config.admin.create', 'config.server.create', 'config.rule.create']),
    );
    expect(events.find((e) => e.action === 'config.server.create')?.detail).toEqual({ file, key: 'notes' });

    const from = ada.output.length;
    await ada.send('/onbehalf run notes.echo {"text":"hello from the config file"}');
    await ada.waitFor(/hello from the config file/, from);

    const managed = `is managed by the config file ${file}; change it there (nothing was changed).`;
    expect(await ada.send('/onbehalf admin server remove notes')).toBe(`onbehalf (only you): Server notes ${managed}`);
    expect(await ada.send('/onbehalf admin bind notes env TOKEN org_secret:token')).toBe(
      `onbehalf (only you): Server notes (with its bindings) ${managed}`,
    );
    expect(await ada.send('/onbehalf admin role revoke ada')).toMatch(
      /^onbehalf \(only you\): The admin role of ada is managed/,
    );
    expect(await ada.send('/onbehalf admin server add other stdio /bin/true')).toMatch(/ONBEHALF_ALLOW_STDIO=true/);
    expect(await ada.send('/onbehalf admin team create ops')).toBe('onbehalf (only you): Created team ops.');
    expect(await ada.send('/onbehalf admin server list')).toMatch(/notes \(stdio /);

    await ada.close();
    open.ada = undefined;
    await app.stop();
    open.app = undefined;
    writeFileSync(file, fileWith(false));
    const again = await start();
    const org = (await again.identity.orgOf('shell', 'local'))!;
    expect(await again.policy.server(org.id, 'notes')).toBeUndefined();
    expect(await again.policy.teams.find(org.id, 'ops')).toBeDefined();
    const ada2 = (open.ada = new ShellSession(again.chat, 'ada'));
    expect(await ada2.send('/onbehalf admin server list')).toBe('onbehalf (only you): No MCP servers yet.');
    expect(await ada2.send('/onbehalf admin team delete ops')).toMatch(/ops/);
  }, 90_000);

  // Replicas share Postgres (two apps on one SQLite file in one process would block each other's
  // synchronous busy wait): this runs under `npm run test:pg`.
  it.runIf(testDialect === 'postgres')(
    'two replicas started at the same moment with the same file both start, and the declared server and rule each exist once',
    async () => {
      const dirs = [tempDir('onbehalf-config-a-'), tempDir('onbehalf-config-b-'), tempDir('onbehalf-config-db-')];
      const redis = await startTestRedis();
      const apps: App[] = [];
      try {
        const file = path.join(dirs[2]!.dir, 'onbehalf.yaml');
        writeFileSync(file, fileWith(true));
        const env = {
          ONBEHALF_CONFIG: file,
          ONBEHALF_KEYS: testKey(),
          PORT: '0',
          REDIS_URL: redis.url,
          DATABASE_URL: await testPostgresUrl(),
        };
        const made = await Promise.allSettled(
          [dirs[0]!, dirs[1]!].map((d) => createApp(testConfig(d.dir, env), { logDestination: new LogCapture() })),
        );
        for (const m of made) if (m.status === 'fulfilled') apps.push(m.value);
        expect(made.map((m) => (m.status === 'rejected' ? String(m.reason) : 'started'))).toEqual([
          'started',
          'started',
        ]);
        const org = (await apps[0]!.identity.orgOf('shell', 'local'))!;
        const servers = await apps[1]!.policy.servers(org.id);
        expect(servers.map((x) => x.name)).toEqual(['notes']);
        // Rules have no natural key: without the replicas' shared lock each would add the file's rule.
        expect(await apps[0]!.policy.rules(servers[0]!.id)).toHaveLength(1);
      } finally {
        for (const a of apps) await a.stop();
        await redis.stop();
        for (const d of dirs) d.cleanup();
      }
    },
  );
});
