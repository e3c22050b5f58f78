import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';

/**
 * Connection for ingress (web, chat adapters, Queue.add): fails fast when Redis is down so the
 * caller answers non-2xx and the platform retries, instead of buffering in an offline queue.
 */
export function ingressConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false, connectTimeout: 2000 } satisfies RedisOptions);
}

/**
 * Connection for workers: waits and reconnects forever (BullMQ requires maxRetriesPerRequest null).
 * Connection errors while Redis is away are expected; they go to `onError` (BullMQ's worker
 * `error` event reports them too), never to ioredis's "Unhandled error event" on stderr.
 */
export function workerConnection(url: string, onError: (err: Error) => void = () => undefined): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: null, enableOfflineQueue: true, retryStrategy: (n) => Math.min(n * 200, 2000) });
  r.on('error', onError);
  return r;
}

/** Warns unless Redis evicts nothing (BullMQ loses jobs under any other policy). */
export async function checkEvictionPolicy(redis: Redis, log: Logger): Promise<string | undefined> {
  try {
    const res = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = res[1];
    if (policy !== 'noeviction') {
      log.warn({ policy }, `Redis maxmemory-policy is "${policy}"; set it to noeviction or queued jobs can be lost`);
    }
    return policy;
  } catch {
    log.warn('could not read Redis maxmemory-policy (CONFIG GET refused); make sure it is noeviction');
    return undefined;
  }
}

/** Resolves once the connection is ready; rejects after `timeoutMs` (default 5000) with a clear message. */
export function waitReady(redis: Redis, timeoutMs = 5000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
