import { and, eq, isNotNull } from 'drizzle-orm';
import { newId } from '../db/index.js';
import type { users } from '../db/schema/index.js';
import type { OAuthDeps } from './deps.js';

/** A service identity row: a `users` row with `serviceName` set, never a person. */
export type ServiceIdentityRow = typeof users.$inferSelect;

/**
 * The org's service identities: non-human owners of service grants (`admin connect <provider>
 * --service <name>`). Each is a `users` row with `service_name`, so its grants are stored, sealed
 * (bound to that owner), refreshed and revoked exactly like a person's; it has no chat identity, so
 * nobody can ever be it in chat.
 */
export class ServiceIdentities {
  constructor(private readonly d: Pick<OAuthDeps, 'store'>) {}

  /** The service identity `name` of the org, or undefined. */
  find(orgId: string, name: string): Promise<ServiceIdentityRow | undefined> {
    const s = this.d.store;
    const u = s.t.users;
    return s.first(
      s.db
        .select()
        .from(u)
        .where(and(eq(u.orgId, orgId), eq(u.serviceName, name))),
    );
  }

  /** The service identity `name`, created on first use. */
  async ensure(orgId: string, name: string): Promise<ServiceIdentityRow> {
    const s = this.d.store;
    // Created once by the unique index on (org, service_name) (insert … on conflict do nothing): of two connects, one inserts.
    await s.changes(
      s.db
        .insert(s.t.users)
        .values({
          id: newId(),
          orgId,
          displayName: `service:${name}`,
          role: 'member',
          serviceName: name,
          createdAt: Date.now(),
        })
        .onConflictDoNothing(),
    );
    return (await this.find(orgId, name))!;
  }

  /** The service name of a user id, or null when the user is a person (or gone). */
  async nameOf(userId: string): Promise<string | null> {
    const s = this.d.store;
    const u = s.t.users;
    const row = await s.first(s.db.select({ name: u.serviceName }).from(u).where(eq(u.id, userId)));
    return row?.name ?? null;
  }

  /** Every service identity of the org. */
  list(orgId: string): Promise<ServiceIdentityRow[]> {
    const s = this.d.store;
    const u = s.t.users;
    return s.rows(
      s.db
        .select()
        .from(u)
        .where(and(eq(u.orgId, orgId), isNotNull(u.serviceName))),
    );
  }
}
