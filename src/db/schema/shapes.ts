// The shapes of the JSON columns, declared with zod beside the tables that hold them: the column is
// typed with `$type<>()` from the same schema its readers parse with, so the two cannot drift.
// The concepts own their names (identity re-exports `ReplyTarget`, runner `ToolOutcome` …).
import { z } from 'zod';

/**
 * Where a reply goes, stored in job data so any process (a worker with no gateway connection)
 * can post it through the platform's Web API / REST. Holds ids only, never a credential;
 * the Discord interaction token is a reply handle valid 15 minutes, not a credential of ours.
 */
export const replyTargetSchema = z.object({
  platform: z.enum(['slack', 'discord', 'shell']),
  workspaceId: z.string(),
  channelId: z.string(),
  /** Slack `thread_ts`, Discord thread channel id; absent: reply in the channel. */
  threadId: z.string().optional(),
  /** The message that started this (for replies and permalinks). */
  messageId: z.string().optional(),
  /** The platform user id of the caller (who alone sees private messages). */
  userId: z.string(),
  isDirect: z.boolean().default(false),
  /**
   * Discord interaction webhook (`token`, valid 15 min) or Slack `responseUrl` (slash commands and
   * block actions; valid 30 min, 5 uses). Reply handles, not credentials, but never logged in full.
   */
  interaction: z
    .object({
      id: z.string().optional(),
      token: z.string().optional(),
      responseUrl: z.string().optional(),
      expiresAt: z.number().optional(),
    })
    .optional(),
});
export type ReplyTarget = z.infer<typeof replyTargetSchema>;

const scope = z.enum(['org', 'user', 'team']);
const str = z.string();

/** Why a team secret could not be chosen for the caller. */
export const teamProblemSchema = z.discriminatedUnion('code', [
  z.object({ code: z.literal('not_member'), team: str }),
  z.object({ code: z.literal('no_team') }),
  z.object({ code: z.literal('several_teams'), teams: z.array(str) }),
]);
export type TeamProblem = z.infer<typeof teamProblemSchema>;

/**
 * Why a call did not run or did not finish, as a value: inner layers return these and `chat/`
 * words them (chat/words/problems.ts). `rule` is an access rule as an admin writes it.
 */
export const problemSchema = z.discriminatedUnion('code', [
  // the runner
  z.object({ code: z.literal('server_removed') }),
  z.object({ code: z.literal('internal') }),
  z.object({ code: z.literal('gave_up') }),
  z.object({ code: z.literal('too_slow') }),
  z.object({ code: z.literal('unknown_server'), server: str }),
  z.object({ code: z.literal('queue_cap'), max: z.number() }),
  z.object({ code: z.literal('unknown_tool'), server: str, tool: str }),
  /** A private or otherwise refused address; `setting`: ONBEHALF_ALLOW_PRIVATE_URLS would allow it. */
  z.object({ code: z.literal('refused_url'), reason: str, setting: z.boolean() }),
  z.object({ code: z.literal('protocol'), server: str, message: str }),
  z.object({ code: z.literal('credentials_rejected'), server: str, kinds: z.array(str) }),
  z.object({ code: z.literal('park_cap'), provider: str, max: z.number() }),
  z.object({ code: z.literal('user_gone') }),
  z.object({ code: z.literal('connect_timeout'), minutes: z.number() }),
  z.object({ code: z.literal('approval_expired'), minutes: z.number() }),
  z.object({ code: z.literal('approval_denied') }),
  z.object({ code: z.literal('assistant_never') }),
  // credentials
  z.object({ code: z.literal('binding_invalid'), binding: str, server: str, error: str }),
  z.object({ code: z.literal('header_unsafe'), header: str, server: str, source: str }),
  z.object({ code: z.literal('secret_missing'), scope, name: str, server: str, team: str.optional() }),
  z.object({ code: z.literal('secret_moved'), scope, name: str, server: str }),
  z.object({ code: z.literal('secret_keys'), scope, name: str, server: str }),
  z.object({ code: z.literal('team'), server: str, name: str, team: teamProblemSchema }),
  z.object({ code: z.literal('mcp_oauth_unsupported'), server: str }),
  z.object({ code: z.literal('mcp_not_protected'), server: str }),
  z.object({ code: z.literal('mcp_auth_failed'), server: str, kind: str, reason: str.optional() }),
  z.object({ code: z.literal('unknown_provider'), provider: str }),
  z.object({ code: z.literal('provider_unreachable'), provider: str }),
  z.object({ code: z.literal('token_store'), provider: str }),
  // access rules
  z.object({ code: z.literal('proto_key') }),
  z.object({ code: z.literal('look_alike'), arg: str, name: str, rule: str }),
  /** `got`: the JSON type supplied (`null`, `array`, `object`, `number`, `boolean`). */
  z.object({ code: z.literal('not_string'), name: str, got: str, rule: str }),
  z.object({ code: z.literal('not_plain'), name: str, why: z.enum(['control', 'percent', 'dot_segment']), rule: str }),
  z.object({ code: z.literal('missing_arg'), name: str, rule: str }),
  z.object({ code: z.literal('deny_rule'), rule: str }),
  z.object({ code: z.literal('no_allow_rule'), server: str, tool: str }),
  z.object({ code: z.literal('requires'), rule: str, name: str, glob: str }),
  /** A row written before reasons were coded: its sentence as it was stored. */
  z.object({ code: z.literal('text'), text: str }),
]);
export type Problem = z.infer<typeof problemSchema>;

/** Rows written before reasons were coded hold a sentence (`reason`/`message`); read it as `{ code: 'text' }`. */
function codedWhy(v: unknown): unknown {
  if (!v || typeof v !== 'object' || 'why' in v) return v;
  const o = v as Record<string, unknown>;
  const text =
    o['kind'] === 'failed'
      ? o['message']
      : o['kind'] === 'denied' || o['kind'] === 'cancelled'
        ? o['reason']
        : undefined;
  return typeof text === 'string' ? { ...o, why: { code: 'text', text } } : v;
}

/** What the caller is told about one tool call (as a value; `chat/` words it). Stored in `tool_calls.outcome`, never in Redis. */
export const toolOutcomeSchema = z.preprocess(
  codedWhy,
  z.discriminatedUnion('kind', [
    /** `omitted`: characters cut from the end of `text` to fit chat (`trimmed`). */
    z.object({
      kind: z.literal('result'),
      text: z.string(),
      trimmed: z.boolean(),
      isError: z.boolean(),
      omitted: z.number().optional(),
    }),
    z.object({ kind: z.literal('denied'), rule: z.string(), why: problemSchema }),
    z.object({ kind: z.literal('invalid_args'), errors: z.string() }),
    z.object({ kind: z.literal('unreachable'), server: z.string(), detail: z.string() }),
    z.object({ kind: z.literal('timeout'), server: z.string(), afterMs: z.number() }),
    z.object({ kind: z.literal('interrupted'), server: z.string(), tool: z.string() }),
    z.object({ kind: z.literal('cancelled'), why: problemSchema }),
    z.object({ kind: z.literal('failed'), why: problemSchema }),
  ]),
);
export type ToolOutcome = z.infer<typeof toolOutcomeSchema>;

/**
 * How a call came to run or not. `typed`: the person typed the command (explicit, no prompt);
 * `read_only`: the tool declares `readOnlyHint` and no admin rule says otherwise; `policy_always` /
 * `policy_never`: an admin rule (`rule`, its glob); `pending` / `approved` / `denied` / `expired`:
 * the caller was asked, and answered (`by`, `at`) or not.
 */
export const approvalRecordSchema = z.object({
  decision: z.enum(['typed', 'read_only', 'policy_always', 'policy_never', 'pending', 'approved', 'denied', 'expired']),
  rule: z.string().nullable().optional(),
  askedAt: z.number().optional(),
  expiresAt: z.number().optional(),
  /** The chat identity (`platform:workspace:user`) that answered. */
  by: z.string().optional(),
  at: z.number().optional(),
});
export type ApprovalRecord = z.infer<typeof approvalRecordSchema>;

/** What `tool_calls.outcome` holds at each stage (JSON in the database; never in Redis). */
export const storedOutcomeSchema = z.object({
  /** Set just before the request is sent: a later attempt that finds it knows the tool may have run. */
  started: z.object({ at: z.number(), idempotent: z.boolean() }).optional(),
  parked: z.object({ providerSlug: z.string(), reason: z.string() }).optional(),
  /** The final outcome, once known. */
  final: toolOutcomeSchema.optional(),
  /** Whether the final outcome was handed to the notifier. */
  notified: z.boolean().optional(),
  /** The call had been parked or held before it ran: its outcome resumes the agent's turn. */
  resumed: z.boolean().optional(),
  /** Whether and how the call was approved; copied into the call's audit event. */
  approval: approvalRecordSchema.optional(),
  /** The result came from the server with the caller's own grant and the server keeps such results private. */
  private: z.boolean().optional(),
  /** Delivering the final outcome failed after retries (the caller may not have seen it). */
  notifyFailed: z.object({ at: z.number(), error: z.string() }).optional(),
});
export type StoredOutcome = z.infer<typeof storedOutcomeSchema>;

/**
 * `tool_calls.delivery`: how the answer reaches the conversation, kept apart from the outcome so a
 * retry or resume that rewrites the outcome never forgets the placeholder.
 * `messageId`: the placeholder posted before the tool ran; the answer edits it (an edit repeated
 * after a crash changes the same message, so it is shown once). `posting`: no placeholder could be
 * posted, and a plain post of the answer began at this time (a later attempt does not post again).
 */
export const deliverySchema = z.object({
  messageId: z.string().optional(),
  posting: z.number().optional(),
  /** A later attempt found `posting` without `notified`: the answer may or may not have arrived. */
  uncertain: z.boolean().optional(),
  /** A private result (`--private-results`): when sending it to the caller began (set before the platform call). */
  privatePosting: z.number().optional(),
  /** When the platform accepted the private result (or, after `privateUncertain`, the notice that it may have). */
  privateSent: z.number().optional(),
  /** A later attempt found `privatePosting` without `privateSent`: the caller was told it may already have arrived. */
  privateUncertain: z.boolean().optional(),
});
export type Delivery = z.infer<typeof deliverySchema>;

/** A JSON value, as an audit event's `detail` holds (never a secret). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };
/** An audit event's `detail`: a flat or nested JSON object. */
export type AuditDetail = { [key: string]: Json | undefined };
