import { and, eq, sql } from 'drizzle-orm';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { redactSecrets } from '../crypto/index.js';
import { argDigest, type AuditLog } from '../audit/index.js';
import type { Db } from '../db/index.js';
import { users } from '../db/schema/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { retryable, resultText, type McpPool } from '../mcp/index.js';
import {
  approvalMode,
  decide,
  resolveCredentials,
  type Caller,
  type McpServerRow,
  type Policy,
  type ResolvedCredentials,
  type RunnerTokens,
} from '../policy/index.js';
import {
  CallStore,
  parkCapMessage,
  terminal,
  type ApprovalRecord,
  type CallRow,
  type CallStatus,
  type StoredOutcome,
} from './calls.js';
import { trimForChat, type CallInfo, type ConnectRequest, type RunnerNotifier, type ToolOutcome } from './outcome.js';

/** What one attempt of a tool job ended in. `retry`: throw so BullMQ backs off and tries again. */
export type StepResult =
  { status: 'done' } | { status: 'parked' } | { status: 'held' } | { status: 'retry'; reason: string };

/** Every string inside a JSON value with the resolved secrets cut out (the approval prompt shows the arguments). */
function redactDeep(v: unknown, sensitive: ResolvedCredentials['sensitive']): unknown {
  if (typeof v === 'string') return redactSecrets(v, sensitive);
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, sensitive));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactDeep(x, sensitive)]));
  return v;
}

export interface ExecutorDeps {
  db: Db;
  policy: Policy;
  pool: McpPool;
  tokens: RunnerTokens;
  notifier: RunnerNotifier;
  audit: AuditLog;
  log: Logger;
  /** Tool-call counters and latency; optional so tests may leave them out. */
  metrics?: Pick<Metrics, 'toolCalls' | 'toolCallSeconds'>;
  /** Longest result text posted to chat. */
  resultLimit: number;
  /** Calls one user may have parked at once; past it a call that must park fails instead. Default 10. */
  maxParkedPerUser?: number;
  /** A parked call of an agent turn finished: the agent continues the turn. */
  resumeTurn(row: CallRow, server: string, outcome: ToolOutcome): Promise<void>;
  /** How long a call the model chose waits for the caller's approval before it is cancelled. */
  approvalTtlMs: number;
  /** Tries to deliver an outcome to chat before it is recorded as `notify_failed`. Default 3. */
  notifyAttempts?: number;
  /** First wait between delivery tries, doubled each time. Default 250 ms. */
  notifyBackoffMs?: number;
}

const NOTIFY_ATTEMPTS = 3;
const NOTIFY_BACKOFF_MS = 250;

interface Attempt {
  row: CallRow;
  info: CallInfo;
  server: McpServerRow;
  caller: Caller;
  started: number;
  finalAttempt: boolean;
  creds?: ResolvedCredentials;
  /** What this attempt last stored in `tool_calls.outcome` (saves re-reading the row). */
  stored: StoredOutcome;
}

/** Runs tool calls: access → credentials → park or call → record, audit, notify. */
export class Executor {
  readonly calls: CallStore;
  readonly #validator = new AjvJsonSchemaValidator();
  readonly #user;

  constructor(private readonly d: ExecutorDeps) {
    this.calls = new CallStore(d.db);
    this.#user = d.db
      .select()
      .from(users)
      .where(and(eq(users.orgId, sql.placeholder('orgId')), eq(users.id, sql.placeholder('id'))))
      .prepare();
  }

  /** One attempt of call `callId`. Safe to repeat: the row's status says what already happened. */
  async run(callId: string, opts: { finalAttempt: boolean }): Promise<StepResult> {
    const row = this.calls.get(callId);
    if (!row || row.status === 'parked' || row.status === 'awaiting_approval')
      return { status: !row ? 'done' : row.status === 'parked' ? 'parked' : 'held' };
    const server = this.d.policy.serverById(row.orgId, row.serverId);
    const target = this.calls.target(row);
    const info: CallInfo = {
      callId,
      orgId: row.orgId,
      userId: row.userId,
      server: server?.name ?? '(removed server)',
      tool: row.tool,
      target,
      requestId: row.requestId,
    };
    const stored = this.calls.outcome(row);
    if (terminal.includes(row.status)) {
      // Finished by an earlier attempt that stopped before telling the caller.
      const final = this.calls.finalOutcome(row);
      if (final && !stored.notified) await this.#notify(row, info, final);
      return { status: 'done' };
    }
    if (row.status === 'running' && stored.started && !stored.started.idempotent) {
      // A previous attempt sent the request and its worker died: the tool may have run; never re-run it blind.
      await this.#finish(
        {
          row,
          info,
          server: server!,
          caller: this.#caller(row, target),
          started: Date.now(),
          finalAttempt: true,
          stored,
        },
        'interrupted',
        { kind: 'interrupted', server: info.server, tool: row.tool },
        'interrupted',
      );
      return { status: 'done' };
    }
    const resumed: StoredOutcome = {
      resumed: stored.resumed,
      ...(stored.approval ? { approval: stored.approval } : {}),
    };
    if (
      !this.calls.transition(callId, ['queued', 'running'], 'running', { attempts: row.attempts + 1, outcome: resumed })
    )
      return { status: 'done' };
    const a: Attempt = {
      row,
      info,
      server: server!,
      caller: this.#caller(row, target),
      started: Date.now(),
      finalAttempt: opts.finalAttempt,
      stored: resumed,
    };
    if (!server) return this.#finish(a, 'failed', { kind: 'failed', message: 'that server was removed' }, 'no_server');
    try {
      return await this.#attempt(a);
    } catch (err) {
      this.d.log.error({ reqId: row.requestId, callId, err: (err as Error).message }, 'tool call failed unexpectedly');
      if (!opts.finalAttempt) return this.#retry(a, 'internal error');
      return this.#finish(a, 'failed', { kind: 'failed', message: 'an internal error stopped the call' }, 'error');
    }
  }

  /**
   * BullMQ gave up on the job (it stalled more often than allowed, or its last attempt threw):
   * the caller is told, as `interrupted` if the request may have reached the server.
   */
  async giveUp(callId: string): Promise<void> {
    const row = this.calls.get(callId);
    if (!row || (row.status !== 'queued' && row.status !== 'running')) return;
    const server = this.d.policy.serverById(row.orgId, row.serverId);
    const target = this.calls.target(row);
    const info: CallInfo = {
      callId,
      orgId: row.orgId,
      userId: row.userId,
      server: server?.name ?? '(removed server)',
      tool: row.tool,
      target,
      requestId: row.requestId,
    };
    const stored = this.calls.outcome(row);
    const a: Attempt = {
      row,
      info,
      server: server!,
      caller: this.#caller(row, target),
      started: Date.now(),
      finalAttempt: true,
      stored,
    };
    const started = stored.started;
    if (started && !started.idempotent)
      await this.#finish(a, 'interrupted', { kind: 'interrupted', server: info.server, tool: row.tool }, 'interrupted');
    else
      await this.#finish(
        a,
        'failed',
        { kind: 'failed', message: 'the call could not be completed; try again' },
        'gave_up',
      );
  }

  #caller(row: CallRow, t: CallInfo['target']): Caller {
    return { orgId: row.orgId, userId: row.userId, chat: { platform: t.platform, channelId: t.channelId } };
  }

  async #attempt(a: Attempt): Promise<StepResult> {
    const { row, server, info } = a;
    const user = this.#user.get({ orgId: row.orgId, id: row.userId });
    if (!user)
      return this.#finish(a, 'cancelled', { kind: 'cancelled', reason: 'the user no longer exists' }, 'no_user');
    const decision = decide(
      this.d.policy.rules(server.id),
      server.name,
      { userId: user.id, role: user.role, teams: this.d.policy.teams.ofUser(row.orgId, user.id) },
      row.tool,
      row.args,
      {
        'user.id': user.id,
        'user.email': user.email ?? '',
        'user.name': user.displayName,
        'org.id': row.orgId,
        'chat.channel': info.target.channelId,
        'chat.platform': info.target.platform,
      },
    );
    if (decision.kind === 'denied')
      return this.#finish(
        a,
        'denied',
        { kind: 'denied', rule: decision.rule, reason: decision.reason },
        'denied',
        'denied',
      );
    return this.#withCredentials(a, decision.args, new Set());
  }

  async #withCredentials(a: Attempt, args: Record<string, unknown>, forced: Set<string>): Promise<StepResult> {
    const { server } = a;
    const res = await resolveCredentials(this.d.policy, this.d.tokens, server, a.caller, { forceRefresh: forced });
    if (res.kind === 'needs_connect')
      return this.#park(a, res.providerSlug, res.providerId, res.reason, res.extraScopes);
    if (res.kind === 'unavailable')
      return a.finalAttempt
        ? this.#finish(a, 'failed', { kind: 'failed', message: res.message }, 'token_unavailable')
        : this.#retry(a, 'token provider unavailable');
    if (res.kind === 'misconfigured')
      return this.#finish(a, 'failed', { kind: 'failed', message: res.message }, 'misconfigured');
    const creds = (a.creds = res.creds);

    const listed = await this.d.pool.tools(server, creds);
    let tool: Tool | undefined;
    if (listed.kind === 'ok') tool = listed.value.find((t) => t.name === a.row.tool);
    else if (listed.kind === 'unauthorized' || listed.kind === 'insufficient_scope')
      return this.#rejected(a, args, forced, listed);
    else if (listed.kind === 'unreachable' && !a.finalAttempt)
      return this.#retry(a, `server unreachable (${listed.detail})`);
    else if (listed.kind === 'refused')
      return this.#finish(
        a,
        'failed',
        { kind: 'failed', message: `${listed.reason}, which is not allowed (ONBEHALF_ALLOW_PRIVATE_URLS)` },
        'refused',
      );
    else if (listed.kind === 'timeout')
      return this.#finish(a, 'failed', { kind: 'timeout', server: server.name, afterMs: server.timeoutMs }, 'timeout');
    else
      return this.#finish(
        a,
        'failed',
        {
          kind: 'unreachable',
          server: server.name,
          detail: listed.kind === 'unreachable' ? listed.detail : 'protocol error',
        },
        'unreachable',
      );
    if (!tool)
      return this.#finish(
        a,
        'failed',
        { kind: 'failed', message: `${server.name} has no tool named ${a.row.tool}` },
        'unknown_tool',
      );

    const check = this.#validator.getValidator(
      tool.inputSchema as Parameters<AjvJsonSchemaValidator['getValidator']>[0],
    )(args);
    if (!check.valid)
      return this.#finish(
        a,
        'failed',
        { kind: 'invalid_args', errors: (check.errorMessage ?? 'invalid').slice(0, 500) },
        'invalid_args',
      );

    const gate = await this.#approvalGate(a, tool, args, creds);
    if (gate) return gate;

    const idempotent = Boolean(tool.annotations?.readOnlyHint || tool.annotations?.idempotentHint);
    await this.#placeholder(a);
    a.stored = { ...a.stored, started: { at: Date.now(), idempotent } };
    this.calls.setOutcome(a.row.id, a.stored);
    const r = await this.d.pool.call(server, creds, tool.name, args, server.timeoutMs);
    switch (r.kind) {
      case 'ok': {
        const { text, trimmed } = trimForChat(redactSecrets(resultText(r.result), creds.sensitive), this.d.resultLimit);
        const isError = r.result.isError === true;
        return this.#finish(
          a,
          isError ? 'failed' : 'succeeded',
          { kind: 'result', text, trimmed, isError },
          isError ? 'tool_error' : 'ok',
        );
      }
      case 'unauthorized':
      case 'insufficient_scope':
        return this.#rejected(a, args, forced, r);
      case 'timeout':
        return this.#finish(
          a,
          'failed',
          { kind: 'timeout', server: server.name, afterMs: server.timeoutMs },
          'timeout',
        );
      case 'unreachable':
        if (!a.finalAttempt && retryable(r, idempotent)) return this.#retry(a, `server unreachable (${r.detail})`);
        return this.#finish(a, 'failed', { kind: 'unreachable', server: server.name, detail: r.detail }, 'unreachable');
      case 'protocol':
        return this.#finish(
          a,
          'failed',
          { kind: 'failed', message: `${server.name} refused the call (${r.message})` },
          'protocol_error',
        );
      case 'refused':
        return this.#finish(a, 'failed', { kind: 'failed', message: `${r.reason}, which is not allowed` }, 'refused');
    }
  }

  /**
   * Calls the model chose wait for the caller unless the tool is read-only or an admin rule says
   * `always`; `never` refuses them (the catalog already hides such tools from the model). A call
   * the person typed (`run`, no turn) is explicit and never asks. Credentials are resolved and the
   * tool listed first: the prompt names the account the call will use, and `readOnlyHint` comes
   * from the server's own tool list. The call itself is not sent until the caller approves.
   */
  async #approvalGate(
    a: Attempt,
    tool: Tool,
    args: Record<string, unknown>,
    creds: ResolvedCredentials,
  ): Promise<StepResult | undefined> {
    if (a.stored.approval?.decision === 'approved') return undefined;
    const record = (approval: ApprovalRecord) => void (a.stored = { ...a.stored, approval });
    if (!a.row.turnId) return record({ decision: 'typed' });
    const d = approvalMode(
      this.d.policy.approvals.of(a.server.id),
      a.row.tool,
      tool.annotations?.readOnlyHint === true,
    );
    if (d.mode === 'always') return record({ decision: d.rule === null ? 'read_only' : 'policy_always', rule: d.rule });
    if (d.mode === 'never') {
      record({ decision: 'policy_never', rule: d.rule });
      return this.#finish(
        a,
        'denied',
        {
          kind: 'denied',
          rule: `approve ${d.rule}`,
          reason: 'an admin does not let the assistant call this tool; the person can run it with /onbehalf run',
        },
        'approval_never',
        'denied',
      );
    }
    const askedAt = Date.now();
    const expiresAt = askedAt + this.d.approvalTtlMs;
    record({ decision: 'pending', rule: d.rule, askedAt, expiresAt });
    if (!this.calls.transition(a.row.id, ['running'], 'awaiting_approval', { outcome: a.stored }))
      return { status: 'done' };
    this.#audit(a, 'held', 'awaiting_approval');
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
   * Ends a held call without running it: the caller denied it, or the hold lapsed. Only a call
   * still held is ended (an approval that got there first wins). The agent's turn is resumed with it.
   */
  async endHeld(callId: string, how: { decision: 'denied' | 'expired'; by?: string }): Promise<boolean> {
    const row = this.calls.get(callId);
    if (!row || row.status !== 'awaiting_approval') return false;
    const server = this.d.policy.serverById(row.orgId, row.serverId);
    const target = this.calls.target(row);
    const info: CallInfo = {
      callId,
      orgId: row.orgId,
      userId: row.userId,
      server: server?.name ?? '(removed server)',
      tool: row.tool,
      target,
      requestId: row.requestId,
    };
    const stored = this.calls.outcome(row);
    const approval: ApprovalRecord = {
      ...stored.approval!,
      decision: how.decision,
      at: Date.now(),
      ...(how.by ? { by: how.by } : {}),
    };
    const a: Attempt = {
      row,
      info,
      server: server!,
      caller: this.#caller(row, target),
      started: Date.now(),
      finalAttempt: true,
      stored: { ...stored, resumed: true, approval },
    };
    const minutes = Math.round(this.d.approvalTtlMs / 60_000);
    const outcome: ToolOutcome =
      how.decision === 'denied'
        ? { kind: 'denied', rule: 'approval', reason: 'the person chose Deny when asked to approve it' }
        : { kind: 'cancelled', reason: `the person did not approve it within ${minutes} minute(s)` };
    await this.#finish(
      a,
      how.decision === 'denied' ? 'denied' : 'cancelled',
      outcome,
      how.decision === 'denied' ? 'approval_denied' : 'approval_expired',
      how.decision,
      ['awaiting_approval'],
    );
    const now = this.calls.get(callId);
    return now !== undefined && this.calls.outcome(now).approval?.decision === how.decision;
  }

  /** 401: one forced refresh of the caller's grants and one retry; then prompt. 403 insufficient_scope: prompt for more. */
  async #rejected(
    a: Attempt,
    args: Record<string, unknown>,
    forced: Set<string>,
    r: { kind: 'unauthorized' } | { kind: 'insufficient_scope'; scopes: string[] },
  ): Promise<StepResult> {
    const creds = a.creds!;
    await this.d.pool.discard(a.server, creds);
    if (!creds.grants.length) {
      return this.#finish(
        a,
        'failed',
        {
          kind: 'failed',
          message: `${a.server.name} rejected the credentials configured for it (${creds.kinds.join(', ') || 'none'}); an admin must fix them`,
        },
        'rejected',
      );
    }
    const slug = creds.grants[0]!;
    if (r.kind === 'insufficient_scope') return this.#parkFor(a, slug, 'insufficient_scope', r.scopes);
    if (forced.size === 0) return this.#withCredentials(a, args, new Set(creds.grants));
    return this.#parkFor(a, slug, 'needs_reauth');
  }

  async #parkFor(
    a: Attempt,
    slug: string,
    reason: ConnectRequest['reason'],
    extraScopes?: string[],
  ): Promise<StepResult> {
    const t = await this.d.tokens.accessTokenFor(a.row.orgId, a.row.userId, slug);
    const providerId = 'providerId' in t ? t.providerId : slug;
    return this.#park(a, slug, providerId, reason, extraScopes);
  }

  async #park(
    a: Attempt,
    providerSlug: string,
    providerId: string,
    reason: ConnectRequest['reason'],
    extraScopes?: string[],
  ): Promise<StepResult> {
    const { row, info } = a;
    const connectUrl = await this.d.tokens.connectLink(row.orgId, row.userId, providerSlug, {
      resumeCallId: row.id,
      ...(extraScopes?.length ? { extraScopes } : {}),
    });
    if (
      this.calls.parkWithin(
        row,
        { parkedProviderId: providerId, outcome: { parked: { providerSlug, reason } } },
        this.d.maxParkedPerUser ?? 10,
      ) === 'full'
    )
      return this.#finish(
        a,
        'failed',
        { kind: 'failed', message: parkCapMessage(providerSlug, this.d.maxParkedPerUser ?? 10) },
        'park_cap',
      );
    this.#audit(a, 'parked', `needs_connect:${reason}`);
    await this.d.notifier.needsConnect(info, { providerSlug, connectUrl, reason });
    return { status: 'parked' };
  }

  #retry(a: Attempt, reason: string): StepResult {
    this.calls.transition(a.row.id, ['running'], 'queued', { outcome: { resumed: a.stored.resumed } });
    return { status: 'retry', reason };
  }

  async #finish(
    a: Attempt,
    status: CallRow['status'],
    outcome: ToolOutcome,
    auditOutcome: string,
    decision = 'allowed',
    from: CallStatus[] = ['running', 'queued'],
  ): Promise<StepResult> {
    const prior = a.stored;
    const stored: StoredOutcome = {
      final: outcome,
      notified: false,
      ...(prior.resumed ? { resumed: true } : {}),
      ...(prior.approval ? { approval: prior.approval } : {}),
    };
    if (!this.calls.transition(a.row.id, from, status, { outcome: stored, parkedProviderId: null }))
      return { status: 'done' };
    a.stored = stored;
    this.#audit(a, decision, auditOutcome);
    await this.#notify({ ...a.row, outcome: stored as Record<string, unknown> }, a.info, outcome);
    return { status: 'done' };
  }

  async #notify(row: CallRow, info: CallInfo, outcome: ToolOutcome): Promise<void> {
    const stored = this.calls.outcome(row);
    if (row.turnId) {
      // The agent that made this call gets the outcome from `runToolCall`; a resumed one continues its turn.
      if (stored.resumed) await this.d.resumeTurn(row, info.server, outcome);
    } else {
      const failed = await this.#deliver(row, info, outcome);
      if (failed) {
        // Never a silent `ok`: the row and the audit say the caller may not have seen the answer.
        this.calls.setOutcome(row.id, {
          ...stored,
          final: outcome,
          notified: false,
          notifyFailed: { at: Date.now(), error: failed },
        });
        this.#auditNotifyFailed(row, info, failed);
        this.d.log.warn(
          { reqId: row.requestId, callId: row.id, err: failed },
          'the outcome could not be delivered to chat',
        );
        return;
      }
    }
    this.calls.setOutcome(row.id, { ...stored, final: outcome, notified: true });
  }

  /**
   * Before the tool runs, a status message where the answer will go; its id is stored so the
   * answer edits it. Crash windows: after the platform accepted the placeholder but before its id
   * is stored, a later attempt posts a second placeholder (a stray "running" line, never a second
   * answer); once the id is stored, every delivery is an edit of that one message.
   */
  async #placeholder(a: Attempt): Promise<void> {
    if (a.row.turnId || !this.d.notifier.placeholder || this.calls.delivery(a.row.id).messageId) return;
    const messageId = await this.d.notifier.placeholder(a.info).catch((err: unknown) => {
      this.d.log.debug({ callId: a.row.id, err: (err as Error).message }, 'no placeholder posted');
      return undefined;
    });
    if (messageId) this.calls.setDelivery(a.row.id, { messageId });
  }

  /**
   * Delivers the outcome once, retrying with backoff; resolves with the last error when every try
   * failed. With a placeholder the answer is an edit of it: repeated after a crash between the
   * platform's acceptance and the `notified` update, it changes the same message (idempotent).
   * Without one a marker is stored before posting and a later attempt that finds it does not post
   * again: the remaining window is a crash after the marker and before the platform accepted,
   * where the answer is lost rather than doubled (recorded as `uncertain`).
   */
  async #deliver(row: CallRow, info: CallInfo, outcome: ToolOutcome): Promise<string | undefined> {
    const delivery = this.calls.delivery(row.id);
    if (!delivery.messageId) {
      if (delivery.posting) {
        this.calls.setDelivery(row.id, { ...delivery, uncertain: true });
        this.d.log.warn(
          { reqId: row.requestId, callId: row.id },
          'an earlier attempt began posting this outcome and stopped; not posting it again',
        );
        return undefined;
      }
      this.calls.setDelivery(row.id, { posting: Date.now() });
    }
    const tries = this.d.notifyAttempts ?? NOTIFY_ATTEMPTS;
    let last = 'unknown';
    for (let n = 0; n < tries; n++) {
      if (n) await new Promise((r) => setTimeout(r, (this.d.notifyBackoffMs ?? NOTIFY_BACKOFF_MS) * 2 ** (n - 1)));
      try {
        await this.d.notifier.outcome(
          info,
          outcome,
          delivery.messageId ? { messageId: delivery.messageId } : undefined,
        );
        return undefined;
      } catch (err) {
        last = (err as Error).message.slice(0, 200);
      }
    }
    return last;
  }

  #auditNotifyFailed(row: CallRow, info: CallInfo, error: string): void {
    const t = info.target;
    this.d.audit.write({
      orgId: row.orgId,
      category: 'tool_call',
      action: 'notify',
      actorUserId: row.userId,
      onBehalfOfUserId: row.userId,
      chatIdentity: `${t.platform}:${t.workspaceId}:${t.userId}`,
      chatMessage: {
        platform: t.platform,
        workspace: t.workspaceId,
        channel: t.channelId,
        ...(t.threadId ? { thread: t.threadId } : {}),
        ...(t.messageId ? { message: t.messageId } : {}),
      },
      server: info.server,
      tool: row.tool,
      argDigest: argDigest(row.args),
      outcome: 'notify_failed',
      requestId: row.requestId,
      detail: { callId: row.id, error },
    });
  }

  #audit(a: Attempt, decision: string, outcome: string): void {
    const t = a.info.target;
    this.d.metrics?.toolCalls.inc({ outcome });
    // A call waiting for its caller (a grant, an approval) has not finished: its latency is observed when it does.
    if (!outcome.startsWith('needs_connect') && outcome !== 'awaiting_approval')
      this.d.metrics?.toolCallSeconds.observe((Date.now() - a.row.createdAt) / 1000);
    this.d.audit.write({
      orgId: a.row.orgId,
      category: 'tool_call',
      action: 'call',
      actorUserId: a.row.userId,
      onBehalfOfUserId: a.row.userId,
      chatIdentity: `${t.platform}:${t.workspaceId}:${t.userId}`,
      chatMessage: {
        platform: t.platform,
        workspace: t.workspaceId,
        channel: t.channelId,
        ...(t.threadId ? { thread: t.threadId } : {}),
        ...(t.messageId ? { message: t.messageId } : {}),
      },
      server: a.info.server,
      tool: a.row.tool,
      argDigest: argDigest(a.row.args),
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
        ...(a.stored.approval ? { approval: a.stored.approval } : {}),
      },
    });
  }
}
