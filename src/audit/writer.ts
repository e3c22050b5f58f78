import { createHash } from 'node:crypto';
import { and, desc, eq, gte, or } from 'drizzle-orm';
import { newId, preparedWrite, slot, type Store } from '../db/index.js';
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

/** The one insert of every event, every column named (db/prepared.ts). */
const insertEvent = preparedWrite('audit.insert', ({ db, t }) =>
  db
    .insert(t.auditEvents)
    .values(Object.fromEntries(['id', 'at', ...columns].map((k) => [k, slot(k)])) as unknown as AuditRow),
);

/** Append-only audit log. */
export class AuditLog {
  constructor(private readonly store: Store) {}

  /** Appends one event; resolves with its id. Every column is named, so the insert has one shape. */
  async write(e: AuditInput): Promise<string> {
    const id = newId();
    const v: Record<string, unknown> = { id, at: Date.now() };
    for (const k of columns) v[k] = e[k] ?? null;
    await this.store.changes(insertEvent, v);
    return id;
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
