import { and, eq, inArray, lt } from 'drizzle-orm';
import { replyTargetSchema } from '../chat/types.js';
import type { Db } from '../db/index.js';
import { toolCalls } from '../db/schema.js';
import { toolOutcomeSchema, type ToolOutcome } from './outcome.js';

export type CallRow = typeof toolCalls.$inferSelect;
export type CallStatus = CallRow['status'];

/** Statuses after which a call never runs again. */
export const terminal: CallStatus[] = ['succeeded', 'failed', 'denied', 'cancelled', 'interrupted'];

/** What `tool_calls.outcome` holds at each stage (JSON in SQLite; never in Redis). */
export interface StoredOutcome {
  /** Set just before the request is sent: a later attempt that finds it knows the tool may have run. */
  started?: { at: number; idempotent: boolean };
  parked?: { providerSlug: string; reason: string };
  /** The final outcome, once known. */
  final?: ToolOutcome;
  /** Whether the final outcome was handed to the notifier. */
  notified?: boolean;
  /** The call had been parked before it ran (it resumed after a connection). */
  resumed?: boolean;
}

/** `tool_calls` rows: the durable state of each call, read by every worker process. */
export class CallStore {
  constructor(private readonly db: Db) {}

  get(id: string): CallRow | undefined {
    return this.db.select().from(toolCalls).where(eq(toolCalls.id, id)).get();
  }

  insert(row: Omit<typeof toolCalls.$inferInsert, 'updatedAt' | 'status'>): boolean {
    return this.db.insert(toolCalls).values({ ...row, status: 'queued', updatedAt: Date.now() }).onConflictDoNothing().run().changes === 1;
  }

  outcome(row: CallRow): StoredOutcome {
    return (row.outcome ?? {}) as StoredOutcome;
  }

  finalOutcome(row: CallRow): ToolOutcome | undefined {
    const r = toolOutcomeSchema.safeParse(this.outcome(row).final);
    return r.success ? r.data : undefined;
  }

  target(row: CallRow) {
    return replyTargetSchema.parse(row.replyTarget);
  }

  /** Moves a call from one of `from` to `to`; false if another worker got there first. */
  transition(id: string, from: CallStatus[], to: CallStatus, patch: { outcome?: StoredOutcome; parkedProviderId?: string | null; attempts?: number } = {}): boolean {
    return (
      this.db
        .update(toolCalls)
        .set({ status: to, updatedAt: Date.now(), ...patch, outcome: patch.outcome as Record<string, unknown> | undefined })
        .where(and(eq(toolCalls.id, id), inArray(toolCalls.status, from)))
        .run().changes === 1
    );
  }

  setOutcome(id: string, outcome: StoredOutcome): void {
    this.db.update(toolCalls).set({ outcome: outcome as Record<string, unknown>, updatedAt: Date.now() }).where(eq(toolCalls.id, id)).run();
  }

  /** Parked calls of one user waiting for one provider (or the one named call). */
  parkedFor(orgId: string, userId: string, providerId: string): CallRow[] {
    return this.db
      .select()
      .from(toolCalls)
      .where(and(eq(toolCalls.orgId, orgId), eq(toolCalls.userId, userId), eq(toolCalls.status, 'parked'), eq(toolCalls.parkedProviderId, providerId)))
      .all();
  }

  /** Parked calls last touched before `before`. */
  parkedBefore(before: number): CallRow[] {
    return this.db.select().from(toolCalls).where(and(eq(toolCalls.status, 'parked'), lt(toolCalls.updatedAt, before))).all();
  }
}
