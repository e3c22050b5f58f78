import { z } from 'zod';
import { replyTargetSchema, type ReplyTarget } from '../chat/types.js';

/** What the caller is told about one tool call. Stored in `tool_calls.outcome`, never in Redis. */
export const toolOutcomeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('result'), text: z.string(), trimmed: z.boolean(), isError: z.boolean() }),
  z.object({ kind: z.literal('denied'), rule: z.string(), reason: z.string() }),
  z.object({ kind: z.literal('invalid_args'), errors: z.string() }),
  z.object({ kind: z.literal('unreachable'), server: z.string(), detail: z.string() }),
  z.object({ kind: z.literal('timeout'), server: z.string(), afterMs: z.number() }),
  z.object({ kind: z.literal('interrupted'), server: z.string(), tool: z.string() }),
  z.object({ kind: z.literal('cancelled'), reason: z.string() }),
  z.object({ kind: z.literal('failed'), message: z.string() }),
]);
export type ToolOutcome = z.infer<typeof toolOutcomeSchema>;

/** What `runToolCall` resolves with: the outcome, parked until the caller connects, or held until they approve. */
export type RunResult =
  | { kind: 'done'; outcome: ToolOutcome }
  | { kind: 'parked'; callId: string; providerSlug: string }
  | { kind: 'held'; callId: string };

/** One call as the notifier sees it (ids and names only). */
export interface CallInfo {
  callId: string;
  orgId: string;
  userId: string;
  server: string;
  tool: string;
  target: ReplyTarget;
  requestId: string;
}

/** Why the caller must connect, and where. */
export interface ConnectRequest {
  providerSlug: string;
  connectUrl: string;
  reason: 'missing' | 'needs_reauth' | 'insufficient_scope';
}

/** A call the model chose, held for the caller's approval: what it would do and as whom (never a secret). */
export interface ApprovalRequest {
  /** The arguments as the server would receive them (after access-rule injection), credentials redacted. */
  args: Record<string, unknown>;
  /** Credential source kinds the call would use (`oauth`, `org_secret` …). */
  credentialKinds: string[];
  /** Vendor accounts of the caller's grants it would act as. */
  vendorAccounts: string[];
  /** Provider slugs of those grants. */
  grants: string[];
  /** When the hold lapses and the call is cancelled. */
  expiresAt: number;
}

/** The caller's answer to an approval prompt, as the runner reports it back to chat. */
export type ApprovalAnswer =
  | { kind: 'approved'; server: string; tool: string }
  | { kind: 'denied'; server: string; tool: string }
  /** Someone other than the caller answered: refused and audited; the call stays held. */
  | { kind: 'not_yours' }
  /** Already answered, expired, or never held. */
  | { kind: 'not_waiting'; status: string }
  | { kind: 'unknown' };

/**
 * How the runner reaches the chat side (injected by the composition root). `needsConnect` must
 * be shown to the caller only; `outcome` goes to the conversation the call came from.
 */
export interface RunnerNotifier {
  /** Posts the outcome; with `delivery.messageId`, by editing that placeholder. Throws when it could not be delivered. */
  outcome(call: CallInfo, outcome: ToolOutcome, delivery?: { messageId?: string }): Promise<void>;
  needsConnect(call: CallInfo, req: ConnectRequest): Promise<void>;
  /** Asks the caller alone to approve or deny a held call (Approve / Deny buttons). */
  approvalRequest(call: CallInfo, req: ApprovalRequest): Promise<void>;
  /**
   * Posts a status message ("running …") where the answer will go, before the tool runs; resolves
   * with its id to edit later, or undefined where none could be posted (the answer is then posted anew).
   */
  placeholder?(call: CallInfo): Promise<string | undefined>;
}

/** The outcome in one chat message. */
export function outcomeText(call: Pick<CallInfo, 'server' | 'tool'>, o: ToolOutcome): string {
  const name = `\`${call.server}.${call.tool}\``;
  switch (o.kind) {
    case 'result':
      return `${name}${o.isError ? ' reported an error' : ''}:\n${o.text}${o.trimmed ? '\n(trimmed for chat)' : ''}`;
    case 'denied':
      return `${name} was not run: ${o.reason}.`;
    case 'invalid_args':
      return `${name} was not run: the arguments do not match the tool's schema (${o.errors}).`;
    case 'unreachable':
      return `${name} failed: the server ${o.server} could not be reached (${o.detail}). Try again later.`;
    case 'timeout':
      return `${name} timed out: ${o.server} did not answer within ${Math.round(o.afterMs / 100) / 10} s, so the call was cancelled.`;
    case 'interrupted':
      return `${name} was interrupted (a worker stopped mid-call) and may have run on ${o.server}. It was not re-run automatically because it is not idempotent; check before running it again.`;
    case 'cancelled':
      return `${name} was cancelled: ${o.reason}.`;
    case 'failed':
      return `${name} failed: ${o.message}.`;
  }
}

/** Trims a result to `limit` characters for chat, saying how much was cut. */
export function trimForChat(text: string, limit: number): { text: string; trimmed: boolean } {
  if (text.length <= limit) return { text, trimmed: false };
  return { text: `${text.slice(0, limit)}… [${text.length - limit} more characters not shown]`, trimmed: true };
}

/** Job data of the `tool` queue: ids, arguments and the reply target — never a credential. */
export const toolJobSchema = z.object({
  callId: z.string(),
  orgId: z.string(),
  userId: z.string(),
  server: z.string(),
  tool: z.string(),
  args: z.record(z.string(), z.unknown()),
  target: replyTargetSchema,
  requestId: z.string(),
});
export type ToolJob = z.infer<typeof toolJobSchema>;

/** Job data of the `turn` queue: one agent turn (ids, text, reply target). */
export const turnJobSchema = z.object({
  orgId: z.string(),
  userId: z.string(),
  chatIdentity: z.string(),
  text: z.string(),
  target: replyTargetSchema,
  requestId: z.string(),
  /** A parked call finished: `callId` is the runner's call id, which the agent shows the model as the tool-call id. */
  /** `waitedFor`: what the call waited for before it ran or ended (default `connect`: a grant). */
  resumed: z
    .object({
      server: z.string(),
      tool: z.string(),
      outcome: z.string(),
      callId: z.string().optional(),
      waitedFor: z.enum(['connect', 'approval']).optional(),
    })
    .optional(),
});
export type TurnJob = z.infer<typeof turnJobSchema>;
