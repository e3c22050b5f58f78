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
  /**
   * BullMQ lock duration: a worker that has not renewed a job's lock this long is presumed dead, and
   * the job runs again elsewhere. Renewed every quarter of it while the call runs, so a long call keeps
   * its lock. Default 5000 ms (`ONBEHALF_JOB_LOCK_MS`; see `RECOVERY`).
   */
  lockDurationMs?: number;
  /** How often live workers look for jobs whose lock lapsed. Default 4000 ms (`ONBEHALF_STALLED_CHECK_MS`). */
  stalledIntervalMs?: number;
  /** Longest result text posted to chat. Default 3500 characters. */
  resultLimit?: number;
  /** Calls one user may have queued or running at once; past it a new call is refused. Default 20. */
  maxQueuedPerUser?: number;
  /** Calls one user may have parked (waiting for a grant) at once; past it a call that must park fails. Default 10. */
  maxParkedPerUser?: number;
  /**
   * Times one call may send its caller back for more scopes after a 403 `insufficient_scope`; the
   * next such answer fails the call (`scope_step_up_limit`). Default 2 (three authorizations in all).
   */
  maxStepUps?: number;
  /** Tries to deliver an outcome to chat before it is recorded as `notify_failed`. Default 3. */
  notifyAttempts?: number;
  /** First wait between delivery tries, doubled each time. Default 250 ms. */
  notifyBackoffMs?: number;
}

export type Tuning = Required<RunnerTuning>;

/**
 * How fast a call whose worker died runs again. A dead worker's lock lapses within `lockMs` of its
 * last renewal; the next stalled check after that moves the job back to the queue (the check before
 * it, at most `stalledMs` earlier, marked it — true whenever `stalledMs <= lockMs`). So a call is
 * running again within lockMs + stalledMs = 9 s of its worker dying (BullMQ's defaults, 30 s each,
 * took 30–60 s: long for someone waiting in chat). Shorter still costs a Redis round trip per check
 * and per renewal, and a worker whose event loop falls over three quarters of the lock (3.75 s)
 * behind would be taken for dead: its read-only calls run twice, others are reported as
 * interrupted, never re-run.
 */
export const RECOVERY = { lockMs: 5000, stalledMs: 4000 } as const;

/** Every tunable, with its default where `tuning` leaves it unset. */
export function withDefaults(tuning: RunnerTuning = {}): Tuning {
  return {
    prefix: tuning.prefix ?? 'onbehalf',
    attempts: tuning.attempts ?? 4,
    backoffMs: tuning.backoffMs ?? 1000,
    removeOnCompleteAgeS: tuning.removeOnCompleteAgeS ?? 3600,
    removeOnFailAgeS: tuning.removeOnFailAgeS ?? 604_800,
    parkedTtlMs: tuning.parkedTtlMs ?? 3_600_000,
    approvalTtlMs: tuning.approvalTtlMs ?? 600_000,
    concurrency: tuning.concurrency ?? 16,
    lockDurationMs: tuning.lockDurationMs ?? RECOVERY.lockMs,
    stalledIntervalMs: tuning.stalledIntervalMs ?? RECOVERY.stalledMs,
    resultLimit: tuning.resultLimit ?? 3500,
    maxQueuedPerUser: tuning.maxQueuedPerUser ?? 20,
    maxParkedPerUser: tuning.maxParkedPerUser ?? 10,
    maxStepUps: tuning.maxStepUps ?? 2,
    notifyAttempts: tuning.notifyAttempts ?? 3,
    notifyBackoffMs: tuning.notifyBackoffMs ?? 250,
  };
}
