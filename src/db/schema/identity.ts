// Orgs, the workspaces that belong to them, users, their chat identities and one-time codes.
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, id, sealed } from './columns.js';

/** The org a row belongs to; deleting the org deletes the row. */
export const orgId = () =>
  text('org_id')
    .notNull()
    .references(() => orgs.id, { onDelete: 'cascade' });

/** The user a row belongs to; the row goes with them. */
export const userId = () =>
  text('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' });

/** A tenant. */
export const orgs = sqliteTable('orgs', {
  id: id(),
  name: text('name').notNull(),
  createdAt: createdAt(),
});

/** A Slack workspace or Discord guild (or the shell's `local`) that belongs to one org. */
export const workspaces = sqliteTable(
  'workspaces',
  {
    id: id(),
    orgId: orgId(),
    platform: text('platform', { enum: ['slack', 'discord', 'shell'] }).notNull(),
    workspaceId: text('workspace_id').notNull(),
    name: text('name'),
    /**
     * Slack bot token of a multi-workspace install. Owner: platform and workspace id, not the org
     * (an org join moves a workspace between orgs).
     */
    botTokenSealed: sealed('bot_token_sealed', ['platform', 'workspaceId']),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('workspaces_platform_ws').on(t.platform, t.workspaceId)],
);

export const users = sqliteTable(
  'users',
  {
    id: id(),
    orgId: orgId(),
    displayName: text('display_name').notNull(),
    email: text('email'),
    role: text('role', { enum: ['admin', 'member'] })
      .notNull()
      .default('member'),
    /**
     * Set on the org's service identities only (`admin connect <provider> --service <name>`): a
     * non-human owner of service grants, with no chat identity. Null for every person.
     */
    serviceName: text('service_name'),
    createdAt: createdAt(),
  },
  (t) => [index('users_org').on(t.orgId), uniqueIndex('users_org_service').on(t.orgId, t.serviceName)],
);

/** A chat identity bound to a user; one row per platform identity. */
export const linkedAccounts = sqliteTable(
  'linked_accounts',
  {
    id: id(),
    orgId: orgId(),
    userId: userId(),
    platform: text('platform', { enum: ['slack', 'discord', 'shell'] }).notNull(),
    workspaceId: text('workspace_id').notNull(),
    platformUserId: text('platform_user_id').notNull(),
    displayName: text('display_name'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('linked_accounts_identity').on(t.platform, t.workspaceId, t.platformUserId),
    index('linked_accounts_user').on(t.orgId, t.userId),
  ],
);

/**
 * One-time codes, stored hashed: `link` merges a second chat identity into a user of the same org;
 * `org_invite` (issued by an admin, the row's user) lets an admin of another org join it into this one.
 */
export const linkCodes = sqliteTable(
  'link_codes',
  {
    id: id(),
    orgId: orgId(),
    userId: userId(),
    kind: text('kind', { enum: ['link', 'org_invite'] })
      .notNull()
      .default('link'),
    codeHash: text('code_hash').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('link_codes_hash').on(t.codeHash)],
);

/** Failed link-code attempts, for the per-user brute-force limit. */
export const linkAttempts = sqliteTable(
  'link_attempts',
  {
    id: id(),
    platform: text('platform').notNull(),
    workspaceId: text('workspace_id').notNull(),
    platformUserId: text('platform_user_id').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [index('link_attempts_identity').on(t.platform, t.workspaceId, t.platformUserId, t.at)],
);
