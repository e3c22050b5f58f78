import { and, eq, sql } from 'drizzle-orm';
import type { Secret, Keyring } from '../crypto/index.js';
import { configCache, prepared, type ConfigSeen, type Store } from '../db/index.js';
import { NetGuard } from '../net/index.js';
import { ApprovalRules } from './approvals.js';
import { DeclaredObjects } from './declared.js';
import { SecretStore, type SecretScope } from './secrets.js';
import { Teams } from './teams.js';
import type { AccessRule } from './rules.js';
import type { McpServerRow, ServerInput, ServerListing } from './servers.js';
import type { BindingRow, PolicyParts } from './parts.js';
import type { PolicyResult } from './results.js';
import * as servers from './admin-servers.js';
import * as rules from './admin-rules.js';
import * as secrets from './admin-secrets.js';
import { teamAction } from './admin-teams.js';

export type { BindingRow } from './parts.js';

// Looked up for every tool call (db/prepared.ts).
const serverByName = prepared('policy.serverByName', ({ db, t }) =>
  db
    .select()
    .from(t.mcpServers)
    .where(and(eq(t.mcpServers.orgId, sql.placeholder('orgId')), eq(t.mcpServers.name, sql.placeholder('name')))),
);
const serverById = prepared('policy.serverById', ({ db, t }) =>
  db
    .select()
    .from(t.mcpServers)
    .where(and(eq(t.mcpServers.orgId, sql.placeholder('orgId')), eq(t.mcpServers.id, sql.placeholder('id')))),
);
const bindingsOf = prepared('policy.bindings', ({ db, t }) =>
  db
    .select()
    .from(t.credentialBindings)
    .where(eq(t.credentialBindings.serverId, sql.placeholder('serverId'))),
);
const rulesOf = prepared('policy.rules', ({ db, t }) =>
  db
    .select()
    .from(t.accessRules)
    .where(eq(t.accessRules.serverId, sql.placeholder('serverId'))),
);

/** Options for `Policy`. */
export interface PolicyOptions {
  /** Admins may add stdio servers (ONBEHALF_ALLOW_STDIO). Default false. */
  allowStdio?: boolean;
  /** The network guard an admin's http server URL must pass (ONBEHALF_ALLOW_PRIVATE_URLS). Default: one that refuses private addresses and plain http. */
  net?: NetGuard;
}

/** MCP servers, credential bindings, access rules, secrets and teams of each org. Admin changes answer values (`PolicyResult`). */
export class Policy implements PolicyParts {
  readonly secrets: SecretStore;
  readonly teams: Teams;
  readonly approvals: ApprovalRules;
  /** Which objects a config file owns. */
  readonly declared: DeclaredObjects;
  readonly net: NetGuard;
  readonly allowStdio: boolean;

  constructor(
    readonly store: Store,
    keyring: Keyring,
    opts: PolicyOptions = {},
  ) {
    this.net = opts.net ?? new NetGuard();
    this.allowStdio = opts.allowStdio ?? false;
    this.secrets = new SecretStore(store, keyring);
    this.teams = new Teams(store);
    this.approvals = new ApprovalRules(store);
    this.declared = new DeclaredObjects(store);
  }

  /** Adds a server. stdio only from operator config or with ONBEHALF_ALLOW_STDIO=true. */
  addServer(
    orgId: string,
    input: ServerInput,
    from: { source: 'admin' | 'operator' } = { source: 'admin' },
  ): Promise<PolicyResult> {
    return servers.addServer(this, orgId, input, from);
  }

  /** A server by name. */
  async server(orgId: string, name: string): Promise<McpServerRow | undefined> {
    return this.store.first(serverByName, { orgId, name });
  }

  /** A server by id (scoped to the org); `seen`: a call's configuration version, a copy at least that new may answer. */
  async serverById(orgId: string, id: string, seen?: ConfigSeen): Promise<McpServerRow | undefined> {
    return configCache(this.store).read(`server:${orgId}:${id}`, seen, () =>
      this.store.first(serverById, { orgId, id }),
    );
  }

  async servers(orgId: string): Promise<McpServerRow[]> {
    const s = this.store.t.mcpServers;
    return this.store.rows(this.store.db.select().from(s).where(eq(s.orgId, orgId)));
  }

  async listServers(orgId: string): Promise<ServerListing[]> {
    return servers.listServers(this, orgId);
  }

  /** Changes a server's settings (`admin server set`). */
  async setServer(orgId: string, name: string, set: { privateResults: boolean }): Promise<PolicyResult> {
    return servers.setServer(this, orgId, name, set);
  }

  /** Changes a server's transport, target and timeout (the operator's config file). */
  updateServer(orgId: string, input: ServerInput, from: { source: 'admin' | 'operator' }): Promise<PolicyResult> {
    return servers.updateServer(this, orgId, input, from);
  }

  /** Removes one env var or header binding of a server. */
  unbind(orgId: string, server: string, target: 'env' | 'header', name: string): Promise<PolicyResult> {
    return servers.unbind(this, orgId, { server, target, name });
  }

  /** Removes one access rule by id. */
  removeRule(orgId: string, id: string): Promise<boolean> {
    return rules.removeRule(this, orgId, id);
  }

  /** Removes the approval rule of one glob of a server. */
  removeApproval(orgId: string, server: string, glob: string): Promise<PolicyResult> {
    return rules.removeApproval(this, orgId, server, glob);
  }

  async removeServer(orgId: string, name: string): Promise<PolicyResult> {
    return servers.removeServer(this, orgId, name);
  }

  /** Binds one env var (stdio) or header (http) of a server to a credential source. */
  async bind(
    orgId: string,
    server: string,
    target: 'env' | 'header',
    name: string,
    source: string,
    template?: string,
  ): Promise<PolicyResult> {
    return servers.bind(this, orgId, { server, target, name, source, template });
  }

  /** A server's bindings (`seen`: as for `serverById`). */
  async bindings(serverId: string, seen?: ConfigSeen): Promise<readonly BindingRow[]> {
    return configCache(this.store).read(`bindings:${serverId}`, seen, () => this.store.rows(bindingsOf, { serverId }));
  }

  /** Adds an allow or deny rule. Users are user ids; teams are names or ids. */
  async rule(orgId: string, effect: 'allow' | 'deny', server: string, input: rules.RuleInput): Promise<PolicyResult> {
    return rules.addRule(this, orgId, effect, server, input);
  }

  /** A server's rules (`seen`: as for `serverById`). */
  async rules(serverId: string, seen?: ConfigSeen): Promise<readonly AccessRule[]> {
    return configCache(this.store).read(`rules:${serverId}`, seen, () => this.store.rows(rulesOf, { serverId }));
  }

  /** Sets whether the model's calls of a server's tools matching `glob` ask the caller first, always run, or never run. */
  async approve(orgId: string, server: string, glob: string, mode: string): Promise<PolicyResult> {
    return rules.setApproval(this, orgId, server, glob, mode);
  }

  /** A server's approval rules, the most specific first. */
  async approvalRules(orgId: string, server: string): Promise<PolicyResult> {
    return rules.approvalRules(this, orgId, server);
  }

  /** Stores a secret. `owner`: the org id, a team name or id, or a user id. */
  async setSecret(
    orgId: string,
    scope: SecretScope,
    owner: string,
    name: string,
    value: Secret,
  ): Promise<PolicyResult> {
    return secrets.setSecret(this, orgId, { scope, owner, name, value });
  }

  async listSecrets(
    orgId: string,
    scope?: SecretScope,
  ): Promise<{ scope: string; owner: string; name: string; updatedAt: number }[]> {
    return secrets.listSecrets(this, orgId, scope);
  }

  async deleteSecret(orgId: string, scope: SecretScope, owner: string, name: string): Promise<PolicyResult> {
    return secrets.deleteSecret(this, orgId, scope, owner, name);
  }

  /** Team administration: create, add/remove a member (user id), bind a channel (`platform:channel`), delete, list. */
  async team(
    orgId: string,
    action: 'create' | 'add' | 'remove' | 'channel' | 'delete' | 'list',
    name: string | undefined,
    arg?: string,
  ): Promise<PolicyResult> {
    return teamAction(this, orgId, action, name, arg);
  }
}
