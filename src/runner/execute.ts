import { and, eq, sql } from 'drizzle-orm';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { redactSecrets } from '../crypto/index.js';
import { configCache, prepared } from '../db/index.js';
import { retryable, resultText, type PoolResult } from '../mcp/index.js';
import { decide, resolveCredentials, type McpServerRow, type ResolvedCredentials } from '../policy/index.js';
import type { Approvals } from './approvals.js';
import { attemptOf, type Attempt } from './attempt.js';
import { CallStore, terminal } from './calls.js';
import type { ExecutorDeps } from './deps.js';
import { trimForChat } from './outcome.js';
import type { Parking } from './parking.js';
import type { Ending, Reporter, StepResult } from './report.js';
import type { Problem } from '../db/schema/shapes.js';

/** The caller's user row, read for every call (db/prepared.ts; cached as configuration is, db/config-cache.ts). */
const callerRow = prepared('runner.caller', ({ db, t }) =>
  db
    .select()
    .from(t.users)
    .where(and(eq(t.users.orgId, sql.placeholder('orgId')), eq(t.users.id, sql.placeholder('id')))),
);

/** An attempt whose server still exists. */
type Live = Attempt & { server: McpServerRow };
type Args = Record<string, unknown>;

const failed = (why: Problem, audit: string): Ending => ({
  status: 'failed',
  outcome: { kind: 'failed', why },
  audit,
});

/** Runs tool calls: access → credentials → park, hold or call → record, audit, notify. */
export class Executor {
  readonly #validator = new AjvJsonSchemaValidator();

  constructor(
    private readonly d: ExecutorDeps,
    readonly calls: CallStore,
    private readonly report: Reporter,
    private readonly parking: Parking,
    private readonly approvals: Approvals,
    private readonly resultLimit: number,
  ) {}

  /** One attempt of call `callId`. Safe to repeat: the row's status says what already happened. */
  async run(callId: string, opts: { finalAttempt: boolean }): Promise<StepResult> {
    const { row, config } = await this.calls.getWithConfig(callId);
    if (!row || row.status === 'parked' || row.status === 'awaiting_approval')
      return { status: !row ? 'done' : row.status === 'parked' ? 'parked' : 'held' };
    const was = this.calls.outcome(row);
    if (terminal.includes(row.status) || (row.status === 'running' && was.started && !was.started.idempotent)) {
      const a = await attemptOf(this.calls, this.d.policy, row, opts);
      if (row.status === 'running') {
        // A previous attempt sent the request and its worker died: the tool may have run; never re-run it blind.
        await this.report.finish({ ...a, finalAttempt: true }, this.#interrupted(a));
        return { status: 'done' };
      }
      // Finished by an earlier attempt that stopped before telling the caller.
      const final = this.calls.finalOutcome(row);
      if (final && !a.stored.notified) await this.report.notify(row, a.info, final);
      return { status: 'done' };
    }
    const { resumed, approval, stepUps } = was;
    const stored = { resumed, ...(approval ? { approval } : {}), ...(stepUps ? { stepUps } : {}) };
    // The server's lookup and the move to running need only the row: sent together (one round trip on Postgres).
    const [a, begun] = await Promise.all([
      attemptOf(this.calls, this.d.policy, row, { ...opts, stored, config }),
      this.calls.moveIn(this.d.store, callId, ['queued', 'running'], 'running', {
        attempts: row.attempts + 1,
        outcome: stored,
      }),
    ]);
    if (!begun) return { status: 'done' };
    a.delivery = begun;
    if (!a.server) return this.report.finish(a, failed({ code: 'server_removed' }, 'no_server'));
    try {
      return await this.#access(a as Live);
    } catch (err) {
      this.d.log.error({ reqId: row.requestId, callId, err: (err as Error).message }, 'tool call failed unexpectedly');
      if (!opts.finalAttempt) return this.report.retry(a, 'internal error');
      return this.report.finish(a, failed({ code: 'internal' }, 'error'));
    }
  }

  /**
   * BullMQ gave up on the job (it stalled more often than allowed, or its last attempt threw):
   * the caller is told, as `interrupted` if the request may have reached the server.
   */
  async giveUp(callId: string): Promise<void> {
    const row = await this.calls.get(callId);
    if (!row || (row.status !== 'queued' && row.status !== 'running')) return;
    const a = await attemptOf(this.calls, this.d.policy, row, { finalAttempt: true });
    const started = a.stored.started;
    if (started && !started.idempotent) await this.report.finish(a, this.#interrupted(a));
    else await this.report.finish(a, failed({ code: 'gave_up' }, 'gave_up'));
  }

  #interrupted(a: Attempt): Ending {
    return {
      status: 'interrupted',
      outcome: { kind: 'interrupted', server: a.info.server, tool: a.row.tool },
      audit: 'interrupted',
    };
  }

  /** Access rules first: a denied call never resolves a credential. */
  async #access(a: Live): Promise<StepResult> {
    const { row, server, info } = a;
    // Three reads that need only the call's row, sent together (one round trip on Postgres).
    const [user, teams, rules] = await Promise.all([
      configCache(this.d.store).read(`user:${row.orgId}:${row.userId}`, a.config, () =>
        this.d.store.first(callerRow, { orgId: row.orgId, id: row.userId }),
      ),
      this.d.policy.teams.ofUser(row.orgId, row.userId, a.config),
      this.d.policy.rules(server.id, a.config),
    ]);
    if (!user)
      return this.report.finish(a, {
        status: 'cancelled',
        outcome: { kind: 'cancelled', why: { code: 'user_gone' } },
        audit: 'no_user',
      });
    const subject = { userId: user.id, role: user.role, teams };
    const decision = decide(rules, server.name, subject, row.tool, row.args, {
      'user.id': user.id,
      'user.email': user.email ?? '',
      'user.name': user.displayName,
      'org.id': row.orgId,
      'chat.channel': info.target.channelId,
      'chat.platform': info.target.platform,
    });
    if (decision.kind === 'denied')
      return this.report.finish(a, {
        status: 'denied',
        outcome: { kind: 'denied', rule: decision.rule, why: decision.why },
        audit: 'denied',
        decision: 'denied',
      });
    a.args = decision.args;
    return this.#withCredentials(a, decision.args, new Set());
  }

  /** Resolves the caller's credentials (parking the call when a grant of theirs is missing), then finds the tool. */
  async #withCredentials(a: Live, args: Args, forced: Set<string>): Promise<StepResult> {
    const { server } = a;
    const res = await resolveCredentials(this.d.policy, this.d.tokens, server, a.caller, {
      forceRefresh: forced,
      seen: a.config,
    });
    if (res.kind === 'needs_connect')
      return this.parking.park(a, res.providerSlug, res.providerId, res.reason, res.extraScopes);
    if (res.kind === 'unavailable')
      return a.finalAttempt
        ? this.report.finish(a, failed(res.problem, 'token_unavailable'))
        : this.report.retry(a, 'token provider unavailable');
    if (res.kind === 'misconfigured') return this.report.finish(a, failed(res.problem, 'misconfigured'));
    const creds = (a.creds = res.creds);
    const listed = await this.d.pool.tools(server, creds);
    if (listed.kind === 'unauthorized' || listed.kind === 'insufficient_scope')
      return this.#rejected(a, args, forced, listed);
    if (listed.kind !== 'ok') return this.#unlisted(a, listed);
    const tool = listed.value.find((t) => t.name === a.row.tool);
    if (!tool)
      return this.report.finish(
        a,
        failed({ code: 'unknown_tool', server: server.name, tool: a.row.tool }, 'unknown_tool'),
      );
    const check = this.#validator.getValidator(
      tool.inputSchema as Parameters<AjvJsonSchemaValidator['getValidator']>[0],
    )(args);
    if (!check.valid)
      return this.report.finish(a, {
        status: 'failed',
        outcome: { kind: 'invalid_args', errors: (check.errorMessage ?? 'invalid').slice(0, 500) },
        audit: 'invalid_args',
      });
    return (await this.approvals.gate(a, server, tool, args, creds)) ?? this.#call(a, tool, args, forced, creds);
  }

  /** The server would not list its tools. */
  #unlisted(a: Live, listed: Exclude<PoolResult<Tool[]>, { kind: 'ok' | 'unauthorized' | 'insufficient_scope' }>) {
    const { server } = a;
    if (listed.kind === 'unreachable' && !a.finalAttempt)
      return this.report.retry(a, `server unreachable (${listed.detail})`);
    if (listed.kind === 'refused')
      return this.report.finish(
        a,
        failed({ code: 'refused_url', refusal: listed.refusal, server: listed.server, setting: true }, 'refused'),
      );
    if (listed.kind === 'timeout')
      return this.report.finish(a, {
        status: 'failed',
        outcome: { kind: 'timeout', server: server.name, afterMs: server.timeoutMs },
        audit: 'timeout',
      });
    const detail = listed.kind === 'unreachable' ? listed.detail : 'protocol_error';
    return this.report.finish(a, {
      status: 'failed',
      outcome: { kind: 'unreachable', server: server.name, detail },
      audit: 'unreachable',
    });
  }

  /** Sends the call (after a placeholder where the answer will go) and records what came back. */
  async #call(a: Live, tool: Tool, args: Args, forced: Set<string>, creds: ResolvedCredentials): Promise<StepResult> {
    const { server } = a;
    const idempotent = Boolean(tool.annotations?.readOnlyHint || tool.annotations?.idempotentHint);
    await this.report.placeholder(a);
    a.stored = { ...a.stored, started: { at: Date.now(), idempotent } };
    // Stored before the request goes out only where it decides something: a later attempt never re-runs
    // a call that may have reached its server unless the tool may safely run twice (then it runs again either way).
    if (!idempotent) await this.calls.setOutcome(a.row.id, a.stored);
    const elicit = this.d.elicit?.forCall(a.info, server.timeoutMs);
    const r = await this.d.pool.call(server, creds, tool.name, args, server.timeoutMs, elicit);
    switch (r.kind) {
      case 'ok': {
        const shown = trimForChat(redactSecrets(resultText(r.result), creds.sensitive), this.resultLimit);
        const isError = r.result.isError === true;
        return this.report.finish(a, {
          status: isError ? 'failed' : 'succeeded',
          outcome: { kind: 'result', ...shown, isError },
          audit: isError ? 'tool_error' : 'ok',
        });
      }
      case 'unauthorized':
      case 'insufficient_scope':
        return this.#rejected(a, args, forced, r);
      case 'timeout':
        return this.report.finish(a, {
          status: 'failed',
          outcome: { kind: 'timeout', server: server.name, afterMs: server.timeoutMs },
          audit: 'timeout',
        });
      case 'unreachable':
        if (!a.finalAttempt && retryable(r, idempotent))
          return this.report.retry(a, `server unreachable (${r.detail})`);
        return this.report.finish(a, {
          status: 'failed',
          outcome: { kind: 'unreachable', server: server.name, detail: r.detail },
          audit: 'unreachable',
        });
      case 'protocol':
        return this.report.finish(
          a,
          failed({ code: 'protocol', server: server.name, message: r.message }, 'protocol_error'),
        );
      case 'refused':
        return this.report.finish(
          a,
          failed({ code: 'refused_url', refusal: r.refusal, server: r.server, setting: false }, 'refused'),
        );
    }
  }

  /** 401: one forced refresh of the caller's grants (and new minted tokens) and one retry; then prompt. 403 insufficient_scope: step up (no refresh). */
  async #rejected(
    a: Live,
    args: Args,
    forced: Set<string>,
    r: { kind: 'unauthorized' } | { kind: 'insufficient_scope'; scopes: string[] },
  ): Promise<StepResult> {
    const creds = a.creds!;
    await this.d.pool.discard(a.server, creds);
    // Once: the caller's grants and the org's service grants refreshed, onbehalf's own tokens (machine, exchanged) minted anew
    // (a revoked service grant then dies and its admins are told).
    const again = new Set([...creds.grants, ...creds.minted, ...creds.services]);
    if (!creds.grants.length) {
      if (r.kind === 'unauthorized' && forced.size === 0 && again.size) return this.#withCredentials(a, args, again);
      const why: Problem = { code: 'credentials_rejected', server: a.server.name, kinds: creds.kinds };
      return this.report.finish(a, failed(why, 'rejected'));
    }
    const slug = creds.grants[0]!;
    if (r.kind === 'insufficient_scope') return this.parking.stepUp(a, slug, r.scopes, a.server.name);
    if (forced.size === 0) return this.#withCredentials(a, args, again);
    return this.parking.parkFor(a, slug, 'needs_reauth');
  }
}
