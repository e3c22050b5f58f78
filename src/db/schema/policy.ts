// MCP servers, their credential bindings, access and approval rules, secrets, and teams.
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, id, sealed } from './columns.js';
import { orgId, userId } from './identity.js';

export const teams = sqliteTable(
  'teams',
  {
    id: id(),
    orgId: orgId(),
    name: text('name').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('teams_org_name').on(t.orgId, t.name)],
);

export const teamMembers = sqliteTable(
  'team_members',
  {
    orgId: orgId(),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: userId(),
  },
  (t) => [uniqueIndex('team_members_pk').on(t.teamId, t.userId), index('team_members_user').on(t.orgId, t.userId)],
);

/** A chat channel bound to a team: team secrets resolve from here first. */
export const teamChannels = sqliteTable(
  'team_channels',
  {
    orgId: orgId(),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    channelId: text('channel_id').notNull(),
  },
  (t) => [uniqueIndex('team_channels_channel').on(t.orgId, t.platform, t.channelId)],
);

export const mcpServers = sqliteTable(
  'mcp_servers',
  {
    id: id(),
    orgId: orgId(),
    name: text('name').notNull(),
    transport: text('transport', { enum: ['http', 'stdio'] }).notNull(),
    url: text('url'),
    command: text('command'),
    args: text('args', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    timeoutMs: integer('timeout_ms').notNull().default(30000),
    /** A result obtained with the caller's own grant goes to the caller only (`admin server set … --private-results`). */
    privateResults: integer('private_results', { mode: 'boolean' }).notNull().default(false),
    /** `operator` (config) or `admin` (chat). */
    source: text('source', { enum: ['operator', 'admin'] })
      .notNull()
      .default('admin'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('mcp_servers_org_name').on(t.orgId, t.name)],
);

/** Where each env var (stdio) or header (http) of a server gets its value. */
export const credentialBindings = sqliteTable(
  'credential_bindings',
  {
    id: id(),
    orgId: orgId(),
    serverId: text('server_id')
      .notNull()
      .references(() => mcpServers.id, { onDelete: 'cascade' }),
    target: text('target', { enum: ['env', 'header'] }).notNull(),
    name: text('name').notNull(),
    /** `oauth:<provider>`, `mcp_oauth`, `org_secret:<n>`, `team_secret:<n>`, `user_secret:<n>`, `static:<v>`. */
    source: text('source').notNull(),
    /** e.g. `Bearer {token}`; null: the value as is. */
    template: text('template'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('credential_bindings_target').on(t.serverId, t.target, t.name)],
);

/** Who may see/call which tools of a server, argument constraints, injected context. */
export const accessRules = sqliteTable(
  'access_rules',
  {
    id: id(),
    orgId: orgId(),
    serverId: text('server_id')
      .notNull()
      .references(() => mcpServers.id, { onDelete: 'cascade' }),
    effect: text('effect', { enum: ['allow', 'deny'] }).notNull(),
    /** Tool name glob. */
    tools: text('tools').notNull().default('*'),
    /** Empty lists: everyone. */
    subjects: text('subjects', { mode: 'json' })
      .$type<{ roles?: string[]; users?: string[]; teams?: string[] }>()
      .notNull()
      .default(sql`'{}'`),
    /** Argument name → glob the value must match. */
    argConstraints: text('arg_constraints', { mode: 'json' })
      .$type<Record<string, string>>()
      .notNull()
      .default(sql`'{}'`),
    /** Argument name → template such as `{user.email}`; overrides supplied values. */
    inject: text('inject', { mode: 'json' })
      .$type<Record<string, string>>()
      .notNull()
      .default(sql`'{}'`),
    /** Allow rules: argument globs match ignoring case (`--ignore-case`); deny rules always do. */
    ignoreCase: integer('ignore_case', { mode: 'boolean' }).notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index('access_rules_server').on(t.orgId, t.serverId)],
);

/** A named sealed value at org, team or user scope. */
export const secrets = sqliteTable(
  'secrets',
  {
    id: id(),
    orgId: orgId(),
    scope: text('scope', { enum: ['org', 'team', 'user'] }).notNull(),
    /** The org, team or user id the secret belongs to. */
    scopeId: text('scope_id').notNull(),
    name: text('name').notNull(),
    /** Owner: its org, scope, scope id and name. */
    valueSealed: sealed('value_sealed', ['orgId', 'scope', 'scopeId', 'name']).notNull(),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('secrets_scope_name').on(t.orgId, t.scope, t.scopeId, t.name)],
);

/** Whether the model's calls of a server's tools wait for the caller's approval (`admin approve`). */
export const approvalRules = sqliteTable(
  'approval_rules',
  {
    id: id(),
    orgId: orgId(),
    serverId: text('server_id')
      .notNull()
      .references(() => mcpServers.id, { onDelete: 'cascade' }),
    /** Tool name glob. */
    tools: text('tools').notNull(),
    mode: text('mode', { enum: ['ask', 'always', 'never'] }).notNull(),
    /** When the rule was last set (ties between equally specific globs go to the newest). */
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('approval_rules_server_tools').on(t.serverId, t.tools)],
);
