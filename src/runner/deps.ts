import type { AuditLog } from '../audit/index.js';
import type { Store } from '../db/index.js';
import type { Logger } from '../log.js';
import type { ElicitHandler, McpPool } from '../mcp/index.js';
import type { Metrics } from '../metrics.js';
import type { Policy, RunnerTokens } from '../policy/index.js';
import type { RunnerNotifier } from './notify.js';
import type { CallInfo, TurnCallEnded } from './outcome.js';

/** What the runner is built from (passed by the composition root). */
export interface ExecutorDeps {
  store: Store;
  policy: Policy;
  pool: McpPool;
  tokens: RunnerTokens;
  /** Tells people what happened (worded and posted by `chat/`). */
  notifier: RunnerNotifier;
  audit: AuditLog;
  log: Logger;
  /** Tool-call counters and latency; optional so tests may leave them out. */
  metrics?: Pick<Metrics, 'toolCalls' | 'toolCallSeconds'>;
  /**
   * A call of an agent turn that was parked or held has ended: the agent continues the turn.
   * Unset: the outcome is recorded and no turn continues (a process without an agent).
   */
  resumeTurn?: (ended: TurnCallEnded) => Promise<void>;
  /** Who answers a server's questions during a call (its caller, through chat). Unset: no elicitation is declared. */
  elicit?: { forCall(call: CallInfo, timeoutMs: number): ElicitHandler | undefined };
}
