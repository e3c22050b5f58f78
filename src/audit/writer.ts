import { createHash } from 'node:crypto';
import { and, desc, eq, gte, or } from 'drizzle-orm';
import { newId, preparedWrite, slot, type Queries, type Store } from '../db/index.js';
import type { auditEvents } from '../db/schema/index.js';
import type { AuditDetail } from '../db/schema/shapes.js';

/** One audit record. Names the human; holds credential kinds and connection ids, never values. */
export interface AuditInput {
  orgId: string;
  category: 'tool_call' | 'admin' | 'connection' | 'link' | 'access' | 'feedback';
  action: string;
  actorUserId?: string | null;
  onBehalfOfUserId?: string | null;
  chatIdentity?: string | null;
  chatMessage?: Record<string, string> | null;
  server?: string | null;
  tool?: string | null;
  argDigest?: string | null;
  credentialKinds?: string[] | null;
  connectionIds?: string[] | null;
  vendorAccount?: string | null;
  decision?: string | null;
  outcome?: string | null;
  latencyMs?: number | null;
  requestId?: string | null;
  detail?: AuditDetail | null;
}

export type AuditEvent = typeof auditEvents.$inferSelect;
type AuditRow = typeof auditEvents.$inferInsert;

/** SHA-256 of the canonical JSON of tool arguments: proves what was sent without storing it. */
export function argDigest(args: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return (
    'sha256:' +
    createHash('sha256')
      .update(JSON.stringify(canonical(args ?? null)))
      .digest('hex')
  );
}

/** The columns of an event besides its id and time (absent ones are stored as null). */
const columns = [
  'orgId',
  'category',
  'action',
  'actorUserId',
  'onBehalfOfUserId',
  'chatIdentity',
  'chatMessage',
  'server',
  'tool',
  'argDigest',
  'credentialKinds',
  'connectionIds',
  'vendorAccount',
  'decision',
  'outcome',
  'latencyMs',
  'requestId',
  'detail',
] as const;

/** Every column of an event, as `AuditLog.row` names them. */
export const eventColumns = ['id', 'at', ...columns] as const;

/** The one insert of every event, every column named (db/prepared.ts). */
const insertEvent = preparedWrite('audit.insert', ({ db, t }) =>
  db.insert(t.auditEvents).values(Object.fromEntries(eventColumns.map((k) => [k, slot(k)])) as unknown as AuditRow),
);

/** Events inserted by one statement at most (a batch is what queued while the previous insert ran). */
const MAX_BATCH = 100;

type Queued = { v: Record<string, unknown>; done: (err?: unknown) => void };

/**
 * Append-only audit log. Writes are group-committed: the first is inserted at once; those that
 * arrive while an insert is in flight (concurrent calls on Postgres) go in the next one together, a
 * multi-row insert. Each `write` still resolves only once its row is stored.
 */
export class AuditLog {
  readonly #queue: Queued[] = [];
  #flushing = false;

  constructor(private readonly store: Store) {}

  /**
   * Appends one event; resolves with its id once stored. Every column is named, so the insert has one
   * shape. `q`: written at once in that transaction, beside the writes it belongs with.
   */
  write(e: AuditInput, q?: Queries): Promise<string> {
    const v = AuditLog.row(e);
    const id = v['id'] as string;
    if (q) return q.changes(insertEvent, v).then(() => id);
    return new Promise((resolve, reject) => {
      this.#queue.push({ v, done: (err) => (err === undefined ? resolve(id) : reject(err)) });
      if (!this.#flushing) void this.#flush();
    });
  }

  /**
   * The row an event is stored as (a new id, the time now, every column named), for a statement that
   * writes it beside another (CallStore.endAudited). Its keys are the audit table's columns.
   */
  static row(e: AuditInput): Record<(typeof eventColumns)[number], unknown> {
    const v: Record<string, unknown> = { id: newId(), at: Date.now() };
    for (const k of columns) v[k] = e[k] ?? null;
    return v as Record<(typeof eventColumns)[number], unknown>;
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        try {
          await this.#insert(batch.map((b) => b.v));
          for (const b of batch) b.done();
        } catch (err) {
          // One bad event does not fail the others: each is tried again alone.
          if (batch.length === 1) batch[0]!.done(err);
          else
            for (const b of batch)
              await this.#insert([b.v]).then(
                () => b.done(),
                (e: unknown) => b.done(e ?? new Error('audit insert failed')),
              );
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  #insert(rows: Record<string, unknown>[]): Promise<number> {
    if (rows.length === 1) return this.store.changes(insertEvent, rows[0]!);
    return this.store.changes(this.store.db.insert(this.store.t.auditEvents).values(rows as AuditRow[]));
  }

  /** Events of one org, newest first, optionally for one user, server, or since a time. */
  query(
    orgId: string,
    f: { userId?: string; server?: string; since?: number; limit?: number } = {},
  ): Promise<AuditEvent[]> {
    const auditEvents = this.store.t.auditEvents;
    const conds = [eq(auditEvents.orgId, orgId)];
    // A person's events: what they did, and what was done on their behalf (a refresh, a revocation).
    if (f.userId) conds.push(or(eq(auditEvents.actorUserId, f.userId), eq(auditEvents.onBehalfOfUserId, f.userId))!);
    if (f.server) conds.push(eq(auditEvents.server, f.server));
    if (f.since) conds.push(gte(auditEvents.at, f.since));
    return this.store.rows(
      this.store.db
        .select()
        .from(auditEvents)
        .where(and(...conds))
        .orderBy(desc(auditEvents.at))
        .limit(f.limit ?? 50),
    );
  }
}
