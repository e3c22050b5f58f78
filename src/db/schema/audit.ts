// The append-only audit log.
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { id } from './columns.js';
import { orgId } from './identity.js';
import type { AuditDetail } from './shapes.js';

/** Append-only record of tool calls, admin changes and connection events. */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: id(),
    orgId: orgId(),
    at: integer('at').notNull(),
    /** `tool_call`, `admin`, `connection`, `link` … */
    category: text('category').notNull(),
    action: text('action').notNull(),
    actorUserId: text('actor_user_id'),
    onBehalfOfUserId: text('on_behalf_of_user_id'),
    /** `platform:workspace:user` of the chat identity that acted. */
    chatIdentity: text('chat_identity'),
    /** Originating message: platform, channel, message id (for a permalink). */
    chatMessage: text('chat_message', { mode: 'json' }).$type<Record<string, string>>(),
    server: text('server'),
    tool: text('tool'),
    argDigest: text('arg_digest'),
    credentialKinds: text('credential_kinds', { mode: 'json' }).$type<string[]>(),
    connectionIds: text('connection_ids', { mode: 'json' }).$type<string[]>(),
    vendorAccount: text('vendor_account'),
    decision: text('decision'),
    outcome: text('outcome'),
    latencyMs: integer('latency_ms'),
    requestId: text('request_id'),
    detail: text('detail', { mode: 'json' }).$type<AuditDetail>(),
  },
  (t) => [
    index('audit_events_org_at').on(t.orgId, t.at),
    index('audit_events_actor').on(t.orgId, t.actorUserId, t.at),
    // Across orgs by time: the operator's recent failures (`/metrics`, `onbehalf status`) and the audit sink's catch-up.
    index('audit_events_at').on(t.at),
  ],
);

/**
 * How far the audit sink (`AUDIT_WEBHOOK_URL`) has delivered: the last event it sent, by (`at`, `id`).
 * One row per sink; advanced only after the receiver accepted a batch (at-least-once).
 */
export const auditSinkCursors = sqliteTable('audit_sink_cursors', {
  sink: text('sink').primaryKey(),
  at: integer('at').notNull(),
  eventId: text('event_id').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
