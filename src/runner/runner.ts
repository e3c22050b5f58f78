import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ReplyTarget } from '../chat/types.js';
import { newId } from '../db/index.js';
import { toolCalls } from '../db/schema/index.js';
import type { AppEventMap, AppEvents } from '../events.js';
import { workerConnection } from '../redis/index.js';
import type { CallRow } from './calls.js';
import { Executor, type ExecutorDeps } from './execute.js';
import {
  outcomeText,
  toolJobSchema,
  turnJobSchema,
  type ApprovalAnswer,
  type RunResult,
  type ToolJob,
  type TurnJob,
} from './outcome.js';

/** Tunables of the runner, each with its default. */
export interface RunnerTuning {
  /** Key prefix of the queues in Redis. Default `onbehalf`. */
  prefix?: string;
  /** Attempts per tool job for transient failures. Default 4. */
  attempts?: number;
  /** First backoff delay, doubled each attempt. Default 1000 ms. */
  backoffMs?: number;
  /** Completed jobs are removed after this many seconds. Default 3600. */
  removeOnCompleteAgeS?: number;
  /** Failed jobs are removed after this many seconds. Default 604800 (7 days). */
  removeOnFailAgeS?: number;
  /** Parked calls older than this are cancelled. Default 3600000 ms (1 hour). */
  parkedTtlMs?: number;
  /** Calls held for the caller's approval longer than this are cancelled. Default 600000 ms (10 minutes). */
  approvalTtlMs?: number;
  /** Tool jobs one worker process runs at once. Default 16. */
  concurrency?: number;
  /** BullMQ lock duration; a worker silent this long is presumed dead. Default 30000 ms. */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for. Default 30000 ms. */
  stalledIntervalMs?: number;
  /** Longest result text posted to chat. Default 3500 characters. */
  resultLimit?: number;
  /** Calls one user may have queued or running at once; past it a new call is refused. Default 20. */
  maxQueuedPerUser?: number;
  /** Calls one user may have parked (waiting for a grant) at once; past it a call that must park fails. Default 10. */
  maxParkedPerUser?: number;
}

/** The executor's dependencies, plus the queue connections and the agent. */
export interface RunnerDeps extends Omit<
  ExecutorDeps,
  'resultLimit' | 'resumeTurn' | 'maxParkedPerUser' | 'approvalTtlMs'
> {
  /** Fail-fast connection for enqueueing (ingress). */
  connection: Redis;
  redisUrl: string;
  /** Runs one agent turn (the agent, built elsewhere). Unset: turn jobs wait for a process that has one. */
  turnProcessor?: (turn: TurnJob) => Promise<void>;
}

/** A request to run one tool for one caller (the chat core's `enqueueToolCall`). */
export interface ToolCallRequest {
  orgId: string;
  userId: string;
  chatIdentity: string;
  server: string;
  tool: string;
  args: Record<string, unknown>;
  target: ReplyTarget;
  requestId: string;
  /** The platform event id: a retried delivery makes one call. */
  eventId?: string;
  /** Set when an agent turn makes the call: the outcome goes back to the agent, not to chat. */
  turnId?: string;
}

/** What `enqueueToolCall` did: accepted (its outcome goes to the reply target), or refused (nothing queued) at the user's cap or for a server the org does not have. */
export type EnqueueResult =
  | { kind: 'accepted'; callId: string }
  | { kind: 'too_many_queued'; callId: string; limit: number }
  | { kind: 'unknown_server'; callId: string; server: string };

/** Thrown inside a job to make BullMQ back off and retry; the message is safe to store in Redis. */
export class TransientCallError extends Error {
  readonly code = 'transient';
}

const jobIdFor = (scope: string, orgId: string, eventId: string) =>
  createHash('sha256').update(`${scope}\0${orgId}\0${eventId}`).digest('hex').slice(0, 32);

/** BullMQ queues `tool` and `turn`, their workers, parking and resume. */
export class Runner {
  readonly executor: Executor;
  readonly #t: Required<RunnerTuning>;
  readonly #tool: Queue;
  readonly #turn: Queue;
  #workers: Worker[] = [];
  #sweeper: NodeJS.Timeout | undefined;
  #closers: (() => Promise<void>)[] = [];

  constructor(
    private readonly d: RunnerDeps,
    tuning: RunnerTuning = {},
  ) {
    this.#t = {
      prefix: tuning.prefix ?? 'onbehalf',
      attempts: tuning.attempts ?? 4,
      backoffMs: tuning.backoffMs ?? 1000,
      removeOnCompleteAgeS: tuning.removeOnCompleteAgeS ?? 3600,
      removeOnFailAgeS: tuning.removeOnFailAgeS ?? 604_800,
      parkedTtlMs: tuning.parkedTtlMs ?? 3_600_000,
      approvalTtlMs: tuning.approvalTtlMs ?? 600_000,
      concurrency: tuning.concurrency ?? 16,
      lockDurationMs: tuning.lockDurationMs ?? 30_000,
      stalledIntervalMs: tuning.stalledIntervalMs ?? 30_000,
      resultLimit: tuning.resultLimit ?? 3500,
      maxQueuedPerUser: tuning.maxQueuedPerUser ?? 20,
      maxParkedPerUser: tuning.maxParkedPerUser ?? 10,
    };
    const defaultJobOptions: JobsOptions = {
      attempts: this.#t.attempts,
      backoff: { type: 'exponential', delay: this.#t.backoffMs },
      removeOnComplete: { age: this.#t.removeOnCompleteAgeS },
      removeOnFail: { age: this.#t.removeOnFailAgeS },
      stackTraceLimit: 1,
    };
    this.#tool = new Queue('tool', { connection: d.connection, prefix: this.#t.prefix, defaultJobOptions });
    this.#turn = new Queue('turn', {
      connection: d.connection,
      prefix: this.#t.prefix,
      defaultJobOptions: { ...defaultJobOptions, attempts: 1 },
    });
    // Without a listener BullMQ prints connection errors with console.error (stack traces on stderr, outside our logs).
    for (const q of [this.#tool, this.#turn])
      q.on('error', (err) => d.log.warn({ err: err.message, queue: q.name }, 'queue connection error'));
    this.executor = new Executor({
      ...d,
      resultLimit: this.#t.resultLimit,
      maxParkedPerUser: this.#t.maxParkedPerUser,
      approvalTtlMs: this.#t.approvalTtlMs,
      resumeTurn: (row, server, o) => this.#resumeTurn(row, server, o),
    });
  }

  /** Sets the agent that runs turn jobs (before `startWorkers`); the agent itself needs the runner. */
  setTurnProcessor(processor: (turn: TurnJob) => Promise<void>): void {
    this.d.turnProcessor = processor;
  }

  /** Records the call and queues it; resolves once the job is accepted by Redis, or refused at the user's cap (nothing queued). */
  async enqueueToolCall(req: ToolCallRequest): Promise<EnqueueResult> {
    const callId = req.eventId ? `ev-${jobIdFor('tool', req.orgId, req.eventId)}` : newId();
    const server = this.d.policy.server(req.orgId, req.server);
    if (!server) return { kind: 'unknown_server', callId, server: req.server };
    const row = {
      id: callId,
      orgId: req.orgId,
      userId: req.userId,
      serverId: server.id,
      tool: req.tool,
      args: req.args,
      replyTarget: req.target,
      requestId: req.requestId,
      turnId: req.turnId ?? null,
    };
    const inserted = this.executor.calls.insertWithin(row, this.#t.maxQueuedPerUser);
    if (inserted === 'full') {
      this.d.log.info(
        { reqId: req.requestId, user: req.userId, limit: this.#t.maxQueuedPerUser },
        'refused a tool call: the user has too many calls queued',
      );
      return { kind: 'too_many_queued', callId, limit: this.#t.maxQueuedPerUser };
    }
    if (inserted === 'duplicate') return { kind: 'accepted', callId }; // a retried delivery of the same event
    const data: ToolJob = {
      callId,
      orgId: req.orgId,
      userId: req.userId,
      server: req.server,
      tool: req.tool,
      args: req.args,
      target: req.target,
      requestId: req.requestId,
    };
    try {
      const job = await this.#add(data, callId);
      // A redelivery whose first add reached Redis although its reply was lost with the connection: that
      // job ran before this row existed and did nothing (the id is taken, so `add` was a no-op). Run it afresh.
      if (req.eventId && ['completed', 'failed'].includes(await job.getState()))
        await this.#add(data, `${callId}-redelivered-${Date.now()}`);
    } catch (err) {
      // Not accepted (the caller is shown the error; Slack retries on the 500): forget the row, or the
      // redelivery with the same event id would find it, answer "Running…" and never run the call.
      this.d.db
        .delete(toolCalls)
        .where(and(eq(toolCalls.id, callId), eq(toolCalls.status, 'queued')))
        .run();
      throw err;
    }
    return { kind: 'accepted', callId };
  }

  /** Queues one agent turn; a retried delivery (same `eventId`) makes one job. */
  async enqueueTurn(req: {
    orgId: string;
    userId: string;
    chatIdentity: string;
    text: string;
    target: ReplyTarget;
    requestId: string;
    eventId?: string;
    resumed?: TurnJob['resumed'];
  }): Promise<void> {
    const data = turnJobSchema.parse(req);
    await this.#turn.add('turn', data, req.eventId ? { jobId: jobIdFor('turn', req.orgId, req.eventId) } : {});
  }

  /**
   * Runs one call and waits for it: the outcome, `parked` when the caller must connect first, or
   * `held` when the caller must approve it first. A held call does not keep the turn waiting: an
   * approval may take minutes (up to `approvalTtlMs`), longer than a turn may hold a worker and
   * the model's request, and the hold must outlive a worker restart. So the agent is told at once
   * that the call waits, and the call's outcome (run, denied, or lapsed) resumes the turn the way a
   * parked call's does (`resumeTurn`).
   */
  async runToolCall(req: ToolCallRequest, timeoutMs = 120_000): Promise<RunResult> {
    const queued = await this.enqueueToolCall(req);
    if (queued.kind === 'too_many_queued')
      return {
        kind: 'done',
        outcome: {
          kind: 'failed',
          message: `you already have ${queued.limit} calls waiting to run; wait for them to finish, then try again`,
        },
      };
    if (queued.kind === 'unknown_server')
      return { kind: 'done', outcome: { kind: 'failed', message: `there is no server named ${queued.server}` } };
    const { callId } = queued;
    const deadline = Date.now() + timeoutMs;
    // Woken at once when the call parks or ends in this process; the coarser poll covers a worker in another process.
    for (let wait = 50; ; wait = Math.min(wait * 2, 250)) {
      const row = this.executor.calls.get(callId);
      if (!row) return { kind: 'done', outcome: { kind: 'failed', message: `there is no server named ${req.server}` } };
      if (row.status === 'parked')
        return { kind: 'parked', callId, providerSlug: this.executor.calls.outcome(row).parked?.providerSlug ?? '' };
      if (row.status === 'awaiting_approval') return { kind: 'held', callId };
      const final = this.executor.calls.finalOutcome(row);
      if (final) return { kind: 'done', outcome: final };
      if (Date.now() > deadline)
        return { kind: 'done', outcome: { kind: 'failed', message: 'the call did not finish in time' } };
      await this.executor.calls.settled(callId, Math.min(wait, deadline - Date.now() + 1));
    }
  }

  #add(data: ToolJob, jobId: string): Promise<Job> {
    return this.#tool.add('call', toolJobSchema.parse(data), { jobId });
  }

  /** Re-queues a user's calls parked for a provider (their connection became active). */
  async resumeParked(e: {
    orgId: string;
    userId: string;
    providerId: string;
    resumeCallId?: string | undefined;
  }): Promise<number> {
    const rows = this.executor.calls.parkedFor(e.orgId, e.userId, e.providerId);
    if (e.resumeCallId && !rows.some((r) => r.id === e.resumeCallId)) {
      const named = this.executor.calls.get(e.resumeCallId);
      if (named && named.status === 'parked' && named.orgId === e.orgId && named.userId === e.userId) rows.push(named);
    }
    let n = 0;
    for (const row of rows) {
      if (
        !this.executor.calls.transition(row.id, ['parked'], 'queued', {
          parkedProviderId: null,
          outcome: { resumed: true },
        })
      )
        continue;
      const target = this.executor.calls.target(row);
      const server = this.d.policy.serverById(row.orgId, row.serverId);
      await this.#add(
        {
          callId: row.id,
          orgId: row.orgId,
          userId: row.userId,
          server: server?.name ?? '',
          tool: row.tool,
          args: row.args,
          target,
          requestId: row.requestId,
        },
        `${row.id}-r${row.attempts}-${Date.now()}`,
      );
      n++;
    }
    if (n) this.d.log.info({ user: e.userId, resumed: n }, 'resumed parked calls');
    return n;
  }

  /** Cancels parked calls older than the parking limit, telling each caller. */
  async sweepParked(now = Date.now()): Promise<number> {
    let n = 0;
    for (const row of this.executor.calls.parkedBefore(now - this.#t.parkedTtlMs)) {
      const minutes = Math.round(this.#t.parkedTtlMs / 60_000);
      const outcome = {
        kind: 'cancelled' as const,
        reason: `it waited ${minutes} minute(s) for you to connect your account; run it again once you are connected`,
      };
      if (
        !this.executor.calls.transition(row.id, ['parked'], 'cancelled', {
          parkedProviderId: null,
          outcome: { final: outcome, notified: true },
        })
      )
        continue;
      const server = this.d.policy.serverById(row.orgId, row.serverId)?.name ?? '(removed server)';
      await this.d.notifier
        .outcome(
          {
            callId: row.id,
            orgId: row.orgId,
            userId: row.userId,
            server,
            tool: row.tool,
            target: this.executor.calls.target(row),
            requestId: row.requestId,
          },
          outcome,
        )
        .catch(() => undefined);
      n++;
    }
    return n;
  }

  /**
   * The answer to an approval prompt, from the chat identity that clicked or typed it (resolved from
   * the verified platform payload). Only the call's own user may answer; anyone else is refused,
   * audited, and the call stays held. Approve re-queues the call once: a second click finds it no
   * longer held. Deny ends it without contacting the server.
   */
  async answerApproval(req: {
    orgId: string;
    userId: string;
    chatIdentity: string;
    callId: string;
    approve: boolean;
    requestId: string;
  }): Promise<ApprovalAnswer> {
    const row = this.executor.calls.get(req.callId);
    if (!row || row.orgId !== req.orgId) return { kind: 'unknown' };
    const server = this.d.policy.serverById(row.orgId, row.serverId)?.name ?? '(removed server)';
    if (row.userId !== req.userId) {
      this.d.audit.write({
        orgId: row.orgId,
        category: 'tool_call',
        action: req.approve ? 'approve' : 'deny',
        actorUserId: req.userId,
        onBehalfOfUserId: row.userId,
        chatIdentity: req.chatIdentity,
        server,
        tool: row.tool,
        decision: 'refused',
        outcome: 'not_the_caller',
        requestId: req.requestId,
        detail: { callId: row.id },
      });
      return { kind: 'not_yours' };
    }
    if (row.status !== 'awaiting_approval') return { kind: 'not_waiting', status: row.status };
    if (!req.approve) {
      return (await this.executor.endHeld(row.id, { decision: 'denied', by: req.chatIdentity }))
        ? { kind: 'denied', server, tool: row.tool }
        : { kind: 'not_waiting', status: this.executor.calls.get(row.id)?.status ?? 'unknown' };
    }
    const stored = this.executor.calls.outcome(row);
    const approval = { ...stored.approval!, decision: 'approved' as const, by: req.chatIdentity, at: Date.now() };
    if (
      !this.executor.calls.transition(row.id, ['awaiting_approval'], 'queued', { outcome: { resumed: true, approval } })
    ) {
      return { kind: 'not_waiting', status: this.executor.calls.get(row.id)?.status ?? 'unknown' };
    }
    const target = this.executor.calls.target(row);
    await this.#add(
      {
        callId: row.id,
        orgId: row.orgId,
        userId: row.userId,
        server,
        tool: row.tool,
        args: row.args,
        target,
        requestId: row.requestId,
      },
      `${row.id}-approved`,
    );
    return { kind: 'approved', server, tool: row.tool };
  }

  /** Cancels calls held for approval longer than the approval limit; each agent turn is told. */
  async sweepHeld(now = Date.now()): Promise<number> {
    let n = 0;
    for (const row of this.executor.calls.heldBefore(now - this.#t.approvalTtlMs))
      if (await this.executor.endHeld(row.id, { decision: 'expired' })) n++;
    return n;
  }

  /** Resumes parked calls whenever a connection becomes active (in this process's event bus). */
  listen(events: AppEvents): void {
    const onActive = (e: AppEventMap['connection.active'][0]) =>
      void this.resumeParked(e).catch((err) =>
        this.d.log.warn({ err: (err as Error).message }, 'could not resume parked calls'),
      );
    events.on('connection.active', onActive);
    this.#closers.push(async () => void events.off('connection.active', onActive));
  }

  async #resumeTurn(row: CallRow, server: string, outcome: Parameters<typeof outcomeText>[1]): Promise<void> {
    const target = this.executor.calls.target(row);
    await this.enqueueTurn({
      orgId: row.orgId,
      userId: row.userId,
      chatIdentity: `${target.platform}:${target.workspaceId}:${target.userId}`,
      text: '',
      target,
      requestId: row.requestId,
      resumed: {
        server,
        tool: row.tool,
        outcome: this.#approvalNote(row) + outcomeText({ server, tool: row.tool }, outcome),
        callId: row.id,
        ...(this.executor.calls.outcome(row).approval?.askedAt ? { waitedFor: 'approval' as const } : {}),
      },
    });
  }

  /** What the agent is told of how a held call was answered, ahead of its result. */
  #approvalNote(row: CallRow): string {
    const decision = this.executor.calls.outcome(row).approval?.decision;
    if (decision === 'approved') return 'The person approved this call. ';
    if (decision === 'denied') return 'The person denied this call; it did not run. ';
    if (decision === 'expired') return 'The person did not answer the approval prompt in time; the call did not run. ';
    return '';
  }

  /** Starts the tool worker (and the turn worker when a processor is set) and the parked-call sweeper. */
  async startWorkers(): Promise<void> {
    const common = {
      prefix: this.#t.prefix,
      lockDuration: this.#t.lockDurationMs,
      stalledInterval: this.#t.stalledIntervalMs,
      maxStalledCount: 1,
    };
    const tool = new Worker(
      'tool',
      async (job) => {
        const data = toolJobSchema.parse(job.data);
        const log = this.d.log.child({ reqId: data.requestId, callId: data.callId });
        const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        log.debug({ server: data.server, tool: data.tool, attempt: job.attemptsMade + 1 }, 'tool job started');
        const r = await this.executor.run(data.callId, { finalAttempt });
        log.debug({ status: r.status }, 'tool job finished');
        if (r.status === 'retry') throw new TransientCallError(r.reason);
        return { status: r.status };
      },
      { ...common, connection: workerConnection(this.d.redisUrl), concurrency: this.#t.concurrency },
    );
    tool.on('error', (err) => this.d.log.warn({ err: err.message }, 'tool worker error'));
    tool.on('failed', (job, err) => {
      if (!job || (job.attemptsMade < (job.opts.attempts ?? 1) && !/stalled/i.test(err.message))) return;
      const parsed = toolJobSchema.safeParse(job.data);
      if (parsed.success)
        void this.executor
          .giveUp(parsed.data.callId)
          .catch((e) => this.d.log.warn({ err: (e as Error).message }, 'could not report a failed call'));
    });
    this.#workers.push(tool);
    const processor = this.d.turnProcessor;
    if (processor) {
      const turn = new Worker('turn', async (job) => processor(turnJobSchema.parse(job.data)), {
        ...common,
        connection: workerConnection(this.d.redisUrl),
        concurrency: this.#t.concurrency,
      });
      turn.on('error', (err) => this.d.log.warn({ err: err.message }, 'turn worker error'));
      this.#workers.push(turn);
    }
    await Promise.all(this.#workers.map((w) => w.waitUntilReady()));
    const every = Math.max(1000, Math.min(60_000, Math.min(this.#t.parkedTtlMs, this.#t.approvalTtlMs) / 4));
    this.#sweeper = setInterval(() => {
      void this.sweepParked().catch(() => undefined);
      void this.sweepHeld().catch(() => undefined);
    }, every);
    this.#sweeper.unref();
  }

  /** Closes workers (letting running jobs finish up to `graceMs`), then the queues. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    const workers = this.#workers.splice(0);
    const graceful = Promise.all(workers.map((w) => w.close()));
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([graceful, timer])) === 'timeout')
      await Promise.all(workers.map((w) => w.close(true).catch(() => undefined)));
    for (const c of this.#closers.splice(0)) await c();
    await Promise.all([this.#tool.close(), this.#turn.close()]);
  }
}
