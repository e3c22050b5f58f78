import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { redactSecrets } from '../crypto/index.js';
import { approvalMode, type McpServerRow, type ResolvedCredentials } from '../policy/index.js';
import { attemptOf, type Attempt } from './attempt.js';
import type { ApprovalRecord, CallRow, CallStore } from './calls.js';
import type { ExecutorDeps } from './deps.js';
import type { ToolQueue } from './jobs.js';
import type { ApprovalAnswer, ToolOutcome } from './outcome.js';
import type { Reporter, StepResult } from './report.js';

/** Every string inside a JSON value with the resolved secrets cut out (the approval prompt shows the arguments). */
function redactDeep(v: unknown, sensitive: ResolvedCredentials['sensitive']): unknown {
  if (typeof v === 'string') return redactSecrets(v, sensitive);
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, sensitive));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactDeep(x, sensitive)]));
  return v;
}

/** An approval prompt's answer, from the chat identity that clicked or typed it. */
export interface ApprovalReply {
  orgId: string;
  userId: string;
  chatIdentity: string;
  callId: string;
  approve: boolean;
  requestId: string;
}

/**
 * Calls the model chose that change things wait for their caller: held with a private Approve /
 * Deny prompt, run once approved, ended when denied or when the hold lapses.
 */
export class Approvals {
  constructor(
    private readonly d: ExecutorDeps,
    private readonly calls: CallStore,
    private readonly report: Reporter,
    private readonly queue: ToolQueue,
    private readonly ttlMs: number,
  ) {}

  /**
   * Calls the model chose wait for the caller unless the tool is read-only or an admin rule says
   * `always`; `never` refuses them (the catalog already hides such tools from the model). A call
   * the person typed (`run`, no turn) is explicit and never asks. Credentials are resolved and the
   * tool listed first: the prompt names the account the call will use, and `readOnlyHint` comes
   * from the server's own tool list. The call itself is not sent until the caller approves.
   */
  async gate(
    a: Attempt,
    server: McpServerRow,
    tool: Tool,
    args: Record<string, unknown>,
    creds: ResolvedCredentials,
  ): Promise<StepResult | undefined> {
    if (a.stored.approval?.decision === 'approved') return undefined;
    const record = (approval: ApprovalRecord) => void (a.stored = { ...a.stored, approval });
    if (!a.row.turnId) return record({ decision: 'typed' });
    const readOnly = tool.annotations?.readOnlyHint === true;
    const d = approvalMode(await this.d.policy.approvals.of(server.id, a.config), a.row.tool, readOnly);
    if (d.mode === 'always') return record({ decision: d.rule === null ? 'read_only' : 'policy_always', rule: d.rule });
    if (d.mode === 'never') {
      record({ decision: 'policy_never', rule: d.rule });
      return this.report.finish(a, {
        status: 'denied',
        outcome: { kind: 'denied', rule: `approve ${d.rule}`, why: { code: 'assistant_never' } },
        audit: 'approval_never',
        decision: 'denied',
      });
    }
    const askedAt = Date.now();
    const expiresAt = askedAt + this.ttlMs;
    record({ decision: 'pending', rule: d.rule, askedAt, expiresAt });
    if (!(await this.calls.transition(a.row.id, ['running'], 'awaiting_approval', { outcome: a.stored })))
      return { status: 'done' };
    await this.report.audit(a, 'held', 'awaiting_approval');
    // A waiting turn resumes once the prompt is on its way (the waiter runs after this synchronous step).
    this.calls.woken(a.row.id, a.row.turnId);
    await this.d.notifier.approvalRequest(a.info, {
      args: redactDeep(args, creds.sensitive) as Record<string, unknown>,
      credentialKinds: creds.kinds,
      vendorAccounts: creds.vendorAccounts,
      grants: creds.grants,
      expiresAt,
    });
    return { status: 'held' };
  }

  /**
   * The answer to an approval prompt (resolved from the verified platform payload). Only the call's
   * own user may answer; anyone else is refused, audited, and the call stays held. Approve re-queues
   * the call once: a second click finds it no longer held. Deny ends it without contacting the server.
   */
  async answer(req: ApprovalReply): Promise<ApprovalAnswer> {
    const row = await this.calls.get(req.callId);
    if (!row || row.orgId !== req.orgId) return { kind: 'unknown' };
    const server = (await this.d.policy.serverById(row.orgId, row.serverId))?.name ?? '(removed server)';
    if (row.userId !== req.userId) {
      await this.#auditNotTheCaller(row, server, req);
      return { kind: 'not_yours' };
    }
    if (row.status !== 'awaiting_approval') return { kind: 'not_waiting', status: row.status };
    const notWaiting = async () => ({
      kind: 'not_waiting' as const,
      status: (await this.calls.get(row.id))?.status ?? 'unknown',
    });
    if (!req.approve)
      return (await this.end(row.id, { decision: 'denied', by: req.chatIdentity }))
        ? { kind: 'denied', server, tool: row.tool }
        : await notWaiting();
    const stored = this.calls.outcome(row);
    const approval = { ...stored.approval!, decision: 'approved' as const, by: req.chatIdentity, at: Date.now() };
    if (
      !(await this.calls.transition(row.id, ['awaiting_approval'], 'queued', { outcome: { resumed: true, approval } }))
    )
      return await notWaiting();
    await this.queue.add(row.id, `${row.id}-approved`);
    return { kind: 'approved', server, tool: row.tool };
  }

  async #auditNotTheCaller(row: CallRow, server: string, req: ApprovalReply): Promise<void> {
    await this.d.audit.write({
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
  }

  /**
   * Ends a held call without running it: the caller denied it, or the hold lapsed. Only a call
   * still held is ended (an approval that got there first wins). The agent's turn is resumed with it.
   */
  async end(callId: string, how: { decision: 'denied' | 'expired'; by?: string }): Promise<boolean> {
    const row = await this.calls.get(callId);
    if (!row || row.status !== 'awaiting_approval') return false;
    const stored = this.calls.outcome(row);
    const approval: ApprovalRecord = {
      ...stored.approval!,
      decision: how.decision,
      at: Date.now(),
      ...(how.by ? { by: how.by } : {}),
    };
    const a = await attemptOf(this.calls, this.d.policy, row, {
      finalAttempt: true,
      stored: { ...stored, resumed: true, approval },
    });
    const denied = how.decision === 'denied';
    const minutes = Math.round(this.ttlMs / 60_000);
    const outcome: ToolOutcome = denied
      ? { kind: 'denied', rule: 'approval', why: { code: 'approval_denied' } }
      : { kind: 'cancelled', why: { code: 'approval_expired', minutes } };
    await this.report.finish(a, {
      status: denied ? 'denied' : 'cancelled',
      outcome,
      audit: denied ? 'approval_denied' : 'approval_expired',
      decision: how.decision,
      from: ['awaiting_approval'],
    });
    const now = await this.calls.get(callId);
    return now !== undefined && this.calls.outcome(now).approval?.decision === how.decision;
  }

  /** Cancels calls held for approval longer than the approval limit; each agent turn is told. */
  async sweep(now = Date.now()): Promise<number> {
    let n = 0;
    for (const row of await this.calls.heldBefore(now - this.ttlMs))
      if (await this.end(row.id, { decision: 'expired' })) n++;
    return n;
  }
}
