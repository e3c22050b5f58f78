import type { ConnectReason } from '../policy/index.js';
import type { ReplyTarget } from '../identity/reply.js';
import { attemptOf, type Attempt } from './attempt.js';
import type { CallRow, CallStore } from './calls.js';
import type { ExecutorDeps } from './deps.js';
import type { ToolQueue } from './jobs.js';
import type { Reporter, StepResult } from './report.js';
import type { Tuning } from './tuning.js';

/** A user's grant for a provider became usable; `resumeCallId`: the call named by the connect link, if any. */
export interface GrantRef {
  orgId: string;
  userId: string;
  providerId: string;
  resumeCallId?: string | undefined;
}

/** A call waiting for a grant, and the conversation it waits in. */
export interface WaitingCall {
  callId: string;
  target: ReplyTarget;
}

/**
 * Parked calls: a call that needs a grant its caller has not given waits (parked, with a private
 * connect prompt) until the grant arrives, then is queued again; one left too long is cancelled.
 */
export class Parking {
  constructor(
    private readonly d: ExecutorDeps,
    private readonly calls: CallStore,
    private readonly report: Reporter,
    private readonly queue: ToolQueue,
    private readonly t: Pick<Tuning, 'maxParkedPerUser' | 'parkedTtlMs' | 'maxStepUps'>,
  ) {}

  /**
   * A 403 `insufficient_scope`: parks the call for a new authorization asking for `scopes` on top of
   * what was granted (a refresh cannot widen a grant), at most `maxStepUps` times per call.
   */
  async stepUp(a: Attempt, slug: string, scopes: string[], server: string): Promise<StepResult> {
    const rounds = a.stored.stepUps ?? 0;
    if (rounds >= this.t.maxStepUps)
      return this.report.finish(a, {
        status: 'failed',
        outcome: { kind: 'failed', why: { code: 'scope_step_up_limit', server, scopes, rounds } },
        audit: 'scope_step_up_limit',
      });
    a.stored = { ...a.stored, stepUps: rounds + 1 };
    return this.parkFor(a, slug, 'insufficient_scope', scopes);
  }

  /** Parks the call on the grant named by `slug` (a rejected token: its provider's id is looked up). */
  async parkFor(a: Attempt, slug: string, reason: ConnectReason, extraScopes?: string[]): Promise<StepResult> {
    const t = await this.d.tokens.accessTokenFor(a.row.orgId, a.row.userId, slug);
    const providerId = 'providerId' in t ? t.providerId : slug;
    return this.park(a, slug, providerId, reason, extraScopes);
  }

  /** Parks the call until the caller connects `providerSlug`, and asks them privately; fails at the user's parked-calls cap. */
  async park(
    a: Attempt,
    providerSlug: string,
    providerId: string,
    reason: ConnectReason,
    extraScopes?: string[],
  ): Promise<StepResult> {
    const { row, info } = a;
    const connectUrl = await this.d.tokens.connectLink(row.orgId, row.userId, providerSlug, {
      resumeCallId: row.id,
      ...(extraScopes?.length ? { extraScopes } : {}),
    });
    const stepUps = a.stored.stepUps ? { stepUps: a.stored.stepUps } : {};
    const patch = { parkedProviderId: providerId, outcome: { parked: { providerSlug, reason }, ...stepUps } };
    if ((await this.calls.parkWithin(row, patch, this.t.maxParkedPerUser)) === 'full')
      return this.report.finish(a, {
        status: 'failed',
        outcome: { kind: 'failed', why: { code: 'park_cap', provider: providerSlug, max: this.t.maxParkedPerUser } },
        audit: 'park_cap',
      });
    await this.report.audit(a, 'parked', `needs_connect:${reason}`);
    // A waiting turn resumes once the prompt is on its way (the waiter runs after this synchronous step).
    this.calls.woken(row.id, row.turnId);
    await this.d.notifier.needsConnect(info, { providerSlug, connectUrl, reason });
    return { status: 'parked' };
  }

  /** The calls waiting for this grant: the user's calls parked for the provider, and the one the link named. */
  async waitingFor(e: GrantRef): Promise<CallRow[]> {
    const rows = await this.calls.parkedFor(e.orgId, e.userId, e.providerId);
    if (e.resumeCallId && !rows.some((r) => r.id === e.resumeCallId)) {
      const named = await this.calls.get(e.resumeCallId);
      if (named && named.status === 'parked' && named.orgId === e.orgId && named.userId === e.userId) rows.push(named);
    }
    return rows;
  }

  /** Queues again these calls, each if it is still parked (another worker may have got there first); resolves with how many. */
  async resume(userId: string, callIds: string[]): Promise<number> {
    let n = 0;
    for (const id of callIds) {
      const row = await this.calls.get(id);
      if (!row || row.status !== 'parked') continue;
      const { stepUps } = this.calls.outcome(row);
      const moved = await this.calls.transition(row.id, ['parked'], 'queued', {
        parkedProviderId: null,
        outcome: { resumed: true, ...(stepUps ? { stepUps } : {}) },
      });
      if (!moved) continue;
      await this.queue.add(row.id, `${row.id}-r${row.attempts}-${Date.now()}`);
      n++;
    }
    if (n) this.d.log.info({ user: userId, resumed: n }, 'resumed parked calls');
    return n;
  }

  /** Cancels parked calls older than the parking limit, telling each caller. */
  async sweep(now = Date.now()): Promise<number> {
    let n = 0;
    const minutes = Math.round(this.t.parkedTtlMs / 60_000);
    for (const row of await this.calls.parkedBefore(now - this.t.parkedTtlMs)) {
      const outcome = {
        kind: 'cancelled' as const,
        why: { code: 'connect_timeout' as const, minutes },
      };
      const moved = await this.calls.transition(row.id, ['parked'], 'cancelled', {
        parkedProviderId: null,
        outcome: { final: outcome, notified: true },
      });
      if (!moved) continue;
      const a = await attemptOf(this.calls, this.d.policy, row, { finalAttempt: true });
      await this.d.notifier.outcome(a.info, outcome).catch(() => undefined);
      n++;
    }
    return n;
  }
}
