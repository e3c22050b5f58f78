import { createApp, type App, type AppMode, type AppOptions } from '../../src/app.js';
import { freePort } from '../../src/redis/index.js';
import { LogCapture } from './logs.js';
import { tempDir, testConfig } from './env.js';
import { testDialect, testPostgresUrl } from './store.js';

export interface TestApp<M extends AppMode = 'serve'> {
  app: App<M>;
  logs: LogCapture;
  dataDir: string;
  /** `http://127.0.0.1:<port>` once started in serve mode. */
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * The real product, built by the composition root with a temp data dir and captured logs.
 * `env` overrides variables (pass REDIS_URL to share a test redis; unset, a private one starts).
 */
export async function startTestApp<M extends AppMode = 'serve'>(
  env: Record<string, string | undefined> = {},
  mode: M = 'serve' as M,
  extra: Omit<AppOptions, 'mode' | 'logDestination'> = {},
): Promise<TestApp<M>> {
  const { dir, cleanup } = tempDir();
  const logs = new LogCapture();
  // Links the app prints (connect links, redirect URI) must reach it: fix the port up front.
  if (mode === 'serve' && env.PORT === undefined) {
    const port = await freePort();
    env = { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...env };
  }
  // Under `npm run test:pg` each app without a database of its own gets a fresh Postgres database.
  if (testDialect === 'postgres' && env.DATABASE_URL === undefined)
    env = { ...env, DATABASE_URL: await testPostgresUrl() };
  const app = await createApp<M>(testConfig(dir, env), { ...extra, mode, logDestination: logs });
  await app.start();
  return {
    app,
    logs,
    dataDir: dir,
    baseUrl: `http://127.0.0.1:${app.port ?? 0}`,
    async stop() {
      await app.stop();
      cleanup();
    },
  };
}
