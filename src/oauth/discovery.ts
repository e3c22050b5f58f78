import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  AuthorizationServerMetadata,
  OAuthProtectedResourceMetadata,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { checkResourceAllowed, resourceUrlFromServerUrl } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import type { McpAuthFailure } from '../db/schema/shapes.js';
import { RefusedUrlError, refusalOf, type NetGuard } from '../net/index.js';

export type FetchLike = ReturnType<NetGuard['fetch']>;

/** What discovery found: the authorization server, its metadata, the resource and the scopes to ask for. */
export interface Found {
  asUrl: string;
  meta: AuthorizationServerMetadata;
  revokeUrl: string | null;
  /** RFC 8707 `resource` of authorization and token requests; null for a server without resource metadata (2025-03-26). */
  resource: string | null;
  /** Scopes the first authorization asks for; empty: the `scope` parameter is omitted. */
  scopes: string[];
}

/** What a client without a token learns from the server: it is open, or its 401 challenge. */
export type Probe = { kind: 'open' } | { kind: 'challenge'; metadataUrl: URL | undefined; scope: string | undefined };

export const discoveryFailed = (
  cause: Extract<McpAuthFailure, { kind: 'discovery_failed' }>['cause'],
  detail?: string,
) => ({
  kind: 'discovery_failed' as const,
  cause,
  ...(detail === undefined ? {} : { detail: detail.slice(0, 200) }),
});

const PROTOCOL = '2025-06-18';
const rpc = (id: number | undefined, method: string, params: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: '2.0', ...(id === undefined ? {} : { id }), method, params });
const INIT = rpc(0, 'initialize', {
  protocolVersion: PROTOCOL,
  capabilities: {},
  clientInfo: { name: 'onbehalf-discovery', version: '1' },
});

/**
 * Speaks to the server as a client without a token would. A server may let `initialize` through
 * and protect only what follows, so an answered `initialize` is followed by `tools/list`.
 */
export async function probe(url: string, fetchFn: FetchLike): Promise<Probe> {
  const post = async (body: string, session?: string | null) => {
    const res = await fetchFn(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL } : {}),
      },
      body,
    });
    await res.arrayBuffer();
    return res;
  };
  let res = await post(INIT);
  if (res.ok) {
    const session = res.headers.get('mcp-session-id');
    await post(rpc(undefined, 'notifications/initialized'), session);
    res = await post(rpc(1, 'tools/list'), session);
    // The session served only to look: end it (a server may not support that; it does not matter).
    if (session)
      await fetchFn(url, { method: 'DELETE', headers: { 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL } })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
  }
  if (res.status !== 401) return { kind: 'open' };
  const p = extractWWWAuthenticateParams(res);
  return { kind: 'challenge', metadataUrl: p.resourceMetadataUrl, scope: p.scope };
}

/**
 * RFC 9728 then RFC 8414/OIDC: the server's authorization server, checked for PKCE, issuer and
 * public endpoints. A server without resource metadata is taken as the 2025-03-26 spec has it:
 * its origin is the authorization server, with default endpoints when that has no metadata either.
 */
export async function discover(
  net: NetGuard,
  serverUrl: string,
  challenge: Extract<Probe, { kind: 'challenge' }>,
  fetchFn: FetchLike,
  pkce = true,
): Promise<Found | McpAuthFailure> {
  const prm = await protectedResource(serverUrl, challenge.metadataUrl, fetchFn);
  // RFC 9728 §3.3: metadata for another resource must not be used.
  if (
    prm &&
    !checkResourceAllowed({ requestedResource: resourceUrlFromServerUrl(serverUrl), configuredResource: prm.resource })
  )
    return discoveryFailed('other_resource', prm.resource);
  const asUrl = prm ? prm.authorization_servers?.[0] : new URL('/', serverUrl).href;
  if (!asUrl) return discoveryFailed('no_authorization_server');
  const asCheck = net.checkUrl(asUrl);
  if (!asCheck.ok) return { kind: 'refused_url', at: 'authorization_server', refusal: refusalOf(asCheck) };
  const meta = (await asMetadata(asUrl, fetchFn, pkce)) ?? (prm ? undefined : defaultEndpoints(asUrl));
  if (!meta) return discoveryFailed('no_metadata');
  if (!issuerMatches(meta.issuer, asUrl, prm !== undefined)) return discoveryFailed('other_issuer');
  if (pkce && !meta.code_challenge_methods_supported?.includes('S256')) return { kind: 'no_pkce' };
  const revocation = (meta as Record<string, unknown>)['revocation_endpoint'];
  const revokeUrl = typeof revocation === 'string' ? revocation : null;
  for (const u of [meta.authorization_endpoint, meta.token_endpoint, meta.registration_endpoint, revokeUrl]) {
    if (!u) continue;
    const c = net.checkUrl(u);
    if (!c.ok) return { kind: 'refused_url', at: 'endpoint', refusal: refusalOf(c) };
  }
  return { asUrl, meta, revokeUrl, resource: prm?.resource ?? null, scopes: scopesToRequest(challenge, prm, meta) };
}

/**
 * RFC 8414/OIDC metadata. RFC 8414 §2 makes `authorization_endpoint` optional for a server that
 * issues tokens only by grants without one (client credentials, JWT bearer), which the SDK's
 * schema refuses: for such a use (`pkce` false) the document is read again needing only the issuer
 * and token endpoint.
 */
async function asMetadata(
  asUrl: string,
  fetchFn: FetchLike,
  pkce: boolean,
): Promise<AuthorizationServerMetadata | undefined> {
  try {
    return await discoverAuthorizationServerMetadata(asUrl, { fetchFn });
  } catch (err) {
    if (pkce || err instanceof RefusedUrlError) throw err;
    const u = new URL(asUrl);
    const path = u.pathname.replace(/\/+$/, '');
    for (const wk of ['oauth-authorization-server', 'openid-configuration']) {
      const res = await fetchFn(new URL(`/.well-known/${wk}${path}`, u.origin).href, {
        headers: { accept: 'application/json' },
      });
      const doc = res.ok ? ((await res.json().catch(() => ({}))) as Record<string, unknown>) : {};
      if (typeof doc['issuer'] === 'string' && typeof doc['token_endpoint'] === 'string')
        return {
          response_types_supported: [],
          authorization_endpoint: '',
          ...doc,
        } as unknown as AuthorizationServerMetadata;
    }
    throw err;
  }
}

/**
 * RFC 8414 §3.3: the issuer is the URL the metadata was asked of. A server of the 2025-03-26 spec
 * serves it at its origin for an issuer that may carry a path, but never for another origin.
 */
function issuerMatches(issuer: string, asUrl: string, named: boolean): boolean {
  if (named) return issuer.replace(/\/+$/, '') === asUrl.replace(/\/+$/, '');
  return URL.canParse(issuer) && new URL(issuer).origin === new URL(asUrl).origin;
}

/**
 * The resource metadata, or undefined when the server publishes none. A URL named by the challenge
 * must answer; without one, a failed lookup means a server of the 2025-03-26 spec.
 */
async function protectedResource(
  serverUrl: string,
  metadataUrl: URL | undefined,
  fetchFn: FetchLike,
): Promise<OAuthProtectedResourceMetadata | undefined> {
  try {
    return await discoverOAuthProtectedResourceMetadata(serverUrl, { resourceMetadataUrl: metadataUrl }, fetchFn);
  } catch (err) {
    if (metadataUrl || err instanceof RefusedUrlError) throw err;
    return undefined;
  }
}

/** 2025-03-26 §2.3.3: without metadata, the endpoints are `/authorize`, `/token` and `/register` at the origin; PKCE is mandatory there. */
function defaultEndpoints(origin: string): AuthorizationServerMetadata {
  const at = (p: string) => new URL(p, origin).href;
  return {
    issuer: origin,
    authorization_endpoint: at('/authorize'),
    token_endpoint: at('/token'),
    registration_endpoint: at('/register'),
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
  };
}

/**
 * The MCP scope selection strategy: the challenge's `scope`, else the resource's
 * `scopes_supported`, else none (the parameter is omitted). `offline_access` is added only when
 * the authorization server lists it, so a refresh token can be issued.
 */
export function scopesToRequest(
  challenge: { scope: string | undefined },
  prm: Pick<OAuthProtectedResourceMetadata, 'scopes_supported'> | undefined,
  meta: Pick<AuthorizationServerMetadata, 'scopes_supported'>,
): string[] {
  const chosen = challenge.scope?.split(/\s+/).filter(Boolean) ?? prm?.scopes_supported ?? [];
  if (chosen.length && meta.scopes_supported?.includes('offline_access') && !chosen.includes('offline_access'))
    return [...chosen, 'offline_access'];
  return [...chosen];
}
