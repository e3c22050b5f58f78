import type { CallStore } from './calls.js';
import type { EnqueueResult, ToolCallRequest } from './enqueue.js';
import type { RunResult, ToolOutcome } from './outcome.js';
import type { Problem } from '../db/schema/shapes.js';

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
  req: ToolCallRequest,
  timeoutMs: number,
): Promise<RunResult> {
  const queued = await enqueue(req);
  if (queued.kind === 'too_many_queued') return failed({ code: 'queue_cap', max: queued.limit });
  if (queued.kind === 'unknown_server') return failed({ code: 'unknown_server', server: queued.server });
  const { callId } = queued;
  const deadline = Date.now() + timeoutMs;
  // Woken at once when the call parks or ends in this process; the coarser poll covers a worker in another process.
  for (let wait = 50; ; wait = Math.min(wait * 2, 250)) {
    const row = await calls.get(callId);
    if (!row) return failed({ code: 'unknown_server', server: req.server });
    if (row.status === 'parked')
      return { kind: 'parked', callId, providerSlug: calls.outcome(row).parked?.providerSlug ?? '' };
    if (row.status === 'awaiting_approval') return { kind: 'held', callId };
    const final = calls.finalOutcome(row);
    if (final) return done(final, calls.outcome(row).private);
    if (Date.now() > deadline) return failed({ code: 'too_slow' });
    await calls.settled(callId, Math.min(wait, deadline - Date.now() + 1));
  }
}
