import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractResourceMetadataUrl,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { checkResourceAllowed, resourceUrlFromServerUrl } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import type { McpAuthFailure } from '../db/schema/shapes.js';
import { RefusedUrlError, refusalOf, type NetGuard } from '../net/index.js';
import { McpClientRegistration, type Found } from './registration.js';
import { defaults, withDefaults, type OAuthDeps } from './deps.js';
import { RedisLock } from '../redis/index.js';
import type { ProviderStore } from './providers.js';

/** The MCP server a per-user grant is wanted for. */
export interface McpServerRef {
  serverId: string;
  serverName: string;
  url: string;
}

/** Outcome of `ensureMcpProvider`: the provider slug to use, or why MCP-spec OAuth cannot be used. */
export type McpProviderResult =
  | { kind: 'ok'; providerSlug: string; providerId: string; registered: boolean }
  /** The server answered without asking for a token. */
  | { kind: 'not_protected' }
  /**
   * A URL refused by the SSRF guard, discovery metadata missing or inconsistent, no PKCE S256, or
   * dynamic client registration not offered or refused (db/schema/shapes.ts `McpAuthFailure`).
   */
  | McpAuthFailure;

/** A refusal of the network guard, as a result; undefined for any other error. */
const refused = (err: unknown) =>
  err instanceof RefusedUrlError
    ? { kind: 'refused_url' as const, at: 'request' as const, refusal: err.refusal }
    : undefined;

const discoveryFailed = (cause: Extract<McpAuthFailure, { kind: 'discovery_failed' }>['cause'], detail?: string) => ({
  kind: 'discovery_failed' as const,
  cause,
  ...(detail === undefined ? {} : { detail: detail.slice(0, 200) }),
});

type FetchLike = ReturnType<NetGuard['fetch']>;

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'onbehalf-discovery', version: '1' } },
});

/**
 * MCP authorization (source `mcp_oauth`): RFC 9728 protected resource metadata, RFC 8414/OIDC
 * authorization server metadata, and RFC 7591 registration once per org and server.
 */
export class McpAuthorization {
  readonly #lock: RedisLock;
  readonly #registration: McpClientRegistration;

  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
  ) {
    this.#lock = new RedisLock(d.redis);
    this.#registration = new McpClientRegistration(d, providers);
  }

  /** An admin's client id for a server, stored until discovery completes it (registration.ts). */
  preRegister(orgId: string, s: Omit<McpServerRef, 'url'>, clientId: string) {
    return this.#registration.preRegister(orgId, s, clientId);
  }

  /** The slug of the `mcp` provider for this server, discovering and registering on first use. */
  async ensure(orgId: string, s: McpServerRef): Promise<McpProviderResult> {
    const known = this.#ready(orgId, s.serverId);
    if (known) return { kind: 'ok', providerSlug: known.slug, providerId: known.id, registered: false };
    const parsed = await this.d.net.checkTarget(s.url);
    if (!parsed.ok) return { kind: 'refused_url', at: 'server', refusal: refusalOf(parsed) };
    // Two users at once must not register two clients: single flight per org and server.
    const key = `onbehalf:oauth:dcr:${orgId}:${s.serverId}`;
    const deadline = Date.now() + withDefaults(this.d.options).lockWaitMs;
    while (Date.now() < deadline) {
      const owner = await this.#lock.acquire(key, 30_000);
      if (!owner) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      try {
        const again = this.#ready(orgId, s.serverId);
        if (again) return { kind: 'ok', providerSlug: again.slug, providerId: again.id, registered: false };
        return await this.#discoverAndRegister(orgId, s);
      } finally {
        await this.#lock.release(key, owner).catch(() => undefined);
      }
    }
    return discoveryFailed('busy');
  }

  /** The server's `mcp` provider once discovered (a pre-registered client waits for its first discovery). */
  #ready(orgId: string, serverId: string) {
    const p = this.providers.forMcpServer(orgId, serverId);
    return p?.tokenUrl ? p : undefined;
  }

  async #discoverAndRegister(orgId: string, s: McpServerRef): Promise<McpProviderResult> {
    const fetchFn = this.d.net.fetch({ timeoutMs: this.d.options?.httpTimeoutMs ?? defaults.httpTimeoutMs });
    let probe: Response;
    try {
      probe = await fetchFn(s.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: INIT,
      });
      await probe.arrayBuffer();
    } catch (err) {
      return refused(err) ?? discoveryFailed('no_answer', (err as Error).message);
    }
    if (probe.status !== 401) return { kind: 'not_protected' };
    try {
      const found = await this.#discover(s, extractResourceMetadataUrl(probe), fetchFn);
      if (!('meta' in found)) return found;
      return await this.#register(orgId, s, found, fetchFn);
    } catch (err) {
      return refused(err) ?? discoveryFailed('failed', (err as Error).message);
    }
  }

  /** RFC 9728 then RFC 8414/OIDC: the server's authorization server, checked for PKCE, issuer and public endpoints. */
  async #discover(
    s: McpServerRef,
    metadataUrl: URL | undefined,
    fetchFn: FetchLike,
  ): Promise<Found | McpProviderResult> {
    const prm = await discoverOAuthProtectedResourceMetadata(s.url, { resourceMetadataUrl: metadataUrl }, fetchFn);
    // RFC 9728 §3.3: metadata for another resource must not be used.
    if (!checkResourceAllowed({ requestedResource: resourceUrlFromServerUrl(s.url), configuredResource: prm.resource }))
      return discoveryFailed('other_resource', prm.resource);
    const asUrl = prm.authorization_servers?.[0];
    if (!asUrl) return discoveryFailed('no_authorization_server');
    const asCheck = this.d.net.checkUrl(asUrl);
    if (!asCheck.ok) return { kind: 'refused_url', at: 'authorization_server', refusal: refusalOf(asCheck) };
    const meta = await discoverAuthorizationServerMetadata(asUrl, { fetchFn });
    if (!meta) return discoveryFailed('no_metadata');
    if (meta.issuer.replace(/\/+$/, '') !== asUrl.replace(/\/+$/, '')) return discoveryFailed('other_issuer');
    if (!meta.code_challenge_methods_supported?.includes('S256')) return { kind: 'no_pkce' };
    const revocation = (meta as Record<string, unknown>)['revocation_endpoint'];
    const revokeUrl = typeof revocation === 'string' ? revocation : null;
    for (const u of [meta.authorization_endpoint, meta.token_endpoint, meta.registration_endpoint, revokeUrl]) {
      if (!u) continue;
      const c = this.d.net.checkUrl(u);
      if (!c.ok) return { kind: 'refused_url', at: 'endpoint', refusal: refusalOf(c) };
    }
    return { prm, asUrl, meta, revokeUrl };
  }

  /** Registers onbehalf as a client (registration.ts) and records it. */
  async #register(orgId: string, s: McpServerRef, f: Found, fetchFn: FetchLike): Promise<McpProviderResult> {
    const r = await this.#registration.register(orgId, s, f, fetchFn);
    if ('kind' in r) return r;
    this.d.audit.write({
      orgId,
      category: 'connection',
      action: 'mcp_client_registered',
      server: s.serverName,
      outcome: 'ok',
      detail: { provider: r.slug, issuer: f.meta.issuer },
    });
    this.d.log.info(
      { server: s.serverName, provider: r.slug },
      "registered an OAuth client with the MCP server's authorization server",
    );
    return { kind: 'ok', providerSlug: r.slug, providerId: r.id, registered: true };
  }
}
