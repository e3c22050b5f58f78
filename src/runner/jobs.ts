import { createHash } from 'node:crypto';
import { Queue, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { Tuning } from './tuning.js';

/**
 * Job data of the `tool` queue: the call's id, nothing else. The `tool_calls` row is the one source
 * of truth (server, tool, arguments, reply target); the worker reads it. Never a credential.
 */
export const toolJobSchema = z.object({ callId: z.string() });
export type ToolJob = z.infer<typeof toolJobSchema>;

/** A BullMQ job id derived from a platform event id: a retried delivery of one event makes one job. */
export const jobIdFor = (scope: string, orgId: string, eventId: string) =>
  createHash('sha256').update(`${scope}\0${orgId}\0${eventId}`).digest('hex').slice(0, 32);

/** Retries, backoff and retention of every job, from the tuning. */
export function jobOptions(t: Tuning): JobsOptions {
  return {
    attempts: t.attempts,
    backoff: { type: 'exponential', delay: t.backoffMs },
    removeOnComplete: { age: t.removeOnCompleteAgeS },
    removeOnFail: { age: t.removeOnFailAgeS },
    stackTraceLimit: 1,
  };
}

/** Opens a queue whose connection errors become log lines (BullMQ would print them with console.error). */
export function openQueue(name: string, connection: Redis, t: Tuning, log: Logger, opts: JobsOptions = {}): Queue {
  const q = new Queue(name, { connection, prefix: t.prefix, defaultJobOptions: { ...jobOptions(t), ...opts } });
  q.on('error', (err) => log.warn({ err: err.message, queue: name }, 'queue connection error'));
  return q;
}

/** The `tool` queue, as the runner's parts add to it. */
export class ToolQueue {
  readonly #q: Queue;

  constructor(connection: Redis, t: Tuning, log: Logger) {
    this.#q = openQueue('tool', connection, t, log);
  }

  /** Queues a run of call `callId` under `jobId` (a job id already taken is a no-op in BullMQ). */
  add(callId: string, jobId: string): Promise<Job> {
    return this.#q.add('call', toolJobSchema.parse({ callId }), { jobId });
  }

  close(): Promise<void> {
    return this.#q.close();
  }
}
