import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { Approvals, type ApprovalReply } from './approvals.js';
import { runAndWait } from './await.js';
import { CallStore } from './calls.js';
import type { ReplyTarget } from '../identity/reply.js';
import type { ExecutorDeps } from './deps.js';
import { Enqueuer, type EnqueueResult, type ToolCallRequest } from './enqueue.js';
import { Executor } from './execute.js';
import { ToolQueue } from './jobs.js';
import type { ApprovalAnswer, RunResult } from './outcome.js';
import { Parking, type GrantRef, type WaitingCall } from './parking.js';
import { Reporter } from './report.js';
import { CallSignals } from './signal.js';
import { withDefaults, type RunnerTuning, type Tuning } from './tuning.js';
import { closeWorkers, startToolWorker } from './worker.js';

/** The runner's dependencies, plus the queue connections. */
export interface RunnerDeps extends ExecutorDeps {
  /** Fail-fast connection for enqueueing (ingress). */
  connection: Redis;
  redisUrl: string;
}

/** The `tool` queue, its worker, parking, approvals and run-and-wait, composed. */
export class Runner {
  readonly executor: Executor;
  readonly #t: Tuning;
  readonly #queue: ToolQueue;
  readonly #enqueuer: Enqueuer;
  readonly #parking: Parking;
  readonly #approvals: Approvals;
  readonly #signals: CallSignals;
  #workers: Worker[] = [];
  #sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly d: RunnerDeps,
    tuning: RunnerTuning = {},
  ) {
    const t = (this.#t = withDefaults(tuning));
    const calls: CallStore = new CallStore(d.store, (id) => this.#signals.publish(id));
    this.#signals = new CallSignals(d.connection, t.prefix, (id) => calls.wakeHere(id), d.log);
    this.#queue = new ToolQueue(d.connection, t, d.log);
    const report = new Reporter(d, calls, t);
    this.#parking = new Parking(d, calls, report, this.#queue, t);
    this.#approvals = new Approvals(d, calls, report, this.#queue, t.approvalTtlMs);
    this.#enqueuer = new Enqueuer(d, calls, this.#queue, t.maxQueuedPerUser);
    this.executor = new Executor(d, calls, report, this.#parking, this.#approvals, t.resultLimit);
  }

  /** Records the call and queues it; resolves once the job is accepted by Redis, or refused at the user's cap (nothing queued). */
  enqueueToolCall(req: ToolCallRequest): Promise<EnqueueResult> {
    return this.#enqueuer.enqueue(req);
  }

  /**
   * Runs one call of an agent's turn and waits for it (see `runAndWait`): done, parked, or held. Give
   * it its turn (`turnId`): a call without one is announced to no other process (`CallStore.woken`),
   * so a waiter here hears of its end from a worker elsewhere only at its next safety read.
   */
  runToolCall(req: ToolCallRequest, timeoutMs = 120_000): Promise<RunResult> {
    return runAndWait((r) => this.enqueueToolCall(r), this.executor.calls, this.#signals, req, timeoutMs);
  }

  /** The calls waiting for this grant, and where each waits: the one answer to "who waits for it?". */
  async waitingFor(e: GrantRef): Promise<WaitingCall[]> {
    const rows = await this.#parking.waitingFor(e);
    return rows.map((row) => ({ callId: row.id, target: this.executor.calls.target(row) }));
  }

  /** Where the user last asked for a tool call (its conversation), if ever: where a notice for them belongs. */
  lastSeen(orgId: string, userId: string): Promise<ReplyTarget | undefined> {
    return this.executor.calls.lastTarget(orgId, userId);
  }

  /** Queues again the calls that waited for a grant (from `waitingFor`); resolves with how many were still parked. */
  resume(e: Pick<GrantRef, 'userId'>, waiting: WaitingCall[]): Promise<number> {
    return this.#parking.resume(
      e.userId,
      waiting.map((w) => w.callId),
    );
  }

  /** Queues again a user's calls parked for a provider (their connection became active). */
  async resumeParked(e: GrantRef): Promise<number> {
    return this.resume(e, await this.waitingFor(e));
  }

  /** Cancels parked calls older than the parking limit, telling each caller. */
  sweepParked(now = Date.now()): Promise<number> {
    return this.#parking.sweep(now);
  }

  /** The answer to an approval prompt (only the call's own user may answer). */
  answerApproval(req: ApprovalReply): Promise<ApprovalAnswer> {
    return this.#approvals.answer(req);
  }

  /** Cancels calls held for approval longer than the approval limit; each agent turn is told. */
  sweepHeld(now = Date.now()): Promise<number> {
    return this.#approvals.sweep(now);
  }

  /** Starts the tool worker and the sweeper of parked and held calls. */
  async startWorkers(): Promise<void> {
    const tool = startToolWorker(this.executor, this.#t, this.d.redisUrl, this.d.log);
    this.#workers.push(tool);
    await tool.waitUntilReady();
    const every = Math.max(1000, Math.min(60_000, Math.min(this.#t.parkedTtlMs, this.#t.approvalTtlMs) / 4));
    this.#sweeper = setInterval(() => {
      void this.sweepParked().catch((err) => this.d.log.warn({ err: (err as Error).message }, 'parked sweep failed'));
      void this.sweepHeld().catch((err) => this.d.log.warn({ err: (err as Error).message }, 'held sweep failed'));
    }, every);
    this.#sweeper.unref();
  }

  /** Closes the worker (letting running jobs finish up to `graceMs`), then the queue. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    await closeWorkers(this.#workers.splice(0), graceMs);
    this.#signals.close();
    await this.#queue.close();
  }
}
