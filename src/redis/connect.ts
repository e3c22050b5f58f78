import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';

/**
 * Connection for ingress (web, chat adapters, Queue.add): fails fast when Redis is down so the
 * caller answers non-2xx and the platform retries, instead of buffering in an offline queue.
 */
export function ingressConnection(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: false,
    connectTimeout: 2000,
  } satisfies RedisOptions);
}

/**
 * Connection for workers: waits and reconnects forever (BullMQ requires maxRetriesPerRequest null).
 * Connection errors while Redis is away are expected; they go to `onError` (BullMQ's worker
 * `error` event reports them too), never to ioredis's "Unhandled error event" on stderr.
 */
export function workerConnection(url: string, onError: (err: Error) => void = () => undefined): Redis {
  const r = new Redis(url, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (n) => Math.min(n * 200, 2000),
  });
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

/** `url` with any user name and password replaced by `***`, for logs and messages. */
export function maskRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username) u.username = '***';
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'an unparseable URL';
  }
}

const connectionErrorPattern =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|EPIPE|Connection is closed|Stream isn't writeable|getaddrinfo|WRONGPASS|NOAUTH|invalid password/i;

/** Whether an error only says that Redis cannot be reached (or refuses our credentials) right now. */
export const isConnectionError = (message: string): boolean => connectionErrorPattern.test(message);

/**
 * One voice for "Redis is away": the first failure is logged at once naming where Redis was
 * looked for (`REDIS_URL=…` with credentials masked, or the private redis-server), then at most
 * once per `intervalMs` while it stays away, and recovery once.
 */
export class RedisReachability {
  #down = false;
  #lastReport = 0;
  constructor(
    private readonly where: string,
    private readonly log: Logger,
    private readonly intervalMs = 30_000,
  ) {}

  get down(): boolean {
    return this.#down;
  }

  failed(err: Error | string): void {
    const message = typeof err === 'string' ? err : err.message;
    const now = Date.now();
    if (this.#down && now - this.#lastReport < this.intervalMs) return;
    const again = this.#down;
    this.#down = true;
    this.#lastReport = now;
    this.log.warn(
      { err: message },
      `cannot reach Redis at ${this.where} — ${message} (${again ? 'still retrying' : 'retrying'}; /readyz answers 503 and work waits until it answers)`,
    );
  }

  ready(): void {
    if (!this.#down) return;
    this.#down = false;
    this.log.info(`Redis at ${this.where} is reachable again`);
  }
}
