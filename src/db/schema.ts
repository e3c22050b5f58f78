// Drizzle schema for every concept of DESIGN.md. Times are epoch milliseconds.
// Columns ending in `_sealed` hold values sealed by src/crypto; AAD = table, column, row id and
// owner, as declared in ./sealed.ts.
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const id = () => text('id').primaryKey();
const orgId = () =>
  text('org_id')
    .notNull()
    .references(() => orgs.id, { onDelete: 'cascade' });
const createdAt = () =>
  integer('created_at')
    .notNull()
    .default(sql`(unixepoch('subsec') * 1000)`);

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
    /** Slack bot token of a multi-workspace install, sealed. */
    botTokenSealed: text('bot_token_sealed'),
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
    createdAt: createdAt(),
  },
  (t) => [index('users_org').on(t.orgId)],
);

/** A chat identity bound to a user; one row per platform identity. */
export const linkedAccounts = sqliteTable(
  'linked_accounts',
  {
    id: id(),
    orgId: orgId(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
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
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
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
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
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

/** An OAuth 2 / OIDC client registration for a vendor, or a DCR client of an MCP server. */
export const oauthProviders = sqliteTable(
  'oauth_providers',
  {
    id: id(),
    orgId: orgId(),
    slug: text('slug').notNull(),
    /** Preset name (`github`, `google`, …), `oidc`, `oauth2`, or `mcp` (registered by DCR). */
    kind: text('kind').notNull(),
    displayName: text('display_name').notNull(),
    clientId: text('client_id').notNull(),
    clientSecretSealed: text('client_secret_sealed'),
    scopes: text('scopes', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    issuer: text('issuer'),
    authorizeUrl: text('authorize_url').notNull(),
    tokenUrl: text('token_url').notNull(),
    revokeUrl: text('revoke_url'),
    userinfoUrl: text('userinfo_url'),
    /** RFC 8707 resource indicator, for MCP authorization servers. */
    resource: text('resource'),
    /** The MCP server this registration belongs to (kind `mcp`). */
    mcpServerId: text('mcp_server_id'),
    extra: text('extra', { mode: 'json' })
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'`),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('oauth_providers_org_slug').on(t.orgId, t.slug)],
);

/** One user's grant at one provider. */
export const connectedAccounts = sqliteTable(
  'connected_accounts',
  {
    id: id(),
    orgId: orgId(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    providerId: text('provider_id')
      .notNull()
      .references(() => oauthProviders.id, { onDelete: 'cascade' }),
    /** `held`: a vendor account new to this user, from a browser not proven to be theirs; unusable until they confirm in chat. */
    status: text('status', { enum: ['active', 'held', 'needs_reauth', 'revoked'] }).notNull(),
    accessTokenSealed: text('access_token_sealed'),
    refreshTokenSealed: text('refresh_token_sealed'),
    /** Null: the token does not expire. */
    expiresAt: integer('expires_at'),
    scopes: text('scopes', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    vendorAccountId: text('vendor_account_id'),
    vendorLogin: text('vendor_login'),
    /** Bumped on every token write; a writer holding an older version loses. */
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('connected_accounts_user_provider').on(t.userId, t.providerId),
    index('connected_accounts_org').on(t.orgId),
  ],
);

/** Server-side state of one authorization-code flow. */
export const oauthStates = sqliteTable(
  'oauth_states',
  {
    id: id(),
    orgId: orgId(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    providerId: text('provider_id')
      .notNull()
      .references(() => oauthProviders.id, { onDelete: 'cascade' }),
    stateHash: text('state_hash').notNull(),
    codeVerifierSealed: text('code_verifier_sealed').notNull(),
    issuer: text('issuer'),
    scopes: text('scopes', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    resumeCallId: text('resume_call_id'),
    /** sha256 of the browser-binding cookie set by Continue; the callback must bring the same cookie. */
    browserHash: text('browser_hash'),
    /** `connect`: the provider's authorization; `signin:slack` / `signin:discord`: the chat sign-in before it; `connect+signed_in`: after a matching sign-in. */
    phase: text('phase').notNull().default('connect'),
    expiresAt: integer('expires_at').notNull(),
    consumedAt: integer('consumed_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('oauth_states_hash').on(t.stateHash)],
);

/** jti of signed single-use links already spent. */
export const usedLinks = sqliteTable('used_links', {
  jti: text('jti').primaryKey(),
  expiresAt: integer('expires_at').notNull(),
});

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
    valueSealed: text('value_sealed').notNull(),
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

/** One call of one tool for one user, including parked and held ones. */
export const toolCalls = sqliteTable(
  'tool_calls',
  {
    id: id(),
    orgId: orgId(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    serverId: text('server_id').notNull(),
    tool: text('tool').notNull(),
    args: text('args', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    status: text('status', {
      enum: [
        'queued',
        'running',
        'parked',
        'awaiting_approval',
        'succeeded',
        'failed',
        'denied',
        'cancelled',
        'interrupted',
      ],
    }).notNull(),
    /** Provider whose grant the parked call waits for. */
    parkedProviderId: text('parked_provider_id'),
    /** Where the result goes (platform, channel, thread, user), as JSON. */
    replyTarget: text('reply_target', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** The agent turn this call belongs to, if any. */
    turnId: text('turn_id'),
    requestId: text('request_id').notNull(),
    outcome: text('outcome', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** Where the answer is delivered: the placeholder message to edit, or a marker that a post began. */
    delivery: text('delivery', { mode: 'json' }).$type<Record<string, unknown>>(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('tool_calls_parked').on(t.orgId, t.userId, t.status, t.parkedProviderId),
    index('tool_calls_status').on(t.status, t.updatedAt),
  ],
);

/** Recent turns of a conversation thread, the agent's memory, each with its author. */
export const threadMessages = sqliteTable(
  'thread_messages',
  {
    id: id(),
    orgId: orgId(),
    threadKey: text('thread_key').notNull(),
    role: text('role', { enum: ['user', 'assistant', 'tool'] }).notNull(),
    content: text('content').notNull(),
    /** Whose turn: who wrote a `user` row, whom an `assistant` row answered, whose call a `tool` row was. Null on rows from before authors were kept. */
    userId: text('user_id'),
    /** Display name of the author: the person (`user`), the bot (`assistant`), `server.tool` (`tool`). */
    author: text('author'),
    /** The turn the row belongs to (a resumed call finds its question by it). */
    requestId: text('request_id'),
    /** `tool` rows: the call (runner call id, server, tool, arguments). */
    toolCall: text('tool_call', { mode: 'json' }).$type<{
      callId: string;
      server: string;
      tool: string;
      args: Record<string, unknown>;
    }>(),
    createdAt: createdAt(),
  },
  (t) => [index('thread_messages_thread').on(t.orgId, t.threadKey, t.createdAt)],
);

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
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [index('audit_events_org_at').on(t.orgId, t.at), index('audit_events_actor').on(t.orgId, t.actorUserId, t.at)],
);

/** Facts about the stored data itself, e.g. which seal format the values were upgraded to. */
export const storageMeta = sqliteTable('storage_meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

// Every sealed column and the owner its AAD binds are declared in ./sealed.ts (`sealedTables`).
