import { argDigest, type AuditInput } from '../audit/index.js';
import type { Queries } from '../db/index.js';
import { actsAsCaller } from '../policy/index.js';
import { chatOf, type Attempt } from './attempt.js';
import { terminal, type CallRow, type CallStatus, type CallStore, type Delivery, type StoredOutcome } from './calls.js';
import type { ExecutorDeps } from './deps.js';
import type { CallInfo, ToolOutcome } from './outcome.js';
import type { Tuning } from './tuning.js';

/** What one attempt of a tool job ended in. `retry`: throw so BullMQ backs off and tries again. */
export type StepResult =
  { status: 'done' } | { status: 'parked' } | { status: 'held' } | { status: 'retry'; reason: string };

/** How an attempt ends: the final status, the outcome, and what the audit event says. */
export interface Ending {
  status: CallRow['status'];
  outcome: ToolOutcome;
  audit: string;
  /** The audit event's decision. Default `allowed`. */
  decision?: string;
  /** The statuses the call may end from. Default running or queued. */
  from?: CallStatus[];
}

/** Records how calls end, audits every step, and delivers each outcome once (to chat, or to the agent's turn). */
export class Reporter {
  constructor(
    private readonly d: ExecutorDeps,
    private readonly calls: CallStore,
    private readonly t: Pick<Tuning, 'notifyAttempts' | 'notifyBackoffMs'>,
  ) {}

  /** Ends the call (only from `from`; another worker may have got there first), audits and notifies. */
  async finish(a: Attempt, e: Ending): Promise<StepResult> {
    const prior = a.stored;
    const stored: StoredOutcome = {
      final: e.outcome,
      notified: false,
      ...(a.server?.privateResults && a.creds && actsAsCaller(a.creds) ? { private: true } : {}),
      ...(prior.resumed ? { resumed: true } : {}),
      ...(prior.approval ? { approval: prior.approval } : {}),
    };
    const from = e.from ?? ['running', 'queued'];
    // An answer that will be a new message (no placeholder to edit, not private, not for an agent's
    // turn) gets its `posting` marker (#deliver) with the end: one write fewer before it is posted.
    const known = a.delivery;
    const posting =
      known && !known.messageId && !known.posting && !a.row.turnId && !stored.private && !a.info.private
        ? Date.now()
        : undefined;
    const patch = {
      outcome: stored,
      parkedProviderId: null,
      ...(posting ? { delivery: { ...known, posting } } : {}),
    };
    const decision = e.decision ?? 'allowed';
    // The end and its audit event are stored as one: a crash between them never leaves a call that
    // ended with no audit event naming its caller (nor an event for an end that was not stored).
    const delivery = await this.calls.endAudited(a.row.id, from, e.status, patch, {
      audit: this.d.audit,
      input: this.#event(a, decision, e.audit, stored),
    });
    if (!delivery) return { status: 'done' };
    a.stored = stored;
    this.#measure(a, e.audit);
    if (terminal.includes(e.status)) this.calls.woken(a.row.id, a.row.turnId);
    await this.notify({ ...a.row, outcome: stored }, a.info, e.outcome, delivery, posting);
    return { status: 'done' };
  }

  /** Hands the call back to the queue for BullMQ to retry after its backoff. */
  async retry(a: Attempt, reason: string): Promise<StepResult> {
    await this.calls.transition(a.row.id, ['running'], 'queued', { outcome: { resumed: a.stored.resumed } });
    return { status: 'retry', reason };
  }

  /**
   * Tells whoever waits for the outcome: the agent's turn (if the call had waited) or the conversation.
   * `delivery`: the call's delivery record as its end left it (read fresh when not given); `posting`:
   * the marker this attempt stored with the end (`finish`), not an earlier attempt's.
   */
  async notify(
    row: CallRow,
    call: CallInfo,
    outcome: ToolOutcome,
    delivery?: Delivery,
    posting?: number,
  ): Promise<void> {
    const stored = this.calls.outcome(row);
    const info = stored.private ? { ...call, private: true } : call;
    if (row.turnId) {
      // The agent that made this call gets the outcome from `runToolCall`; a resumed one continues its turn.
      if (stored.resumed) await this.#resumeTurn(row, info, outcome, stored);
    } else {
      const failed = await this.#deliver(row, info, outcome, delivery, posting);
      if (failed) {
        // Never a silent `ok`: the row and the audit say the caller may not have seen the answer.
        await this.calls.setOutcome(row.id, {
          ...stored,
          final: outcome,
          notified: false,
          notifyFailed: { at: Date.now(), error: failed },
        });
        await this.#auditNotifyFailed(row, info, failed);
        this.d.log.warn(
          { reqId: row.requestId, callId: row.id, err: failed },
          'the outcome could not be delivered to chat',
        );
        return;
      }
    }
    await this.calls.setOutcome(row.id, { ...stored, final: outcome, notified: true });
  }

  async #resumeTurn(row: CallRow, info: CallInfo, outcome: ToolOutcome, stored: StoredOutcome): Promise<void> {
    if (!this.d.resumeTurn) {
      this.d.log.warn({ callId: row.id }, 'no agent in this process to continue the turn of a call that waited');
      return;
    }
    await this.d.resumeTurn({
      orgId: row.orgId,
      userId: row.userId,
      target: info.target,
      requestId: row.requestId,
      callId: row.id,
      server: info.server,
      tool: row.tool,
      outcome,
      approval: stored.approval?.decision,
      waitedFor: stored.approval?.askedAt ? 'approval' : 'connect',
      ...(info.private ? { private: true } : {}),
    });
  }

  /**
   * Before the tool runs, a status message where the answer will go; its id is stored so the
   * answer edits it. Crash windows: after the platform accepted the placeholder but before its id
   * is stored, a later attempt posts a second placeholder (a stray "running" line, never a second
   * answer); once the id is stored, every delivery is an edit of that one message.
   */
  async placeholder(a: Attempt): Promise<void> {
    if (a.row.turnId || !this.d.notifier.placeholder) return;
    if ((a.delivery ?? (await this.calls.delivery(a.row.id))).messageId) return;
    const messageId = await this.d.notifier.placeholder(a.info).catch((err: unknown) => {
      this.d.log.debug({ callId: a.row.id, err: (err as Error).message }, 'no placeholder posted');
      return undefined;
    });
    if (!messageId) return;
    // Kept on the attempt too: a retry within it (after a 401) finds the placeholder and edits it.
    a.delivery = { ...(await this.calls.delivery(a.row.id)), messageId };
    await this.calls.setDelivery(a.row.id, a.delivery);
  }

  /**
   * Delivers the outcome once, retrying with backoff; resolves with the last error when every try
   * failed. With a placeholder the answer is an edit of it: repeated after a crash between the
   * platform's acceptance and the `notified` update, it changes the same message (idempotent).
   * Without one a marker is stored before posting (with the call's end when this attempt ended it,
   * `own`) and a later attempt that finds it does not post again: the remaining window is a crash
   * after the marker and before the platform accepted, where the answer is lost rather than
   * doubled (recorded as `uncertain`). A private result goes to the caller first, under markers of
   * its own (`#deliverPrivately`).
   */
  async #deliver(
    row: CallRow,
    info: CallInfo,
    outcome: ToolOutcome,
    known?: Delivery,
    own?: number,
  ): Promise<string | undefined> {
    let delivery = known;
    if (info.private && this.d.notifier.privateOutcome) {
      const failed = await this.#deliverPrivately(row, info, outcome);
      if (failed) return failed;
      delivery = undefined; // changed by the private part
    }
    delivery ??= await this.calls.delivery(row.id);
    if (!delivery.messageId && !(own !== undefined && delivery.posting === own)) {
      if (delivery.posting) {
        await this.calls.setDelivery(row.id, { ...delivery, uncertain: true });
        this.d.log.warn(
          { reqId: row.requestId, callId: row.id },
          'an earlier attempt began posting this outcome and stopped; not posting it again',
        );
        return undefined;
      }
      await this.calls.setDelivery(row.id, { ...delivery, posting: Date.now() });
    }
    const edit = delivery.messageId ? { messageId: delivery.messageId } : undefined;
    return this.#tries(() => this.d.notifier.outcome(info, outcome, edit));
  }

  /**
   * A private result (Slack ephemeral, Discord ephemeral follow-up, a DM) cannot always be edited
   * later (Slack's ephemerals never), so it is never sent twice instead: `privatePosting` is stored
   * before the platform call and `privateSent` after it. A later attempt that finds the first
   * without the second cannot know whether it arrived; it does not send it again, logs so, and
   * tells the caller it may already have been delivered, so that it is neither doubled nor lost
   * silently. Once `privateSent` is stored, later attempts leave the private part alone.
   */
  async #deliverPrivately(row: CallRow, info: CallInfo, outcome: ToolOutcome): Promise<string | undefined> {
    const delivery = await this.calls.delivery(row.id);
    if (delivery.privateSent) return undefined;
    const again = Boolean(delivery.privatePosting);
    if (again)
      this.d.log.warn(
        { reqId: row.requestId, callId: row.id },
        'an earlier attempt began sending this private result and stopped; not sending it again, telling the caller it may already have arrived',
      );
    else await this.calls.setDelivery(row.id, { ...delivery, privatePosting: Date.now() });
    const failed = await this.#tries(() => this.d.notifier.privateOutcome!(info, outcome, again));
    if (!failed)
      await this.calls.setDelivery(row.id, {
        ...(await this.calls.delivery(row.id)),
        privateSent: Date.now(),
        ...(again ? { privateUncertain: true } : {}),
      });
    return failed;
  }

  /** Runs `send` up to `notifyAttempts` times with doubling backoff; the last error, or undefined once it worked. */
  async #tries(send: () => Promise<void>): Promise<string | undefined> {
    let last = 'unknown';
    for (let n = 0; n < this.t.notifyAttempts; n++) {
      if (n) await new Promise((r) => setTimeout(r, this.t.notifyBackoffMs * 2 ** (n - 1)));
      try {
        await send();
        return undefined;
      } catch (err) {
        last = (err as Error).message.slice(0, 200);
      }
    }
    return last;
  }

  async #auditNotifyFailed(row: CallRow, info: CallInfo, error: string): Promise<void> {
    await this.d.audit.write({
      orgId: row.orgId,
      category: 'tool_call',
      action: 'notify',
      actorUserId: row.userId,
      onBehalfOfUserId: row.userId,
      ...chatOf(info),
      server: info.server,
      tool: row.tool,
      argDigest: argDigest(row.args),
      outcome: 'notify_failed',
      requestId: row.requestId,
      detail: { callId: row.id, error },
    });
  }

  /** The call's audit event for this step, and its metrics (`q`: written in that transaction). */
  async audit(a: Attempt, decision: string, outcome: string, q?: Queries): Promise<void> {
    this.#measure(a, outcome);
    await this.d.audit.write(this.#event(a, decision, outcome, a.stored), q);
  }

  /** Counts the step's outcome and, once the call finished, its latency. */
  #measure(a: Attempt, outcome: string): void {
    this.d.metrics?.toolCalls.inc({ outcome });
    // A call waiting for its caller (a grant, an approval) has not finished: its latency is observed when it does.
    if (!outcome.startsWith('needs_connect') && outcome !== 'awaiting_approval')
      this.d.metrics?.toolCallSeconds.observe((Date.now() - a.row.createdAt) / 1000);
  }

  /** The call's audit event for this step; `stored`: what the call's row holds (its approval, if any). */
  #event(a: Attempt, decision: string, outcome: string, stored: StoredOutcome): AuditInput {
    return {
      orgId: a.row.orgId,
      category: 'tool_call',
      action: 'call',
      actorUserId: a.row.userId,
      onBehalfOfUserId: a.row.userId,
      ...chatOf(a.info),
      server: a.info.server,
      tool: a.row.tool,
      // What the server was (or would have been) sent; before the rules decided, what was supplied.
      argDigest: argDigest(a.args ?? a.row.args),
      credentialKinds: a.creds?.kinds ?? [],
      connectionIds: a.creds?.connectionIds ?? [],
      vendorAccount: a.creds?.vendorAccounts.join(',') || null,
      decision,
      outcome,
      latencyMs: Date.now() - a.started,
      requestId: a.row.requestId,
      detail: {
        callId: a.row.id,
        attempt: a.row.attempts + 1,
        digestOf: a.args ? 'sent' : 'supplied',
        // The org's service grants the call used: it acted as the org's identity, triggered by this person.
        ...(a.creds?.services.length ? { serviceGrants: a.creds.services } : {}),
        ...(stored.approval ? { approval: stored.approval } : {}),
      },
    };
  }
}
