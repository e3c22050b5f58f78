import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/index.js';
import { toolCalls } from '../db/schema/index.js';
import {
  deliverySchema,
  replyTargetSchema,
  storedOutcomeSchema,
  type Delivery,
  type ReplyTarget,
  type StoredOutcome,
  type ToolOutcome,
} from '../db/schema/shapes.js';

export type CallRow = typeof toolCalls.$inferSelect;
export type CallStatus = CallRow['status'];

/** Statuses after which a call never runs again. */
export const terminal: CallStatus[] = ['succeeded', 'failed', 'denied', 'cancelled', 'interrupted'];

/** Statuses a call counts against its user's queued-calls cap in (accepted, not finished, not parked). */
export const pending: CallStatus[] = ['queued', 'running', 'awaiting_approval'];

export type { ApprovalRecord, Delivery, StoredOutcome } from '../db/schema/shapes.js';

type TransitionPatch = { outcome?: StoredOutcome; parkedProviderId?: string | null; attempts?: number };
type CallInsert = Omit<typeof toolCalls.$inferInsert, 'updatedAt' | 'status'>;

const ph = sql.placeholder;
const insertKeys = new Set(['id', 'orgId', 'userId', 'serverId', 'tool', 'args', 'replyTarget', 'requestId', 'turnId']);

/** `tool_calls` rows: the durable state of each call, read by every worker process. Statements are prepared once. */
export class CallStore {
  readonly #byId;
  readonly #insert;
  readonly #setOutcome;
  readonly #pendingCount;
  readonly #parkedCount;
  readonly #setDelivery;
  readonly #transitions = new Map<string, { run(v: Record<string, unknown>): { changes: number } }>();
  /** In-process waiters per call id, woken when the call parks or ends here. */
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(private readonly db: Db) {
    this.#byId = db
      .select()
      .from(toolCalls)
      .where(eq(toolCalls.id, ph('id')))
      .prepare();
    this.#insert = db
      .insert(toolCalls)
      .values({
        id: ph('id'),
        orgId: ph('orgId'),
        userId: ph('userId'),
        serverId: ph('serverId'),
        tool: ph('tool'),
        args: ph('args'),
        replyTarget: ph('replyTarget'),
        requestId: ph('requestId'),
        turnId: ph('turnId'),
        status: 'queued',
        updatedAt: ph('updatedAt'),
      })
      .onConflictDoNothing()
      .prepare();
    const countOf = (statuses: CallStatus[]) =>
      db
        .select({ n: sql<number>`count(*)` })
        .from(toolCalls)
        .where(
          and(
            eq(toolCalls.orgId, ph('orgId')),
            eq(toolCalls.userId, ph('userId')),
            inArray(toolCalls.status, statuses),
          ),
        )
        .prepare();
    this.#pendingCount = countOf(pending);
    this.#parkedCount = countOf(['parked']);
    this.#setOutcome = db
      .update(toolCalls)
      .set({ outcome: ph('outcome'), updatedAt: ph('updatedAt') } as unknown as {
        outcome: Record<string, unknown>;
        updatedAt: number;
      })
      .where(eq(toolCalls.id, ph('id')))
      .prepare();
    this.#setDelivery = db
      .update(toolCalls)
      .set({ delivery: ph('delivery'), updatedAt: ph('updatedAt') } as unknown as {
        delivery: Record<string, unknown>;
        updatedAt: number;
      })
      .where(eq(toolCalls.id, ph('id')))
      .prepare();
  }

  get(id: string): CallRow | undefined {
    return this.#byId.get({ id });
  }

  insert(row: CallInsert): boolean {
    if (Object.keys(row).some((k) => !insertKeys.has(k))) {
      return (
        this.db
          .insert(toolCalls)
          .values({ ...row, status: 'queued', updatedAt: Date.now() })
          .onConflictDoNothing()
          .run().changes === 1
      );
    }
    return this.#insert.run({ ...row, turnId: row.turnId ?? null, updatedAt: Date.now() }).changes === 1;
  }

  /**
   * Inserts a call unless its user already has `max` calls queued or running. Count and insert are one
   * immediate transaction, so concurrent enqueues (any process) cannot pass the cap together.
   */
  insertWithin(row: CallInsert, max: number): 'inserted' | 'duplicate' | 'full' {
    return this.db.$client
      .transaction(() => {
        if (this.get(row.id)) return 'duplicate' as const;
        if (this.#pendingCount.get({ orgId: row.orgId, userId: row.userId })!.n >= max) return 'full' as const;
        return this.insert(row) ? ('inserted' as const) : ('duplicate' as const);
      })
      .immediate();
  }

  /**
   * Parks a running call unless its user already has `max` parked calls (one immediate transaction).
   * `moved`: another worker changed the call first.
   */
  parkWithin(
    row: CallRow,
    patch: { parkedProviderId: string; outcome: StoredOutcome },
    max: number,
  ): 'parked' | 'full' | 'moved' {
    return this.db.$client
      .transaction(() => {
        if (this.#parkedCount.get({ orgId: row.orgId, userId: row.userId })!.n >= max) return 'full' as const;
        return this.transition(row.id, ['running'], 'parked', patch) ? ('parked' as const) : ('moved' as const);
      })
      .immediate();
  }

  outcome(row: CallRow): StoredOutcome {
    return storedOutcomeSchema.parse(row.outcome ?? {});
  }

  finalOutcome(row: CallRow): ToolOutcome | undefined {
    return this.outcome(row).final;
  }

  target(row: CallRow): ReplyTarget {
    return replyTargetSchema.parse(row.replyTarget);
  }

  /** Where the user's latest tool call was asked for (where they were last seen), if they made one. */
  lastTarget(orgId: string, userId: string): ReplyTarget | undefined {
    const row = this.db
      .select({ replyTarget: toolCalls.replyTarget })
      .from(toolCalls)
      .where(and(eq(toolCalls.orgId, orgId), eq(toolCalls.userId, userId)))
      .orderBy(desc(toolCalls.createdAt))
      .limit(1)
      .get();
    return row ? replyTargetSchema.parse(row.replyTarget) : undefined;
  }

  /** Moves a call from one of `from` to `to`; false if another worker got there first. */
  transition(id: string, from: CallStatus[], to: CallStatus, patch: TransitionPatch = {}): boolean {
    const fields = (['outcome', 'parkedProviderId', 'attempts'] as const).filter((k) =>
      k === 'parkedProviderId' ? k in patch : patch[k] !== undefined,
    );
    const key = `${from.join(',')}>${to}|${fields.join(',')}`;
    let stmt = this.#transitions.get(key);
    if (!stmt) {
      const set: Record<string, unknown> = { status: to, updatedAt: ph('updatedAt') };
      for (const f of fields) set[f] = ph(f);
      stmt = this.db
        .update(toolCalls)
        .set(set)
        .where(and(eq(toolCalls.id, ph('id')), inArray(toolCalls.status, from)))
        .prepare();
      this.#transitions.set(key, stmt);
    }
    const values: Record<string, unknown> = { id, updatedAt: Date.now() };
    for (const f of fields) values[f] = patch[f];
    const moved = stmt.run(values).changes === 1;
    if (moved && (to === 'parked' || to === 'awaiting_approval' || terminal.includes(to))) this.#wake(id);
    return moved;
  }

  setOutcome(id: string, outcome: StoredOutcome): void {
    this.#setOutcome.run({ id, outcome, updatedAt: Date.now() });
  }

  /** The call's delivery record, read fresh (another attempt may have posted the placeholder). */
  delivery(id: string): Delivery {
    return deliverySchema.parse(this.#byId.get({ id })?.delivery ?? {});
  }

  setDelivery(id: string, delivery: Delivery): void {
    this.#setDelivery.run({ id, delivery, updatedAt: Date.now() });
  }

  /** Resolves when call `id` parks, is held, or ends in this process, or after `ms` (whichever is first). */
  settled(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(id);
      if (!set) this.#waiters.set(id, (set = new Set()));
      const waiters = set;
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (!waiters.size && this.#waiters.get(id) === waiters) this.#waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      waiters.add(done);
    });
  }

  #wake(id: string): void {
    const set = this.#waiters.get(id);
    if (set) for (const w of [...set]) w();
  }

  /** Parked calls of one user waiting for one provider (or the one named call). */
  parkedFor(orgId: string, userId: string, providerId: string): CallRow[] {
    return this.db
      .select()
      .from(toolCalls)
      .where(
        and(
          eq(toolCalls.orgId, orgId),
          eq(toolCalls.userId, userId),
          eq(toolCalls.status, 'parked'),
          eq(toolCalls.parkedProviderId, providerId),
        ),
      )
      .all();
  }

  /** Calls held for approval since before `before`. */
  heldBefore(before: number): CallRow[] {
    return this.db
      .select()
      .from(toolCalls)
      .where(and(eq(toolCalls.status, 'awaiting_approval'), lt(toolCalls.updatedAt, before)))
      .all();
  }

  /** Parked calls last touched before `before`. */
  parkedBefore(before: number): CallRow[] {
    return this.db
      .select()
      .from(toolCalls)
      .where(and(eq(toolCalls.status, 'parked'), lt(toolCalls.updatedAt, before)))
      .all();
  }
}
