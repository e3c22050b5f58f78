import { and, eq } from 'drizzle-orm';
import type { Store } from '../db/index.js';
import type { credentialBindings } from '../db/schema/index.js';
import type { NetGuard } from '../net/index.js';
import type { ApprovalRules } from './approvals.js';
import type { SecretStore } from './secrets.js';
import type { McpServerRow } from './servers.js';
import type { Teams } from './teams.js';

export type BindingRow = typeof credentialBindings.$inferSelect;

/** What the admin changes of policy work with: the stores and lookups `Policy` holds. */
export interface PolicyParts {
  readonly store: Store;
  readonly net: NetGuard;
  /** Admins may add stdio servers (ONBEHALF_ALLOW_STDIO). */
  readonly allowStdio: boolean;
  readonly secrets: SecretStore;
  readonly teams: Teams;
  readonly approvals: ApprovalRules;
  server(orgId: string, name: string): Promise<McpServerRow | undefined>;
  bindings(serverId: string): Promise<readonly BindingRow[]>;
}

/** A user of this org by id, or undefined. */
export async function orgUser(store: Store, orgId: string, id: string) {
  const { users } = store.t;
  return store.first(
    store.db
      .select()
      .from(users)
      .where(and(eq(users.orgId, orgId), eq(users.id, id))),
  );
}
