import type { Secret } from '../crypto/index.js';
import type { ConfigSeen } from '../db/index.js';
import { SealedValueMismatch, Secret as SecretValue } from '../crypto/index.js';
import type { TokenSource } from '../oauth/types.js';
import type { Policy } from './policy.js';
import { mintedToken, type MintedTokenSource } from './minted.js';
import type { McpServerRow } from './servers.js';
import { describeSource, headerValueOk, parseSource, type BindingSource } from './sources.js';
import type { McpAuthFailure, Problem } from '../db/schema/shapes.js';

/** What the OAuth engine offers for `mcp_oauth` bindings (optional: absent, such bindings are refused). */
export interface McpOAuthRegistrar {
  /** `kind: 'ok'` with the provider slug to ask tokens of; any other kind says why not (`reason`). */
  ensureMcpProvider(
    orgId: string,
    server: { serverId: string; serverName: string; url: string },
    /** Discover again (the server may have moved to another authorization server); throttled by the engine. */
    opts?: { recheck?: boolean },
  ): Promise<{ kind: 'ok'; providerSlug: string } | { kind: 'not_protected' } | McpAuthFailure>;
}

/** The token side the runner needs: the OAuth engine's `TokenSource`, plus MCP registration and minted tokens when available. */
export type RunnerTokens = TokenSource & Partial<McpOAuthRegistrar> & Partial<MintedTokenSource>;

/** Every bound value for one caller at one server. Values stay `Secret` until the transport is built. */
export interface ResolvedCredentials {
  env: Record<string, Secret>;
  headers: Record<string, Secret>;
  /** Source kinds used (`oauth`, `org_secret` …), for audit. */
  kinds: string[];
  /** Connection ids of the grants used, for audit. */
  connectionIds: string[];
  /** Vendor accounts the grants act as. */
  vendorAccounts: string[];
  /** Provider slugs of the per-user grants used (oauth and mcp_oauth). */
  grants: string[];
  /** Sources of tokens onbehalf minted itself (`client_credentials:conf`, `exchange:idp`), minted anew after a 401. */
  minted: string[];
  /** The org's service grants used, as their sources name them (`service:github/ci`), for audit and a forced refresh. */
  services: string[];
  /** Every secret value resolved (all sources but `static`), to redact from what the tool answers. */
  sensitive: Secret[];
}

/**
 * Whether the credentials act as the caller themselves: a grant of their own (`oauth`, `mcp_oauth`)
 * or a token exchanged for their own sign-in (`exchange:`), not a shared secret or the org's
 * machine or service identity.
 */
export const actsAsCaller = (c: Pick<ResolvedCredentials, 'grants' | 'minted'>): boolean =>
  c.grants.length > 0 || c.minted.some((m) => m.startsWith('exchange:'));

/** Why a per-user grant is not usable. */
export type ConnectReason = 'missing' | 'needs_reauth' | 'insufficient_scope';

/** Credential resolution for one caller: all present, or what is missing. */
export type Resolution =
  | { kind: 'ok'; creds: ResolvedCredentials }
  | { kind: 'needs_connect'; providerSlug: string; providerId: string; reason: ConnectReason; extraScopes?: string[] }
  /** Transient (the provider is down): retry later. */
  | { kind: 'unavailable'; problem: Problem }
  /** A configuration problem an admin must fix (`chat/` words it). */
  | { kind: 'misconfigured'; problem: Problem };

/** `forceRefresh`: grant and minted sources to refresh first; `seen`: the call's configuration version (db/config-cache.ts). */
export interface ResolveOptions {
  forceRefresh?: Set<string>;
  seen?: ConfigSeen;
}

/** Who is calling, from the verified chat payload (never from arguments). */
export interface Caller {
  orgId: string;
  userId: string;
  chat?: { platform?: string; channelId: string };
}

/**
 * Resolves every binding of `server` for this caller. A binding that needs the caller's grant
 * never falls back to a shared value: a missing grant is `needs_connect`.
 */
export async function resolveCredentials(
  policy: Policy,
  tokens: RunnerTokens,
  server: McpServerRow,
  caller: Caller,
  opts: ResolveOptions = {},
): Promise<Resolution> {
  const creds: ResolvedCredentials = {
    env: {},
    headers: {},
    kinds: [],
    connectionIds: [],
    vendorAccounts: [],
    grants: [],
    minted: [],
    services: [],
    sensitive: [],
  };
  for (const b of await policy.bindings(server.id, opts.seen)) {
    const parsed = parseSource(b.source);
    if (!parsed.ok)
      return {
        kind: 'misconfigured',
        problem: { code: 'binding_invalid', binding: b.name, server: server.name, issue: parsed.error },
      };
    const value = await valueOf(policy, tokens, server, caller, parsed.source, creds, opts);
    if (!(value instanceof SecretValue)) return value;
    if (parsed.source.kind !== 'static') creds.sensitive.push(value);
    // Literal substitution: a function replacer, so `$&`, `$'` … in a secret stay as they are.
    const filled = b.template ? new SecretValue(b.template.replace('{token}', () => value.reveal())) : value;
    if (b.target === 'header' && !headerValueOk(filled.reveal())) {
      const source = describeSource(parsed.source);
      return { kind: 'misconfigured', problem: { code: 'header_unsafe', header: b.name, server: server.name, source } };
    }
    (b.target === 'env' ? creds.env : creds.headers)[b.name] = filled;
    if (!creds.kinds.includes(parsed.source.kind)) creds.kinds.push(parsed.source.kind);
  }
  return { kind: 'ok', creds };
}

async function valueOf(
  policy: Policy,
  tokens: RunnerTokens,
  server: McpServerRow,
  caller: Caller,
  s: BindingSource,
  creds: ResolvedCredentials,
  opts: ResolveOptions,
): Promise<Secret | Exclude<Resolution, { kind: 'ok' }>> {
  switch (s.kind) {
    case 'static':
      return new SecretValue(s.value);
    case 'org_secret':
    case 'user_secret':
    case 'team_secret':
      return storedSecret(policy, server, caller, s);
    case 'oauth':
      return grant(tokens, caller, s.provider, creds, opts);
    case 'mcp_oauth':
      return mcpOAuthGrant(tokens, server, caller, creds, opts);
    case 'client_credentials':
    case 'exchange':
      return mintedToken(tokens, server, caller, s, creds, opts.forceRefresh);
    case 'service':
      return serviceGrant(tokens, caller, s, creds, opts);
  }
}

/**
 * The org's service grant a `service:` binding names: used for everyone the access rules let through,
 * asked for by name only (a person's missing grant never reaches here). Missing or dead, the call
 * stops with one line for the caller; the admins were told when it died.
 */
async function serviceGrant(
  tokens: RunnerTokens,
  caller: Caller,
  s: Extract<BindingSource, { kind: 'service' }>,
  creds: ResolvedCredentials,
  opts: ResolveOptions,
): Promise<Secret | Exclude<Resolution, { kind: 'ok' }>> {
  const key = describeSource(s);
  const need = { provider: s.provider, name: s.name };
  if (!tokens.serviceTokenFor) return { kind: 'misconfigured', problem: { code: 'service_grant_missing', ...need } };
  const r = await tokens.serviceTokenFor(caller.orgId, s.provider, s.name, {
    forceRefresh: opts.forceRefresh?.has(key) ?? false,
  });
  switch (r.kind) {
    case 'ok':
      creds.connectionIds.push(r.connectionId);
      if (r.vendorAccount) creds.vendorAccounts.push(r.vendorAccount);
      creds.services.push(key);
      return r.token;
    case 'missing':
      return { kind: 'misconfigured', problem: { code: 'service_grant_missing', ...need } };
    case 'needs_reauth':
      return { kind: 'misconfigured', problem: { code: 'service_grant_dead', ...need } };
    case 'unknown_provider':
      return { kind: 'misconfigured', problem: { code: 'unknown_provider', provider: r.providerSlug } };
    case 'unavailable':
      return { kind: 'unavailable', problem: { code: 'provider_unreachable', provider: r.providerSlug } };
    default:
      return { kind: 'misconfigured', problem: { code: 'token_store', provider: s.provider } };
  }
}

/** The org, user or team secret a binding names (the team: the channel's, else the caller's only one). */
async function storedSecret(
  policy: Policy,
  server: McpServerRow,
  caller: Caller,
  s: Extract<BindingSource, { kind: 'org_secret' | 'user_secret' | 'team_secret' }>,
): Promise<Secret | Exclude<Resolution, { kind: 'ok' }>> {
  const need = { name: s.name, server: server.name };
  if (s.kind === 'org_secret') return secretValue(policy, caller.orgId, { ...need, scope: 'org' }, caller.orgId);
  if (s.kind === 'user_secret') return secretValue(policy, caller.orgId, { ...need, scope: 'user' }, caller.userId);
  const t = await policy.teams.resolve(caller.orgId, caller.userId, caller.chat);
  if (t.kind === 'error') return { kind: 'misconfigured', problem: { code: 'team', ...need, team: t.problem } };
  return secretValue(policy, caller.orgId, { ...need, scope: 'team', team: t.team.name }, t.team.id);
}

/** MCP-spec OAuth: the provider registered for this server (discovered once per org), then the caller's grant there. */
async function mcpOAuthGrant(
  tokens: RunnerTokens,
  server: McpServerRow,
  caller: Caller,
  creds: ResolvedCredentials,
  opts: ResolveOptions,
): Promise<Secret | Exclude<Resolution, { kind: 'ok' }>> {
  if (!tokens.ensureMcpProvider || !server.url)
    return { kind: 'misconfigured', problem: { code: 'mcp_oauth_unsupported', server: server.name } };
  const ref = { serverId: server.id, serverName: server.name, url: server.url };
  const reg = await tokens.ensureMcpProvider(caller.orgId, ref);
  if (reg.kind !== 'ok') {
    const problem: Problem =
      reg.kind === 'not_protected'
        ? { code: 'mcp_not_protected', server: server.name }
        : { code: 'mcp_auth_failed', server: server.name, kind: reg.kind, failure: reg };
    return { kind: 'misconfigured', problem };
  }
  const r = await grant(tokens, caller, reg.providerSlug, creds, opts);
  // The caller is about to be sent to authorize: first make sure the client fits the server's
  // authorization server today (a server that moved to another one needs a client of that issuer).
  if (!(r instanceof SecretValue) && r.kind === 'needs_connect')
    await tokens.ensureMcpProvider(caller.orgId, ref, { recheck: true });
  return r;
}

/** A stored secret, or why not; a value sealed for another owner is never used. */
async function secretValue(
  policy: Policy,
  orgId: string,
  need: { scope: 'org' | 'team' | 'user'; name: string; server: string; team?: string },
  scopeId: string,
): Promise<Secret | Exclude<Resolution, { kind: 'ok' }>> {
  const r = await policy.secrets.read(orgId, need.scope, scopeId, need.name);
  if (r.kind === 'ok') return r.value;
  if (r.kind === 'missing') return { kind: 'misconfigured', problem: { code: 'secret_missing', ...need } };
  const { scope, name, server } = need;
  const code = r.error instanceof SealedValueMismatch ? 'secret_moved' : 'secret_keys';
  return { kind: 'misconfigured', problem: { code, scope, name, server } };
}

async function grant(
  tokens: RunnerTokens,
  caller: Caller,
  slug: string,
  creds: ResolvedCredentials,
  opts: ResolveOptions,
): Promise<Secret | Exclude<Resolution, { kind: 'ok' }>> {
  const r = await tokens.accessTokenFor(caller.orgId, caller.userId, slug, {
    forceRefresh: opts.forceRefresh?.has(slug) ?? false,
    configSeen: opts.seen,
  });
  switch (r.kind) {
    case 'ok':
      creds.connectionIds.push(r.connectionId);
      if (r.vendorAccount) creds.vendorAccounts.push(r.vendorAccount);
      creds.grants.push(slug);
      return r.token;
    case 'missing':
      return { kind: 'needs_connect', providerSlug: r.providerSlug, providerId: r.providerId, reason: 'missing' };
    case 'needs_reauth':
      return { kind: 'needs_connect', providerSlug: r.providerSlug, providerId: r.providerId, reason: 'needs_reauth' };
    case 'unknown_provider':
      return { kind: 'misconfigured', problem: { code: 'unknown_provider', provider: r.providerSlug } };
    case 'unavailable':
      return { kind: 'unavailable', problem: { code: 'provider_unreachable', provider: r.providerSlug } };
    default: {
      // `insufficient_scope` (newer engines): the grant lacks scopes; reconnect with the union.
      const o = r as { kind: string; providerSlug?: string; providerId?: string; missingScopes?: string[] };
      if (o.kind === 'insufficient_scope' && o.providerSlug && o.providerId) {
        return {
          kind: 'needs_connect',
          providerSlug: o.providerSlug,
          providerId: o.providerId,
          reason: 'insufficient_scope',
          extraScopes: o.missingScopes ?? [],
        };
      }
      return { kind: 'misconfigured', problem: { code: 'token_store', provider: slug } };
    }
  }
}
