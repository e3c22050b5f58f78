import path from 'node:path';
import { startTestApp, type TestApp } from './app.js';
import { Balancer } from './balancer.js';
import { tempDir, testKey } from './env.js';
import { testDialect, testPostgresUrl } from './store.js';
import { world, type World, type WorldOptions } from './world.js';

/** Two `serve` replicas of one deployment: the world's app (`a`) and a second app (`b`). */
export interface Replicas {
  /** The world: its peers (Redis, OAuth server, MCP server, LLM) and replica `a`. */
  w: World;
  a: TestApp;
  b: TestApp;
  /** The load balancer both sit behind: the deployment's PUBLIC_URL. Routes to `a` unless told otherwise. */
  lb: Balancer;
  stop(): Promise<void>;
}

/**
 * Two real apps behind one load balancer (their PUBLIC_URL) (`createApp`, each with its own data directory and web port) sharing only what a
 * deployment shares: the database (`DATABASE_URL`: a file, or under `npm run test:pg` a Postgres database), the world's Redis, the sealing keys
 * and the rest of `o.env`. What the world sets up through `a` (provider, servers) `b` reads from
 * the shared database.
 */
export async function replicas(
  o: Omit<WorldOptions, 'redis' | 'mode'> = {},
  /** Composition-root options of `b` alone (e.g. no tool workers: every call and turn then runs on `a`). */
  bApp: WorldOptions['app'] = o.app,
): Promise<Replicas> {
  const db = tempDir('onbehalf-replicas-db-');
  const lb = await Balancer.start();
  const shared = {
    DATABASE_URL: testDialect === 'postgres' ? await testPostgresUrl() : `file:${path.join(db.dir, 'onbehalf.db')}`,
    ONBEHALF_KEYS: testKey(),
    PUBLIC_URL: lb.url,
    ...o.env,
  };
  const w = await world({ ...o, env: shared });
  try {
    const b = await startTestApp(
      {
        ...shared,
        REDIS_URL: w.redis!.url,
        ...(w.llm ? { LLM_BASE_URL: w.llm.baseUrl, LLM_MODEL: 'scripted' } : {}),
      },
      'serve',
      bApp,
    );
    lb.backends.set('a', w.t.baseUrl);
    lb.backends.set('b', b.baseUrl);
    return {
      w,
      a: w.t,
      b,
      lb,
      async stop() {
        await b.stop();
        await w.stop();
        await lb.stop();
        db.cleanup();
      },
    };
  } catch (err) {
    await w.stop();
    await lb.stop();
    db.cleanup();
    throw err;
  }
}
