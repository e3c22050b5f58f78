// The shapes of the JSON columns, declared with zod beside the tables that hold them: the column is
// typed with `$type<>()` from the same schema its readers parse with, so the two cannot drift.
// The concepts own their names (identity re-exports `ReplyTarget`, runner `ToolOutcome` …).
import { z } from 'zod';
import { problemSchema } from './problems.js';

export * from './problems.js';

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
    z.object({ kind: z.literal('denied'), rule: z.string().nullable(), why: problemSchema }),
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
  /** Times this call parked for more scopes after a 403 `insufficient_scope` (step-up rounds), kept across resumes. */
  stepUps: z.number().optional(),
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
