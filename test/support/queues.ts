import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { vi } from 'vitest';

/** The product's BullMQ queues: tool calls and agent turns. */
const QUEUES = ['tool', 'turn'] as const;
/** Every state in which a job may still run (again). */
const PENDING = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/**
 * Waits until Redis holds no tool or turn job that is waiting, running, delayed or retrying: every
 * run (and so every reply) that was going to happen has happened. The positive marker for "nothing
 * more will come" before counting replies; fails with the counts still pending after `timeoutMs`.
 */
export async function queuesIdle(redisUrl: string, timeoutMs: number, prefix = 'onbehalf'): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  const queues = QUEUES.map((name) => new Queue(name, { connection, prefix }));
  try {
    await vi.waitFor(
      async () => {
        const counts = await Promise.all(queues.map((q) => q.getJobCounts(...PENDING)));
        const pending = counts.flatMap((c, i) =>
          Object.entries(c)
            .filter(([, n]) => n > 0)
            .map(([state, n]) => `${QUEUES[i]} ${state}: ${n}`),
        );
        if (pending.length) throw new Error(`jobs still pending (${pending.join(', ')})`);
      },
      { timeout: timeoutMs, interval: 25 },
    );
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    connection.disconnect();
  }
}
