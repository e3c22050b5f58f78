import { and, eq } from 'drizzle-orm';
import type { AuditLog } from '../audit/index.js';
import type { Store } from '../db/index.js';
import type { Identity, Platform } from '../identity/index.js';
import type { ProviderStore } from '../oauth/index.js';
import { DEFAULT_TIMEOUT_MS, type AccessRule, type McpServerRow, type Policy } from '../policy/index.js';
import { providerExtraSchema } from '../db/schema/oauth.js';
import type { ApprovalDecl, OrgDecl, ProviderDecl, RuleDecl, ServerDecl, TeamDecl } from './schema.js';

/** The services a config file is applied with: those chat's admin commands use. */
export interface ConfigServices {
  store: Store;
  /** Each change the file makes is an admin event of the org, its actor the file. */
  audit: AuditLog;
  identity: Identity;
  policy: Policy;
  providers: ProviderStore;
}

/** An org's objects in the file's own shape, for export and for comparing with what the file says. */
export interface OrgState {
  orgId: string | undefined;
  decl: Required<Pick<OrgDecl, 'platform' | 'workspace'>> & Required<Omit<OrgDecl, 'platform' | 'workspace'>>;
  /** Each rule's row id, by position in `decl.rules`. */
  ruleIds: string[];
}

/** Platform user ids of the workspace's people, by user id (and back). */
async function people(store: Store, orgId: string, platform: Platform, workspace: string) {
  const la = store.t.linkedAccounts;
  const rows = await store.rows(
    store.db
      .select({ userId: la.userId, platformUserId: la.platformUserId })
      .from(la)
      .where(and(eq(la.orgId, orgId), eq(la.platform, platform), eq(la.workspaceId, workspace))),
  );
  return new Map(rows.map((r) => [r.userId, r.platformUserId]));
}

/** A server as the file writes it (defaults left out). */
export async function serverDecl(policy: Policy, s: McpServerRow): Promise<ServerDecl> {
  const bindings = Object.fromEntries(
    [...(await policy.bindings(s.id))]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((b) => [b.name, b.template ? { source: b.source, template: b.template } : b.source]),
  );
  const common = {
    name: s.name,
    ...(s.timeoutMs !== DEFAULT_TIMEOUT_MS ? { timeout_ms: s.timeoutMs } : {}),
    ...(s.privateResults ? { private_results: true } : {}),
    ...(Object.keys(bindings).length ? { bindings } : {}),
  };
  return s.transport === 'http'
    ? { ...common, transport: 'http', url: s.url! }
    : { ...common, transport: 'stdio', command: s.command!, ...(s.args.length ? { args: s.args } : {}) };
}

/** A rule as the file writes it: users as platform user ids, teams by name. */
function ruleDecl(r: AccessRule, server: string, who: Map<string, string>, teams: Map<string, string>): RuleDecl {
  const { roles, users, teams: ts } = r.subjects;
  return {
    [r.effect]: server,
    tools: r.tools,
    ...(roles?.length ? { roles: roles as ('admin' | 'member')[] } : {}),
    ...(users?.length ? { users: users.map((u) => who.get(u) ?? u) } : {}),
    ...(ts?.length ? { teams: ts.map((t) => teams.get(t) ?? t) } : {}),
    ...(Object.keys(r.argConstraints).length ? { args: r.argConstraints } : {}),
    ...(Object.keys(r.inject).length ? { inject: r.inject } : {}),
    ...(r.ignoreCase ? { ignore_case: true } : {}),
  } as RuleDecl;
}

/** A provider as the file writes it; its secret as the reference the file gave, or one to set. */
function providerDecl(row: Awaited<ReturnType<ProviderStore['rowsOf']>>[number], declared: unknown): ProviderDecl {
  if (declared) return declared as ProviderDecl;
  const custom = row.kind === 'oauth2' || row.kind === 'oidc';
  const extra = providerExtraSchema.parse(row.extra ?? {});
  return {
    slug: row.slug,
    preset: row.kind,
    client_id: row.clientId,
    ...(row.clientSecretSealed
      ? { client_secret: `env:${row.slug.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_CLIENT_SECRET` }
      : {}),
    ...(row.scopes.length ? { scopes: row.scopes } : {}),
    ...(row.issuer ? { issuer: row.issuer } : {}),
    ...(custom && row.kind === 'oauth2' ? { authorize_url: row.authorizeUrl, token_url: row.tokenUrl } : {}),
    ...(custom && row.revokeUrl ? { revoke_url: row.revokeUrl } : {}),
    ...(custom && row.userinfoUrl ? { userinfo_url: row.userinfoUrl } : {}),
    ...(extra.shareVendorAccounts ? { share: true } : {}),
  };
}

/** Everything an org holds now that a file can declare; an org not yet made holds nothing. */
export async function readOrg(svc: ConfigServices, platform: Platform, workspace: string): Promise<OrgState> {
  const org = await svc.identity.orgOf(platform, workspace);
  const empty = { admins: [], teams: [], providers: [], servers: [], rules: [], approvals: [] };
  if (!org) return { orgId: undefined, decl: { platform, workspace, ...empty }, ruleIds: [] };
  const who = await people(svc.store, org.id, platform, workspace);
  const u = svc.store.t.users;
  const admins = (
    await svc.store.rows(
      svc.store.db
        .select()
        .from(u)
        .where(and(eq(u.orgId, org.id), eq(u.role, 'admin'))),
    )
  )
    .flatMap((a) => (who.has(a.id) ? [who.get(a.id)!] : []))
    .sort();
  const teamRows = await svc.policy.teams.list(org.id);
  const teamNames = new Map(teamRows.map((t) => [t.team.id, t.team.name]));
  const teams: TeamDecl[] = [];
  for (const { team } of teamRows) {
    const members = (await svc.policy.teams.memberIds(team.id)).map((m) => who.get(m) ?? m).sort();
    teams.push({ name: team.name, ...(members.length ? { members } : {}) });
  }
  const owned = new Map((await svc.policy.declared.list(org.id)).map((d) => [`${d.kind} ${d.key}`, d]));
  const providers = (await svc.providers.rowsOf(org.id))
    .filter((p) => p.kind !== 'mcp')
    .map((p) => providerDecl(p, owned.get(`provider ${p.slug}`)?.detail.spec));
  const servers: ServerDecl[] = [];
  const rules: RuleDecl[] = [];
  const ruleIds: string[] = [];
  const approvals: ApprovalDecl[] = [];
  for (const s of (await svc.policy.servers(org.id)).sort((a, b) => a.name.localeCompare(b.name))) {
    servers.push(await serverDecl(svc.policy, s));
    for (const r of await svc.policy.rules(s.id)) {
      rules.push(ruleDecl(r, s.name, who, teamNames));
      ruleIds.push(r.id);
    }
    for (const a of [...(await svc.policy.approvals.of(s.id))].sort((x, y) => x.tools.localeCompare(y.tools)))
      approvals.push({ server: s.name, tools: a.tools, mode: a.mode });
  }
  // The file's rules in the file's order (`rule #n`), then those made in chat.
  const place = new Map(
    [...owned.values()].filter((d) => d.kind === 'rule').map((d) => [d.objectId, Number(d.key.slice(1))]),
  );
  const order = ruleIds
    .map((id, j) => ({ id, j, n: place.get(id) ?? Infinity }))
    .sort((a, b) => a.n - b.n || a.j - b.j);
  return {
    orgId: org.id,
    decl: { platform, workspace, admins, teams, providers, servers, rules: order.map((o) => rules[o.j]!), approvals },
    ruleIds: order.map((o) => o.id),
  };
}
