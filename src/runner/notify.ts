import type { ApprovalRequest, CallInfo, ConnectRequest, ElicitationPrompt, ToolOutcome } from './outcome.js';

/**
 * How the runner reaches the people it works for: values only (the call, its outcome, why it
 * waits); `chat/` words and posts them (`chat/notifier.ts`), and the composition root injects it.
 * `needsConnect` and `approvalRequest` must be shown to the caller only; `outcome` goes to the
 * conversation the call came from.
 */
export interface RunnerNotifier {
  /**
   * Posts the outcome; with `delivery.messageId`, by editing that placeholder. Throws when it could
   * not be delivered. For a private result (`call.private`) with `privateOutcome` present, the
   * result itself has gone to the caller already and this posts only the conversation's part.
   */
  outcome(call: CallInfo, outcome: ToolOutcome, delivery?: { messageId?: string }): Promise<void>;
  /**
   * Sends a private result to the caller alone. `again`: an earlier attempt began sending it and
   * stopped, so it may have arrived: the caller is told that instead of being sent it a second time.
   * Throws when it could not be delivered. Absent: `outcome` delivers private results whole.
   */
  privateOutcome?(call: CallInfo, outcome: ToolOutcome, again: boolean): Promise<void>;
  /** Asks the caller alone to connect (or reconnect) an account: the call is parked until they do. */
  needsConnect(call: CallInfo, req: ConnectRequest): Promise<void>;
  /** Asks the caller alone to approve or deny a held call (Approve / Deny buttons). */
  approvalRequest(call: CallInfo, req: ApprovalRequest): Promise<void>;
  /**
   * Posts a status message (the call is running) where the answer will go, before the tool runs;
   * resolves with its id to edit later, or undefined where none could be posted (the answer is then posted anew).
   */
  placeholder?(call: CallInfo): Promise<string | undefined>;
  /** Shows the caller alone an MCP server's question (a form to open, or a URL to visit). Throws when not delivered. Absent: no elicitation. */
  elicitation?(call: CallInfo, prompt: ElicitationPrompt): Promise<void>;
  /** Whether this process can reach the call's caller at all (their platform has a sender here). Default yes. */
  canAsk?(call: CallInfo): boolean;
}
