import type { AuditEvent } from '../../audit/index.js';

/** A user's name by id (undefined when the user is gone). */
export type NameOf = (userId: string) => string | undefined;

/** Who acted: the person by name (with the chat identity they used), or onbehalf itself. */
function actor(r: AuditEvent, nameOf: NameOf): string {
  const name = r.actorUserId ? (nameOf(r.actorUserId) ?? 'a removed user') : undefined;
  if (name && r.chatIdentity) return `${name} (${r.chatIdentity})`;
  return name ?? r.chatIdentity ?? 'onbehalf';
}

/** The vendor account of a connection event: `vendor account ada-at-vendor`. */
function account(r: AuditEvent): string | undefined {
  const provider = typeof r.detail?.['provider'] === 'string' ? r.detail['provider'] : undefined;
  if (!provider && !r.vendorAccount) return undefined;
  return `${provider ?? 'vendor'} account ${r.vendorAccount ?? '(login unknown)'}`;
}

/**
 * One audit event as an admin reads it: when, who (by name), what, for whom when that is
 * someone else, on which server or vendor account, and how it ended. Never a bare user id.
 */
export function auditLine(r: AuditEvent, nameOf: NameOf): string {
  const forWhom =
    r.onBehalfOfUserId && r.onBehalfOfUserId !== r.actorUserId
      ? `for ${nameOf(r.onBehalfOfUserId) ?? 'a removed user'}`
      : undefined;
  return [
    new Date(r.at).toISOString(),
    actor(r, nameOf),
    `${r.category}.${r.action}`,
    forWhom,
    r.server ? `${r.server}.${r.tool ?? ''}` : undefined,
    r.category === 'connection' ? account(r) : undefined,
    r.decision,
    r.outcome,
  ]
    .filter(Boolean)
    .join(' ');
}

/** An exported audit event: the stored record plus the names of the people it refers to. */
export function auditExportRow(r: AuditEvent, nameOf: NameOf): Record<string, unknown> {
  return {
    ...r,
    actorName: r.actorUserId ? (nameOf(r.actorUserId) ?? null) : null,
    onBehalfOfName: r.onBehalfOfUserId ? (nameOf(r.onBehalfOfUserId) ?? null) : null,
  };
}
