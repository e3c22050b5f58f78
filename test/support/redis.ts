import path from 'node:path';
import { startPrivateRedis, type PrivateRedis } from '../../src/redis/index.js';
import { tempDir } from './env.js';

/** A real redis-server on a free loopback port with AOF, for one test file. Stop it in afterAll. */
export async function startTestRedis(): Promise<PrivateRedis & { dir: string }> {
  const { dir, cleanup } = tempDir('onbehalf-redis-');
  const redis = await startPrivateRedis({ dir: path.join(dir, 'redis') });
  return {
    ...redis,
    dir,
    async stop() {
      await redis.stop();
      cleanup();
    },
  };
}
