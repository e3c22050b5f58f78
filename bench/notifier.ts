import type { ApprovalRequest, CallInfo, ConnectRequest, RunnerNotifier, ToolOutcome } from '../src/runner/index.js';

/** One finished call as the bench sees it: when the caller would have been told, and what. */
export interface Finished {
  callId: string;
  outcome: ToolOutcome | { kind: 'needs_connect'; providerSlug: string } | { kind: 'needs_approval' };
  /** performance.now() when the notifier was called. */
  at: number;
}

/**
 * The chat seam of the runner, timed: `outcome` is the moment a user would be told. `done(callId)`
 * resolves with that moment (whether the outcome came before or after the call was awaited).
 */
export class WaitingNotifier implements RunnerNotifier {
  readonly #done = new Map<string, Finished>();
  readonly #waiting = new Map<string, (f: Finished) => void>();
  /** How many outcomes arrived in total. */
  count = 0;

  async outcome(call: CallInfo, outcome: ToolOutcome): Promise<void> {
    this.#settle({ callId: call.callId, outcome, at: performance.now() });
  }

  async needsConnect(call: CallInfo, req: ConnectRequest): Promise<void> {
    this.#settle({
      callId: call.callId,
      outcome: { kind: 'needs_connect', providerSlug: req.providerSlug },
      at: performance.now(),
    });
  }

  async approvalRequest(call: CallInfo, _req: ApprovalRequest): Promise<void> {
    this.#settle({ callId: call.callId, outcome: { kind: 'needs_approval' }, at: performance.now() });
  }

  #settle(f: Finished): void {
    this.count++;
    const w = this.#waiting.get(f.callId);
    if (w) {
      this.#waiting.delete(f.callId);
      w(f);
    } else this.#done.set(f.callId, f);
  }

  /** Resolves when call `callId` has an outcome; rejects after `timeoutMs` (default 60000). */
  done(callId: string, timeoutMs = 60_000): Promise<Finished> {
    const have = this.#done.get(callId);
    if (have) {
      this.#done.delete(callId);
      return Promise.resolve(have);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(callId);
        reject(new Error(`call ${callId} had no outcome within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(callId, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
  }
}
