import type { ReplyTarget } from '../identity/reply.js';
import type { ConnectReason } from '../policy/index.js';

export { toolOutcomeSchema, type ToolOutcome } from '../db/schema/shapes.js';
import type { ToolOutcome } from '../db/schema/shapes.js';

/** What `runToolCall` resolves with: the outcome, parked until the caller connects, or held until they approve. */
export type RunResult =
  /** `private`: obtained with the caller's own grant from a server that keeps such results to the caller. */
  | { kind: 'done'; outcome: ToolOutcome; private?: boolean }
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
  /** The outcome goes to the caller only (the server has private results and the call used the caller's own grant). */
  private?: boolean;
}

/** An MCP server's question during a call, as the caller's chat prompt shows it (no values). */
export interface ElicitationPrompt {
  id: string;
  mode: 'form' | 'url';
  /** The server's own words (untrusted text; shown as the server's). */
  message: string;
  /** URL mode: the full address to visit. */
  url?: string;
  /** URL mode after a -32042: nothing to answer, the call waits for the server to see the visit done. */
  announceOnly?: boolean;
  /** When the question lapses (the call's deadline): unanswered, it is cancelled. */
  expiresAt: number;
}

/** Why the caller must connect, and where. */
export interface ConnectRequest {
  providerSlug: string;
  connectUrl: string;
  reason: ConnectReason;
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
 * A call an agent turn made ended after the turn had moved on (it was parked or held): the turn
 * continues with it. Values only; the agent words it for the model.
 */
export interface TurnCallEnded {
  orgId: string;
  userId: string;
  target: ReplyTarget;
  requestId: string;
  callId: string;
  server: string;
  tool: string;
  outcome: ToolOutcome;
  /** How a held call was answered (`approved`, `denied`, `expired`), if it was held. */
  approval?: string | undefined;
  /** What the call waited for before it ran or ended. */
  waitedFor: 'connect' | 'approval';
  /** The outcome is the caller's only (see `CallInfo.private`). */
  private?: boolean;
}

/** Trims a result to `limit` characters for chat, counting how much was cut (`chat/` says so). */
export function trimForChat(text: string, limit: number): { text: string; trimmed: boolean; omitted?: number } {
  if (text.length <= limit) return { text, trimmed: false };
  return { text: text.slice(0, limit), trimmed: true, omitted: text.length - limit };
}
