import type { Redis } from 'ioredis';
import { AuditSink, type AuditSinkOptions } from '../audit/sink.js';
import type { Config } from '../config.js';
import type { Store } from '../db/index.js';
import type { Logger } from '../log.js';
import type { NetGuard } from '../net/index.js';
import { RedisLease } from '../redis/index.js';

/** The audit sink of a deployment: started by `serve`, run by whichever process holds its lease. */
export interface AuditSinkRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `AUDIT_WEBHOOK_URL` set: a sink under a lease (one deliverer across processes); else undefined. */
export function auditSinkFor(
  d: { config: Config; store: Store; log: Logger },
  net: NetGuard,
  redis: Redis,
  opts?: AuditSinkOptions,
): AuditSinkRunner | undefined {
  const hook = d.config.auditWebhook;
  if (!hook) return undefined;
  const log = d.log.child({ part: 'audit-sink' });
  const sink = new AuditSink({ store: d.store, fetch: net.fetch(), url: hook.url, secret: hook.secret, log }, opts);
  const lease = new RedisLease(redis, 'onbehalf:audit:sink', log);
  return {
    start: () =>
      lease.start({
        onHeld: async () => sink.start(),
        onLost: () => sink.stop(),
      }),
    stop: () => lease.stop(),
  };
}
