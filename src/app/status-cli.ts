import path from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { maskRedisUrl, runningPrivateRedisUrl } from '../redis/index.js';
import type { Store } from '../db/index.js';
import { OpsStatus, type OpsSnapshot } from './status.js';

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const byProvider = (rows: { provider: string; count: number }[]) =>
  rows.length ? rows.map((r) => `${r.provider} ${r.count}`).join(', ') : 'none';

/** The snapshot as an operator reads it on the host: one block per concern, failures last. */
export function statusText(s: OpsSnapshot, redisName: string): string {
  const lines = [`onbehalf status at ${time(s.at)} UTC`];
  if (Array.isArray(s.queues)) {
    lines.push(`Queues (${redisName}):`);
    for (const q of s.queues) {
      const c = q.counts;
      lines.push(
        `  ${q.name.padEnd(5)} waiting ${c.waiting + c.prioritized} · delayed ${c.delayed} · active ${c.active} · failed ${c.failed} · workers ${q.workers}`,
      );
    }
  } else lines.push(`Queues: unknown, ${redisName} did not answer (${s.queues.error})`);
  lines.push(`Parked calls (waiting for a grant): ${byProvider(s.parked)}`);
  lines.push(`Connections needing reauth: ${byProvider(s.needsReauth)}`);
  const hour = s.windowMs === 3_600_000 ? 'last hour' : `last ${Math.round(s.windowMs / 60_000)} min`;
  const r = s.refreshFailures;
  lines.push(
    `Failures (${hour}): refresh ${r.unavailable} provider unreachable, ${r.needs_reauth} refused (grant dead); notify ${s.notifyFailures}`,
  );
  if (!s.lastErrors.length) lines.push('Last errors: none');
  else {
    lines.push('Last errors:');
    for (const e of s.lastErrors) {
      const what = e.server ? ` ${e.server}${e.tool ? `.${e.tool}` : ''}` : e.provider ? ` ${e.provider}` : '';
      lines.push(`  ${time(e.at)} ${e.category}.${e.action} ${e.outcome}${what}`);
    }
  }
  return lines.join('\n');
}

/**
 * `onbehalf status [--json]`: the same numbers as `/metrics`, from the database and the queues of
 * REDIS_URL (or the private redis-server a running `serve` owns under the data directory).
 * Exit 1 when the queues could not be read.
 */
export async function statusCommand(
  config: Config,
  store: Store,
  json: boolean,
  out: (s: string) => void,
): Promise<number> {
  const url = config.redisUrl ?? runningPrivateRedisUrl(path.join(config.dataDir, 'redis'));
  const redisName = config.redisUrl
    ? `REDIS_URL=${maskRedisUrl(config.redisUrl)}`
    : url
      ? `the private redis-server ${url}`
      : 'the private redis-server (no serve or worker runs on this data directory)';
  const redis = url
    ? new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null })
    : undefined;
  redis?.on('error', () => undefined); // shown once, in the output
  const reached = await redis?.connect().then(
    () => undefined,
    (err: Error) => err.message.slice(0, 200),
  );
  const status = new OpsStatus(store, reached === undefined ? redis : undefined);
  try {
    const snap = await status.snapshot();
    if (reached !== undefined) snap.queues = { error: reached };
    out(json ? JSON.stringify(snap) : statusText(snap, redisName));
    return Array.isArray(snap.queues) ? 0 : 1;
  } finally {
    await status.close();
    redis?.disconnect();
  }
}
