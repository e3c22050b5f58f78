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
  /** How often live workers look for jobs whose lock lapsed. Default 2000 ms (`ONBEHALF_STALLED_CHECK_MS`; see `RECOVERY`). */
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
 * last renewal. Only a stalled check moves the job back to the queue, and checks are shared by every
 * worker through one Redis key that lives `stalledMs`: a live worker whose timer fires while another
 * worker's (or the dead one's) check still holds that key skips its turn and tries `stalledMs`
 * later, so the first effective check after the lock lapsed can come up to 2 × `stalledMs` after it
 * (the job was marked by the check before, true whenever `stalledMs <= lockMs`). Worst case:
 * lockMs + 2 × stalledMs = 5000 + 2 × 2000 = 9 s, under the 10 s a person waiting in chat is
 * promised (4000 ms checks measured up to 11.9 s; BullMQ's 30 s defaults took 30–60 s). The lock
 * stays 5 s because a running call renews it every quarter (1.25 s): a worker is taken for dead
 * only when its event loop falls 3.75 s behind (its read-only calls then run twice, others are
 * reported as interrupted, never re-run). A check every 2 s is one short Redis script per worker.
 */
export const RECOVERY = { lockMs: 5000, stalledMs: 2000 } as const;

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
