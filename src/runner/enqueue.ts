import { and, eq } from 'drizzle-orm';
import { newId } from '../db/index.js';
import type { ReplyTarget } from '../identity/reply.js';
import type { CallStore } from './calls.js';
import type { ExecutorDeps } from './deps.js';
import { jobIdFor, type ToolQueue } from './jobs.js';

/** A request to run one tool for one caller (the chat core's `enqueueToolCall`). */
export interface ToolCallRequest {
  orgId: string;
  userId: string;
  chatIdentity: string;
  server: string;
  tool: string;
  args: Record<string, unknown>;
  target: ReplyTarget;
  requestId: string;
  /** The platform event id: a retried delivery makes one call. */
  eventId?: string;
  /** Set when an agent turn makes the call: the outcome goes back to the agent, not to chat. */
  turnId?: string;
}

/** What `enqueueToolCall` did: accepted (its outcome goes to the reply target), or refused (nothing queued) at the user's cap or for a server the org does not have. */
export type EnqueueResult =
  | { kind: 'accepted'; callId: string }
  | { kind: 'too_many_queued'; callId: string; limit: number }
  | { kind: 'unknown_server'; callId: string; server: string };

/** Records each call as a `tool_calls` row (the one source of truth) and queues a job naming it. */
export class Enqueuer {
  constructor(
    private readonly d: Pick<ExecutorDeps, 'store' | 'policy' | 'log'>,
    private readonly calls: CallStore,
    private readonly queue: ToolQueue,
    private readonly maxQueuedPerUser: number,
  ) {}

  /** Records the call and queues it; resolves once the job is accepted by Redis, or refused at the user's cap (nothing queued). */
  async enqueue(req: ToolCallRequest): Promise<EnqueueResult> {
    const callId = req.eventId ? `ev-${jobIdFor('tool', req.orgId, req.eventId)}` : newId();
    const row = {
      id: callId,
      orgId: req.orgId,
      userId: req.userId,
      tool: req.tool,
      args: req.args,
      replyTarget: req.target,
      requestId: req.requestId,
      turnId: req.turnId ?? null,
    };
    // The server by name, then the row: on Postgres one statement (`CallStore.insertForServer`).
    const inserted = await this.calls.insertForServer(row, req.server, this.maxQueuedPerUser, (o, n) =>
      this.d.policy.server(o, n),
    );
    if (inserted === 'unknown_server') return { kind: 'unknown_server', callId, server: req.server };
    if (inserted === 'full') {
      this.d.log.info(
        { reqId: req.requestId, user: req.userId, limit: this.maxQueuedPerUser },
        'refused a tool call: the user has too many calls queued',
      );
      return { kind: 'too_many_queued', callId, limit: this.maxQueuedPerUser };
    }
    if (inserted === 'duplicate') return { kind: 'accepted', callId }; // a retried delivery of the same event
    await this.#queue(callId, req.eventId !== undefined);
    return { kind: 'accepted', callId };
  }

  async #queue(callId: string, redelivery: boolean): Promise<void> {
    try {
      const job = await this.queue.add(callId, callId);
      // A redelivery whose first add reached Redis although its reply was lost with the connection: that
      // job ran before this row existed and did nothing (the id is taken, so `add` was a no-op). Run it afresh.
      if (redelivery && ['completed', 'failed'].includes(await job.getState()))
        await this.queue.add(callId, `${callId}-redelivered-${Date.now()}`);
    } catch (err) {
      // Not accepted (the caller is shown the error; Slack retries on the 500): forget the row, or the
      // redelivery with the same event id would find it, answer "Running…" and never run the call.
      const t = this.d.store.t.toolCalls;
      await this.d.store.changes(this.d.store.db.delete(t).where(and(eq(t.id, callId), eq(t.status, 'queued'))));
      throw err;
    }
  }
}
