import { policyText } from '../chat/words/policy.js';
import { providerText } from '../chat/words/oauth.js';
import type { Platform } from '../identity/index.js';
import type { ProviderResult } from '../oauth/index.js';
import type { DeclaredObject, PolicyResult } from '../policy/index.js';
import { ConfigFileError } from './load.js';
import type { ApprovalDecl, ProviderDecl, RuleDecl, ServerDecl, TeamDecl } from './schema.js';
import type { ConfigServices } from './state.js';

/** Where an object is declared, for the one line a refusal stops on. */
export interface Site {
  orgId: string;
  platform: Platform;
  workspace: string;
  /** `file:line:col` of the object's declaration. */
  at: string;
}

/** A service's refusal stops the apply with the file position and the refusal in chat's words. */
function ok<R extends PolicyResult | ProviderResult>(site: Site, r: R, words: (r: R) => string): R & { ok: true } {
  if (!r.ok) throw new ConfigFileError(`${site.at}: ${words(r)}`);
  return r as R & { ok: true };
}
const policyOk = (site: Site, r: PolicyResult) => ok(site, r, policyText);
const providerOk = (site: Site, r: ProviderResult) => ok(site, r, providerText);

/** The user a platform user id of the site's workspace names, provisioned as first contact would. */
export async function personOf(svc: ConfigServices, site: Site, platformUserId: string) {
  const r = await svc.identity.resolve({
    platform: site.platform,
    workspaceId: site.workspace,
    userId: platformUserId,
  });
  return r.user;
}

/** Makes the person an admin; returns their user id. */
export async function makeAdmin(svc: ConfigServices, site: Site, who: string): Promise<string> {
  const u = await personOf(svc, site, who);
  await svc.identity.setRole(site.orgId, u.id, 'admin');
  return u.id;
}

/** Creates the team if missing and makes its members exactly those declared. */
export async function putTeam(svc: ConfigServices, site: Site, t: TeamDecl): Promise<void> {
  const { teams } = svc.policy;
  if (!(await teams.find(site.orgId, t.name))) policyOk(site, await svc.policy.team(site.orgId, 'create', t.name));
  const team = (await teams.find(site.orgId, t.name))!;
  const want = new Set<string>();
  for (const m of t.members ?? []) want.add((await personOf(svc, site, m)).id);
  const have = new Set(await teams.memberIds(team.id));
  for (const id of want) if (!have.has(id)) await teams.addMember(site.orgId, team.id, id);
  for (const id of have) if (!want.has(id)) await teams.removeMember(site.orgId, team.id, id);
}

/** Creates or changes a provider to match its declaration (the secret read from its reference). */
export async function putProvider(
  svc: ConfigServices,
  site: Site,
  p: ProviderDecl,
  secret: (ref: string) => import('../crypto/index.js').Secret,
): Promise<void> {
  const input = {
    slug: p.slug,
    kind: p.preset,
    clientId: p.client_id,
    clientSecret: p.client_secret ? secret(p.client_secret) : undefined,
    scopes: p.scopes,
    issuer: p.issuer,
    authorizeUrl: p.authorize_url,
    tokenUrl: p.token_url,
    revokeUrl: p.revoke_url,
    userinfoUrl: p.userinfo_url,
  };
  const exists = await svc.providers.get(site.orgId, p.slug);
  providerOk(site, exists ? await svc.providers.update(site.orgId, input) : await svc.providers.add(site.orgId, input));
  await svc.providers.setExtra(site.orgId, p.slug, { shareVendorAccounts: p.share ?? false });
}

/** Creates or changes a server, its settings and exactly its declared bindings. */
export async function putServer(svc: ConfigServices, site: Site, s: ServerDecl): Promise<void> {
  const { policy } = svc;
  const input =
    s.transport === 'http'
      ? { name: s.name, transport: 'http' as const, url: s.url, timeoutMs: s.timeout_ms }
      : { name: s.name, transport: 'stdio' as const, command: s.command, args: s.args ?? [], timeoutMs: s.timeout_ms };
  const exists = await policy.server(site.orgId, s.name);
  const from = { source: 'operator' as const };
  policyOk(
    site,
    exists ? await policy.updateServer(site.orgId, input, from) : await policy.addServer(site.orgId, input, from),
  );
  const row = (await policy.server(site.orgId, s.name))!;
  const target = s.transport === 'http' ? 'header' : 'env';
  const want = Object.entries(s.bindings ?? {}).map(([name, b]) => ({
    name,
    ...(typeof b === 'string' ? { source: b } : b),
  }));
  for (const b of await policy.bindings(row.id))
    if (b.target !== target || !want.some((w) => w.name === b.name))
      policyOk(site, await policy.unbind(site.orgId, s.name, b.target, b.name));
  for (const b of want) policyOk(site, await policy.bind(site.orgId, s.name, target, b.name, b.source, b.template));
  if (row.privateResults !== (s.private_results ?? false))
    policyOk(site, await policy.setServer(site.orgId, s.name, { privateResults: s.private_results ?? false }));
}

/** Adds a rule (users given as platform user ids of the workspace); returns its id. */
export async function addRule(svc: ConfigServices, site: Site, r: RuleDecl): Promise<string> {
  const users: string[] = [];
  for (const u of r.users ?? []) users.push((await personOf(svc, site, u)).id);
  const effect = r.allow !== undefined ? 'allow' : 'deny';
  const res = policyOk(
    site,
    await svc.policy.rule(site.orgId, effect, (r.allow ?? r.deny)!, {
      tools: r.tools,
      roles: r.roles,
      users: users.length ? users : undefined,
      teams: r.teams,
      args: r.args,
      inject: r.inject,
      ignoreCase: r.ignore_case,
    }),
  );
  return res.value.kind === 'rule_added' ? res.value.id : '';
}

export async function putApproval(svc: ConfigServices, site: Site, a: ApprovalDecl): Promise<void> {
  policyOk(site, await svc.policy.approve(site.orgId, a.server, a.tools, a.mode));
}

/** Removes what a file once declared and no longer does. */
export async function removeOwned(svc: ConfigServices, d: DeclaredObject): Promise<void> {
  const { policy } = svc;
  if (d.kind === 'admin' && d.objectId) await svc.identity.setRole(d.orgId, d.objectId, 'member');
  if (d.kind === 'team' && (await policy.teams.find(d.orgId, d.key))) await policy.team(d.orgId, 'delete', d.key);
  if (d.kind === 'provider') await svc.providers.remove(d.orgId, d.key);
  if (d.kind === 'server') await policy.removeServer(d.orgId, d.key);
  if (d.kind === 'rule' && d.objectId) await policy.removeRule(d.orgId, d.objectId);
  if (d.kind === 'approval') {
    const [server, glob] = d.key.split(' ', 2) as [string, string];
    await policy.removeApproval(d.orgId, server, glob);
  }
  await policy.declared.release(d.orgId, d.kind, d.key);
}
