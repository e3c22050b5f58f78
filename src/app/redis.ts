import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import {
  RedisReachability,
  checkEvictionPolicy,
  ingressConnection,
  isConnectionError,
  maskRedisUrl,
  startPrivateRedis,
} from '../redis/index.js';

/** The Redis of a `serve` or `worker` process. */
export interface AppRedis {
  /** REDIS_URL, or the private redis-server's. */
  url: string;
  /** Fail-fast connection for ingress. */
  redis: Redis;
  /** The one voice that says Redis is away (throttled) and back. */
  reach: RedisReachability;
  /** Quits the connection, then stops the private redis-server if this process started one. */
  close(): Promise<void>;
}

/** REDIS_URL, or a private redis-server started under the data directory; connected for ingress. */
export async function connectRedis(config: Config, log: Logger): Promise<AppRedis> {
  const own = config.redisUrl
    ? undefined
    : await startPrivateRedis({ dir: path.join(config.dataDir, 'redis') }).then((p) => {
        log.info({ port: p.port, pid: p.pid }, 'started private redis-server');
        return p;
      });
  const url = config.redisUrl ?? own!.url;
  const reach = new RedisReachability(
    config.redisUrl ? `REDIS_URL=${maskRedisUrl(url)}` : `the private redis-server ${url}`,
    log,
  );
  const redis = ingressConnection(url);
  redis.on('error', (err) => reach.failed(err)); // the connection's errors: one throttled line
  redis.on('ready', () => reach.ready());
  return {
    url,
    redis,
    reach,
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
      await own?.stop();
    },
  };
}

/** Resolves when `redis` is ready, reports its first error, or after `ms`, whichever comes first. */
export function firstAnswer(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    redis.once('ready', done);
    redis.once('error', done);
  });
}

/**
 * Runs `onReady` each time Redis becomes ready (now, if it answers within 2 s, and after every
 * reconnect); with REDIS_URL its eviction policy is checked too. Redis away never holds up the caller long.
 */
export async function whenRedisReady(config: Config, r: AppRedis, log: Logger, onReady: () => Promise<void>) {
  const ready = () => {
    if (config.redisUrl) void checkEvictionPolicy(r.redis, log);
    return onReady();
  };
  await firstAnswer(r.redis, 2000);
  r.redis.on('ready', () => void ready());
  if (r.redis.status === 'ready') await ready();
}

/** Wraps the runner's logger: connection errors of its queues and workers go to `reach` (one voice). */
export function quietConnectionErrors(log: Logger, reach: RedisReachability): Logger {
  return new Proxy(log, {
    get(target, prop) {
      if (prop === 'warn') {
        return (obj: unknown, ...rest: unknown[]) => {
          const err = (obj as { err?: unknown } | null)?.err;
          if (typeof err === 'string' && isConnectionError(err)) return reach.failed(err);
          return (target.warn as (...a: unknown[]) => void)(obj, ...rest);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
