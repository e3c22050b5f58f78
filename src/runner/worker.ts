import { Worker, type Job } from 'bullmq';
import type { Logger } from '../log.js';
import { workerConnection } from '../redis/index.js';
import { TransientCallError } from './errors.js';
import type { Executor } from './execute.js';
import { toolJobSchema } from './jobs.js';
import type { Tuning } from './tuning.js';

/** BullMQ options every worker of ours shares. */
export function workerOptions(t: Tuning, redisUrl: string) {
  return {
    prefix: t.prefix,
    lockDuration: t.lockDurationMs,
    // Renewed every quarter of the lock (BullMQ's default is half): a busy event loop may fall
    // three quarters of the lock (3.75 s by default) behind before a healthy call is taken for dead.
    lockRenewTime: Math.max(250, Math.floor(t.lockDurationMs / 4)),
    stalledInterval: t.stalledIntervalMs,
    maxStalledCount: 1,
    connection: workerConnection(redisUrl),
    concurrency: t.concurrency,
  };
}

/**
 * Closes workers, letting running jobs finish up to `graceMs`, then forcing them closed (their
 * jobs stall and another worker takes them over).
 */
export async function closeWorkers(workers: Worker[], graceMs: number): Promise<void> {
  const graceful = Promise.all(workers.map((w) => w.close()));
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  if ((await Promise.race([graceful, timer])) === 'timeout')
    await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
}

/** The `tool` queue's worker: runs one attempt of the named call per job. */
export function startToolWorker(executor: Executor, t: Tuning, redisUrl: string, log: Logger): Worker {
  const worker = new Worker(
    'tool',
    async (job: Job) => {
      const { callId } = toolJobSchema.parse(job.data);
      // The call's request id names its debug lines; its row is read, and a child logger made, only when they are written.
      const debug = log.isLevelEnabled('debug');
      const reqId = debug ? (await executor.calls.get(callId))?.requestId : undefined;
      const jobLog = debug ? log.child({ reqId: reqId ?? 'unknown', callId }) : undefined;
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      jobLog?.debug({ attempt: job.attemptsMade + 1 }, 'tool job started');
      const r = await executor.run(callId, { finalAttempt });
      jobLog?.debug({ status: r.status }, 'tool job finished');
      if (r.status === 'retry') throw new TransientCallError(r.reason);
      return { status: r.status };
    },
    workerOptions(t, redisUrl),
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'tool worker error'));
  // `finishedOn` is set only when BullMQ moved the job to the failed set: no attempt is left, or it
  // stalled more often than allowed. A failure it will retry leaves it unset.
  worker.on('failed', (job) => {
    if (!job?.finishedOn) return;
    const parsed = toolJobSchema.safeParse(job.data);
    if (parsed.success)
      void executor
        .giveUp(parsed.data.callId)
        .catch((e) => log.warn({ err: (e as Error).message }, 'could not report a failed call'));
  });
  return worker;
}
