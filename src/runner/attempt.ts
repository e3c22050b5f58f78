import type { ConfigSeen } from '../db/index.js';
import type { Caller, McpServerRow, Policy, ResolvedCredentials } from '../policy/index.js';
import type { CallRow, CallStore, Delivery, StoredOutcome } from './calls.js';
import type { CallInfo } from './outcome.js';

/** One attempt at one call, as the executor's parts pass it along. */
export interface Attempt {
  row: CallRow;
  info: CallInfo;
  /** Undefined only when the server was removed after the call was accepted. */
  server: McpServerRow | undefined;
  caller: Caller;
  started: number;
  finalAttempt: boolean;
  creds?: ResolvedCredentials;
  /** The arguments as the server receives them, once the access rules have decided (injections applied). */
  args?: Record<string, unknown>;
  /** The configuration's version as the call's row was read with it (db/config-cache.ts); undefined: read it fresh. */
  config: ConfigSeen;
  /** The call's delivery record as this attempt's move to running left it (where its placeholder is). */
  delivery?: Delivery;
  /** What this attempt last stored in `tool_calls.outcome` (saves re-reading the row). */
  stored: StoredOutcome;
}

/** The attempt at `row` (its server looked up, its reply target parsed), storing `stored` so far. */
export async function attemptOf(
  calls: CallStore,
  policy: Policy,
  row: CallRow,
  o: { finalAttempt: boolean; stored?: StoredOutcome; config?: ConfigSeen },
): Promise<Attempt> {
  const server = await policy.serverById(row.orgId, row.serverId, o.config);
  const target = calls.target(row);
  return {
    row,
    info: {
      callId: row.id,
      orgId: row.orgId,
      userId: row.userId,
      server: server?.name ?? '(removed server)',
      tool: row.tool,
      target,
      requestId: row.requestId,
    },
    server,
    caller: { orgId: row.orgId, userId: row.userId, chat: { platform: target.platform, channelId: target.channelId } },
    started: Date.now(),
    finalAttempt: o.finalAttempt,
    config: o.config,
    stored: o.stored ?? calls.outcome(row),
  };
}

/** The chat identity (`platform:workspace:user`) a call came from, and the message it answers, for audit events. */
export function chatOf(info: CallInfo) {
  const t = info.target;
  return {
    chatIdentity: `${t.platform}:${t.workspaceId}:${t.userId}`,
    chatMessage: {
      platform: t.platform,
      workspace: t.workspaceId,
      channel: t.channelId,
      ...(t.threadId ? { thread: t.threadId } : {}),
      ...(t.messageId ? { message: t.messageId } : {}),
    },
  };
}
