import { createHash } from 'node:crypto';
import { and, desc, eq, gte } from 'drizzle-orm';
import { newId, type Db } from '../db/index.js';
import { auditEvents } from '../db/schema.js';

/** One audit record. Names the human; holds credential kinds and connection ids, never values. */
export interface AuditInput {
  orgId: string;
  category: 'tool_call' | 'admin' | 'connection' | 'link' | 'access';
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
  detail?: Record<string, unknown> | null;
}

export type AuditEvent = typeof auditEvents.$inferSelect;

/** SHA-256 of the canonical JSON of tool arguments: proves what was sent without storing it. */
export function argDigest(args: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  return 'sha256:' + createHash('sha256').update(JSON.stringify(canonical(args ?? null))).digest('hex');
}

/** Append-only audit log. */
export class AuditLog {
  constructor(private readonly db: Db) {}

  /** Appends one event; returns its id. */
  write(e: AuditInput): string {
    const id = newId();
    this.db.insert(auditEvents).values({ id, at: Date.now(), ...e }).run();
    return id;
  }

  /** Events of one org, newest first, optionally for one user, server, or since a time. */
  query(orgId: string, f: { userId?: string; server?: string; since?: number; limit?: number } = {}): AuditEvent[] {
    const conds = [eq(auditEvents.orgId, orgId)];
    if (f.userId) conds.push(eq(auditEvents.actorUserId, f.userId));
    if (f.server) conds.push(eq(auditEvents.server, f.server));
    if (f.since) conds.push(gte(auditEvents.at, f.since));
    return this.db.select().from(auditEvents).where(and(...conds)).orderBy(desc(auditEvents.at)).limit(f.limit ?? 50).all();
  }
}
