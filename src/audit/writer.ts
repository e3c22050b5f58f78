import { createHash } from 'node:crypto';
import { and, desc, eq, gte, or, sql } from 'drizzle-orm';
import { newId, type Db } from '../db/index.js';
import { auditEvents } from '../db/schema/index.js';
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

/** Append-only audit log. */
const plain = [
  'orgId',
  'category',
  'action',
  'actorUserId',
  'onBehalfOfUserId',
  'chatIdentity',
  'server',
  'tool',
  'argDigest',
  'vendorAccount',
  'decision',
  'outcome',
  'latencyMs',
  'requestId',
] as const;
const json = ['chatMessage', 'credentialKinds', 'connectionIds', 'detail'] as const;

export class AuditLog {
  /** One insert naming every column, prepared once; JSON columns are encoded here so that absent stays SQL null. */
  readonly #insert;

  constructor(private readonly db: Db) {
    const ph = sql.placeholder;
    const values: Record<string, unknown> = { id: ph('id'), at: ph('at') };
    for (const k of plain) values[k] = ph(k);
    for (const k of json) values[k] = sql`${ph(k)}`;
    this.#insert = db
      .insert(auditEvents)
      .values(values as typeof auditEvents.$inferInsert)
      .prepare();
  }

  /** Appends one event; returns its id. */
  write(e: AuditInput): string {
    const id = newId();
    const v: Record<string, unknown> = { id, at: Date.now() };
    for (const k of plain) v[k] = e[k] ?? null;
    for (const k of json) v[k] = e[k] == null ? null : JSON.stringify(e[k]);
    this.#insert.run(v);
    return id;
  }

  /** Events of one org, newest first, optionally for one user, server, or since a time. */
  query(orgId: string, f: { userId?: string; server?: string; since?: number; limit?: number } = {}): AuditEvent[] {
    const conds = [eq(auditEvents.orgId, orgId)];
    // A person's events: what they did, and what was done on their behalf (a refresh, a revocation).
    if (f.userId) conds.push(or(eq(auditEvents.actorUserId, f.userId), eq(auditEvents.onBehalfOfUserId, f.userId))!);
    if (f.server) conds.push(eq(auditEvents.server, f.server));
    if (f.since) conds.push(gte(auditEvents.at, f.since));
    return this.db
      .select()
      .from(auditEvents)
      .where(and(...conds))
      .orderBy(desc(auditEvents.at))
      .limit(f.limit ?? 50)
      .all();
  }
}
