import type { CallStore } from './calls.js';
import type { EnqueueResult, ToolCallRequest } from './enqueue.js';
import type { RunResult, ToolOutcome } from './outcome.js';
import type { Problem } from '../db/schema/shapes.js';
import type { CallSignals } from './signal.js';

/** Longest wait without reading the call's row: the safety net under a lost wake message. */
export const SAFETY_READ_MS = 5000;

const done = (outcome: ToolOutcome, isPrivate?: boolean): RunResult =>
  isPrivate ? { kind: 'done', outcome, private: true } : { kind: 'done', outcome };
const failed = (why: Problem): RunResult => done({ kind: 'failed', why });

/**
 * Runs one call and waits for it: the outcome, `parked` when the caller must connect first, or
 * `held` when the caller must approve it first. A held call does not keep the turn waiting: an
 * approval may take minutes (up to the approval limit), longer than a turn may hold a worker and
 * the model's request, and the hold must outlive a worker restart. So the agent is told at once
 * that the call waits, and the call's outcome (run, denied, or lapsed) resumes the turn the way a
 * parked call's does.
 */
export async function runAndWait(
  enqueue: (req: ToolCallRequest) => Promise<EnqueueResult>,
  calls: CallStore,
  signals: CallSignals,
  req: ToolCallRequest,
  timeoutMs: number,
): Promise<RunResult> {
  // Listening before the call exists: its end, in whichever process, cannot pass unheard.
  await signals.listening();
  const queued = await enqueue(req);
  if (queued.kind === 'too_many_queued') return failed({ code: 'queue_cap', max: queued.limit });
  if (queued.kind === 'unknown_server') return failed({ code: 'unknown_server', server: queued.server });
  const { callId } = queued;
  const deadline = Date.now() + timeoutMs;
  // The row is read first, then only when a wake says the call settled (here or in another process,
  // see CallSignals), every SAFETY_READ_MS, and once at the deadline: no polling meanwhile.
  for (;;) {
    const wake = calls.settled(callId, Math.min(SAFETY_READ_MS, deadline - Date.now() + 1));
    const answer = await readSettled(calls, callId, req);
    if (answer || Date.now() > deadline) {
      wake.cancel();
      return answer ?? failed({ code: 'too_slow' });
    }
    await wake.woken;
  }
}

/** The answer a call's row gives a waiter, or undefined while it is still queued or running. */
async function readSettled(calls: CallStore, callId: string, req: ToolCallRequest): Promise<RunResult | undefined> {
  const row = await calls.get(callId);
  if (!row) return failed({ code: 'unknown_server', server: req.server });
  if (row.status === 'parked')
    return { kind: 'parked', callId, providerSlug: calls.outcome(row).parked?.providerSlug ?? '' };
  if (row.status === 'awaiting_approval') return { kind: 'held', callId };
  const final = calls.finalOutcome(row);
  return final ? done(final, calls.outcome(row).private) : undefined;
}
