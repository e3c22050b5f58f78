import { AuditLog, type AuditInput } from '../audit/index.js';
import type { ConfigSeen, PreparedWrite, Queries, Store } from '../db/index.js';
import type { toolCalls } from '../db/schema/index.js';
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
export type { CallStatus } from './call-statements.js';
export { pending, terminal, userLock } from './call-statements.js';

import {
  byId,
  byIdWithConfig,
  countIn,
  endAuditedStatement,
  endAuditedValues,
  deliveryOf,
  hasOnlyEnqueueKeys,
  insertCall,
  insertCallOnServer,
  insertNamedCallOnServer,
  isEnqueueShape,
  moveReturningDelivery,
  moveStatement,
  onServerValues,
  heldUntouched,
  lastTargetOf,
  parkedForOf,
  parkedUntouched,
  pending,
  transitionShape,
  setDeliveryOf,
  setOutcomeOf,
  terminal,
  type CallInsert,
  type CallStatus,
  type TransitionPatch,
  userLock,
} from './call-statements.js';

export type { ApprovalRecord, Delivery, StoredOutcome } from '../db/schema/shapes.js';

/** `tool_calls` rows: the durable state of each call, read by every worker process. */
export class CallStore {
  /** In-process waiters per call id, woken when the call parks or ends here. */
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Prepared transitions and counts, one per shape (`from`, `to`, patched columns; statuses). */
  readonly #moves = new Map<string, PreparedWrite>();
  readonly #movesWithDelivery = new Map<string, ReturnType<typeof moveReturningDelivery>>();
  readonly #endsAudited = new Map<string, ReturnType<typeof endAuditedStatement>>();
  readonly #counts = new Map<string, ReturnType<typeof countIn>>();

  /** `announce`: tells other processes a call settled (`CallSignals.publish`); default none (this process only). */
  constructor(
    private readonly store: Store,
    private readonly announce: (id: string) => void = () => undefined,
  ) {}

  get(id: string): Promise<CallRow | undefined> {
    return this.#get(this.store, id);
  }

  /** The row, and the configuration's version as of that read (undefined: not known). */
  async getWithConfig(id: string): Promise<{ row: CallRow | undefined; config: ConfigSeen }> {
    const found = await this.store.first(byIdWithConfig, { id });
    if (!found) return { row: undefined, config: undefined };
    const { configSeen, ...row } = found;
    return { row, config: configSeen == null ? undefined : Number(configSeen) };
  }

  #get(q: Queries, id: string): Promise<CallRow | undefined> {
    return q.first(byId, { id });
  }

  async insert(row: CallInsert): Promise<boolean> {
    return this.#insert(this.store, row);
  }

  async #insert(q: Queries, row: CallInsert): Promise<boolean> {
    if (isEnqueueShape(row)) return (await q.changes(insertCall, { ...row, now: Date.now() })) === 1;
    const values = { ...row, status: 'queued' as const, updatedAt: Date.now() };
    return (await q.changes(q.db.insert(q.t.toolCalls).values(values).onConflictDoNothing())) === 1;
  }

  /** How many calls of one user are in one of `statuses`. */
  async #count(q: Queries, orgId: string, userId: string, statuses: CallStatus[]): Promise<number> {
    const key = statuses.join(',');
    let p = this.#counts.get(key);
    if (!p) this.#counts.set(key, (p = countIn(statuses)));
    return (await q.first(p, { orgId, userId }))?.n ?? 0;
  }

  /**
   * Inserts a call unless its user already has `max` calls queued, running or awaiting approval. Count
   * and insert are one transaction under the user's lock (on Postgres one statement), so concurrent
   * enqueues (any process) cannot pass the cap together.
   */
  insertWithin(row: CallInsert, max: number): Promise<'inserted' | 'duplicate' | 'full'> {
    // Postgres: one statement, `onbehalf_insert_call` (drizzle/postgres/0005): the lock, the count and
    // the insert run on the server, so the user's lock is never held across round trips.
    if (this.store.dialect === 'postgres' && hasOnlyEnqueueKeys(row))
      return this.store.first(insertCallOnServer, onServerValues(row, max)).then((a) => a!.result);
    return this.store.tx(async (tx) => {
      // Count then insert: the user's advisory lock serialises it across processes on Postgres (SQLite: one writer).
      await tx.lock(userLock(row));
      // A redelivery answers `duplicate` even at the cap; the insert itself finds it otherwise (no row read first).
      if ((await this.#count(tx, row.orgId, row.userId, pending)) >= max)
        return (await this.#get(tx, row.id)) ? ('duplicate' as const) : ('full' as const);
      return (await this.#insert(tx, row)) ? ('inserted' as const) : ('duplicate' as const);
    });
  }

  /**
   * `insertWithin` for the org's server named `server`; `unknown_server`: the org has none by that
   * name (nothing inserted). On Postgres the lookup is part of the one statement, elsewhere `lookup`'s.
   */
  async insertForServer(
    row: Omit<CallInsert, 'serverId'>,
    server: string,
    max: number,
    lookup: (orgId: string, name: string) => Promise<{ id: string } | undefined>,
  ): Promise<'inserted' | 'duplicate' | 'full' | 'unknown_server'> {
    if (this.store.dialect === 'postgres' && hasOnlyEnqueueKeys(row as CallInsert))
      return (
        (await this.store.first(insertNamedCallOnServer, { ...onServerValues(row, max), server }))?.result ??
        'unknown_server'
      );
    const found = await lookup(row.orgId, server);
    return found ? this.insertWithin({ ...row, serverId: found.id }, max) : 'unknown_server';
  }

  /**
   * Parks a running call unless its user already has `max` parked calls (one transaction).
   * `moved`: another worker changed the call first.
   */
  async parkWithin(
    row: CallRow,
    patch: { parkedProviderId: string; outcome: StoredOutcome },
    max: number,
  ): Promise<'parked' | 'full' | 'moved'> {
    return this.store.tx(async (tx) => {
      // Count then park: the user's advisory lock serialises it across processes on Postgres (SQLite: one writer).
      await tx.lock(userLock(row));
      if ((await this.#count(tx, row.orgId, row.userId, ['parked'])) >= max) return 'full' as const;
      return (await this.#move(tx, row.id, ['running'], 'parked', patch)) ? ('parked' as const) : ('moved' as const);
    });
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
  async lastTarget(orgId: string, userId: string): Promise<ReplyTarget | undefined> {
    const row = await this.store.first(lastTargetOf, { orgId, userId });
    return row ? replyTargetSchema.parse(row.replyTarget) : undefined;
  }

  /** Moves a call from one of `from` to `to`; false if another worker got there first. Waiters wake when it ends (`woken` for a park or a hold). */
  async transition(id: string, from: CallStatus[], to: CallStatus, patch: TransitionPatch = {}): Promise<boolean> {
    const moved = await this.#move(this.store, id, from, to, patch);
    if (moved && terminal.includes(to)) this.woken(id);
    return moved;
  }

  /**
   * A transition run on `q` (the store or a transaction), answering the call's delivery record as the
   * move left it, or undefined when another worker moved it first (saves reading it again to deliver).
   * The caller wakes waiters (`woken`) once it is stored.
   */
  async moveIn(
    q: Queries,
    id: string,
    from: CallStatus[],
    to: CallStatus,
    patch: TransitionPatch = {},
  ): Promise<Delivery | undefined> {
    const { key, values, columns } = transitionShape(id, from, to, patch);
    let p = this.#movesWithDelivery.get(key);
    if (!p) this.#movesWithDelivery.set(key, (p = moveReturningDelivery(key, from, to, columns)));
    const row = await q.first(p, values);
    return row ? deliverySchema.parse(row.delivery ?? {}) : undefined;
  }

  /**
   * `moveIn` and its audit event stored as one: the event exactly when the call moved. On Postgres one
   * statement (one round trip for what a transaction takes four); on SQLite a transaction.
   */
  async endAudited(
    id: string,
    from: CallStatus[],
    to: CallStatus,
    patch: TransitionPatch,
    event: { audit: AuditLog; input: AuditInput },
  ): Promise<Delivery | undefined> {
    if (this.store.dialect !== 'postgres')
      return this.store.tx(async (q) => {
        const d = await this.moveIn(q, id, from, to, patch);
        if (d) await event.audit.write(event.input, q);
        return d;
      });
    const shape = transitionShape(id, from, to, patch);
    let p = this.#endsAudited.get(shape.key);
    if (!p) this.#endsAudited.set(shape.key, (p = endAuditedStatement(shape.key, from, to, shape.columns)));
    const row = await this.store.first(p, endAuditedValues(shape, AuditLog.row(event.input)));
    return row ? deliverySchema.parse(row.delivery ?? {}) : undefined;
  }

  /** The conditional update of a transition: it changes the row only while its status is one of `from`. */
  async #move(q: Queries, id: string, from: CallStatus[], to: CallStatus, patch: TransitionPatch): Promise<boolean> {
    const { key, values, columns } = transitionShape(id, from, to, patch);
    let p = this.#moves.get(key);
    if (!p) this.#moves.set(key, (p = moveStatement(key, from, to, columns)));
    return (await q.changes(p, values)) === 1;
  }

  async setOutcome(id: string, outcome: StoredOutcome): Promise<void> {
    await this.store.changes(setOutcomeOf, { id, outcome, now: Date.now() });
  }

  /** The call's delivery record, read fresh (another attempt may have posted the placeholder). */
  async delivery(id: string): Promise<Delivery> {
    const row = await this.store.first(deliveryOf, { id });
    return deliverySchema.parse(row?.delivery ?? {});
  }

  async setDelivery(id: string, delivery: Delivery): Promise<void> {
    await this.store.changes(setDeliveryOf, { id, delivery, now: Date.now() });
  }

  /**
   * Resolves when call `id` parks, is held, or ends (woken here or by another process), or after `ms`,
   * whichever is first. Listen before reading the row, so a wake between the read and the wait is kept.
   */
  settled(id: string, ms: number): { woken: Promise<void>; cancel(): void } {
    let done!: () => void;
    const woken = new Promise<void>((resolve) => {
      let set = this.#waiters.get(id);
      if (!set) this.#waiters.set(id, (set = new Set()));
      const waiters = set;
      done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (!waiters.size && this.#waiters.get(id) === waiters) this.#waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      waiters.add(done);
    });
    return { woken, cancel: done };
  }

  /**
   * Wakes every process's waiters for call `id` (it ended, or it parked or was held and its caller
   * was asked). Only `runToolCall` waits, once per call, and the agent gives each such call its turn: so a call
   * whose waiter was here, or one known to have no turn (`turnId` null), is not announced to other
   * processes. `turnId` undefined: not known, announced.
   */
  woken(id: string, turnId?: string | null): void {
    if (!this.wakeHere(id) && turnId !== null) this.announce(id);
  }

  /** Wakes this process's waiters for call `id`; whether there were any. */
  wakeHere(id: string): boolean {
    const set = this.#waiters.get(id);
    if (set) for (const w of [...set]) w();
    return set !== undefined;
  }

  /** Parked calls of one user waiting for one provider (or the one named call). */
  parkedFor(orgId: string, userId: string, providerId: string): Promise<CallRow[]> {
    return this.store.rows(parkedForOf, { orgId, userId, providerId });
  }

  /** Calls held for approval since before `before`. */
  heldBefore(before: number): Promise<CallRow[]> {
    return this.store.rows(heldUntouched, { before });
  }

  /** Parked calls last touched before `before`. */
  parkedBefore(before: number): Promise<CallRow[]> {
    return this.store.rows(parkedUntouched, { before });
  }
}
