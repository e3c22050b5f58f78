import { Worker, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { replyTargetSchema, type ReplyTarget } from '../identity/reply.js';
import type { Logger } from '../log.js';
import {
  closeWorkers,
  jobIdFor,
  openQueue,
  workerOptions,
  type CallInfo,
  type RunnerTuning,
  type ToolOutcome,
  type TurnCallEnded,
  type Tuning,
  withDefaults,
} from '../runner/index.js';

/** Job data of the `turn` queue: one agent turn (ids, the message text, the reply target). */
export const turnJobSchema = z.object({
  orgId: z.string(),
  userId: z.string(),
  chatIdentity: z.string(),
  text: z.string(),
  target: replyTargetSchema,
  requestId: z.string(),
  /**
   * A call of an earlier turn that waited has ended: `outcome` is what the model is told of it,
   * `callId` the runner's call id (shown to the model as the tool-call id). `waitedFor`: what the
   * call waited for before it ran or ended (default `connect`: a grant).
   */
  resumed: z
    .object({
      server: z.string(),
      tool: z.string(),
      outcome: z.string(),
      callId: z.string().optional(),
      waitedFor: z.enum(['connect', 'approval']).optional(),
      /** The call's result goes to the caller only (`--private-results`), and so does the answer using it. */
      private: z.boolean().optional(),
    })
    .optional(),
});
export type TurnJob = z.infer<typeof turnJobSchema>;

/** A new turn: a person's message. `eventId`: the platform's delivery id (a retried delivery makes one job). */
export interface TurnRequest {
  orgId: string;
  userId: string;
  chatIdentity: string;
  text: string;
  target: ReplyTarget;
  requestId: string;
  eventId?: string;
}

/** What the agent is told of how a held call was answered, ahead of its result. */
function approvalNote(decision: string | undefined): string {
  if (decision === 'approved') return 'The person approved this call. ';
  if (decision === 'denied') return 'The person denied this call; it did not run. ';
  if (decision === 'expired') return 'The person did not answer the approval prompt in time; the call did not run. ';
  return '';
}

/** The `turn` queue: new messages and resumed turns go in; the worker hands each to the agent. */
export class TurnQueue {
  readonly #t: Tuning;
  readonly #queue: Queue;
  #workers: Worker[] = [];

  constructor(
    private readonly d: {
      connection: Redis;
      redisUrl: string;
      log: Logger;
      /** How a tool outcome reads (chat words it); the model is told the same words. */
      describe: (call: Pick<CallInfo, 'server' | 'tool'>, outcome: ToolOutcome) => string;
    },
    tuning: RunnerTuning = {},
  ) {
    this.#t = withDefaults(tuning);
    this.#queue = openQueue('turn', d.connection, this.#t, d.log, { attempts: 1 });
  }

  /** Queues one agent turn; a retried delivery (same `eventId`) makes one job. */
  async enqueue(req: TurnRequest | (TurnJob & { eventId?: string })): Promise<void> {
    const data = turnJobSchema.parse(req);
    const opts = req.eventId ? { jobId: jobIdFor('turn', req.orgId, req.eventId) } : {};
    await this.#queue.add('turn', data, opts);
  }

  /** A call of an earlier turn ended after waiting: the turn continues with its outcome. */
  async resume(e: TurnCallEnded): Promise<void> {
    const t = e.target;
    await this.enqueue({
      orgId: e.orgId,
      userId: e.userId,
      chatIdentity: `${t.platform}:${t.workspaceId}:${t.userId}`,
      text: '',
      target: t,
      requestId: e.requestId,
      resumed: {
        server: e.server,
        tool: e.tool,
        outcome: approvalNote(e.approval) + this.d.describe(e, e.outcome),
        callId: e.callId,
        ...(e.waitedFor === 'approval' ? { waitedFor: 'approval' as const } : {}),
        ...(e.private ? { private: true } : {}),
      },
    });
  }

  /** Starts the worker that runs each turn with `processor` (the agent). */
  async start(processor: (turn: TurnJob) => Promise<void>): Promise<void> {
    const worker = new Worker(
      'turn',
      async (job) => processor(turnJobSchema.parse(job.data)),
      workerOptions(this.#t, this.d.redisUrl),
    );
    worker.on('error', (err) => this.d.log.warn({ err: err.message }, 'turn worker error'));
    this.#workers.push(worker);
    await worker.waitUntilReady();
  }

  /** Closes the worker (letting running turns finish up to `graceMs`), then the queue. */
  async stop(graceMs = 10_000): Promise<void> {
    await closeWorkers(this.#workers.splice(0), graceMs);
    await this.#queue.close();
  }
}
