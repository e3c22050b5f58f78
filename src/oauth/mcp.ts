import { registerClient } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { Secret } from '../crypto/index.js';
import { newId } from '../db/index.js';
import { oauthProviders } from '../db/schema/index.js';
import type { McpAuthFailure } from '../db/schema/shapes.js';
import { RefusedUrlError, refusalOf } from '../net/index.js';
import { discover, discoveryFailed, probe, type FetchLike, type Found, type Probe } from './discovery.js';
import { redirectUriOf } from './authorize.js';
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

/**
 * MCP authorization (source `mcp_oauth`): RFC 9728 protected resource metadata, RFC 8414/OIDC
 * authorization server metadata, and RFC 7591 registration once per org and server.
 */
export class McpAuthorization {
  readonly #lock: RedisLock;

  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
  ) {
    this.#lock = new RedisLock(d.redis);
  }

  /** The slug of the `mcp` provider for this server, discovering and registering on first use. */
  async ensure(orgId: string, s: McpServerRef): Promise<McpProviderResult> {
    const known = this.providers.forMcpServer(orgId, s.serverId);
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
        const again = this.providers.forMcpServer(orgId, s.serverId);
        if (again) return { kind: 'ok', providerSlug: again.slug, providerId: again.id, registered: false };
        return await this.#discoverAndRegister(orgId, s);
      } finally {
        await this.#lock.release(key, owner).catch(() => undefined);
      }
    }
    return discoveryFailed('busy');
  }

  async #discoverAndRegister(orgId: string, s: McpServerRef): Promise<McpProviderResult> {
    const fetchFn = this.d.net.fetch({ timeoutMs: this.d.options?.httpTimeoutMs ?? defaults.httpTimeoutMs });
    let answer: Probe;
    try {
      answer = await probe(s.url, fetchFn);
    } catch (err) {
      return refused(err) ?? discoveryFailed('no_answer', (err as Error).message);
    }
    if (answer.kind === 'open') return { kind: 'not_protected' };
    try {
      const found = await discover(this.d.net, s.url, answer, fetchFn);
      if (!('meta' in found)) return found;
      if (!found.meta.registration_endpoint) return { kind: 'registration_failed', cause: 'not_offered' };
      return await this.#register(orgId, s, found, fetchFn);
    } catch (err) {
      return refused(err) ?? discoveryFailed('failed', (err as Error).message);
    }
  }

  /** RFC 7591: registers onbehalf as a client and stores it as this server's `mcp` provider. */
  async #register(orgId: string, s: McpServerRef, f: Found, fetchFn: FetchLike): Promise<McpProviderResult> {
    const { meta, revokeUrl, scopes } = f;
    const client = await this.#registerClient(f, scopes, fetchFn);
    if ('kind' in client) return client;
    const id = newId();
    const slug = `mcp-${s.serverName.toLowerCase().replace(/[^a-z0-9_-]/g, '-')}`.slice(0, 40);
    this.d.db
      .insert(oauthProviders)
      .values({
        id,
        orgId,
        slug,
        kind: 'mcp',
        displayName: s.serverName,
        clientId: client.client_id,
        clientSecretSealed: client.client_secret
          ? this.providers.sealSecret({ id, orgId, slug }, new Secret(client.client_secret))
          : null,
        scopes,
        issuer: meta.issuer,
        authorizeUrl: meta.authorization_endpoint,
        tokenUrl: meta.token_endpoint,
        revokeUrl,
        userinfoUrl: null,
        resource: f.resource,
        mcpServerId: s.serverId,
        extra: {
          discovered: true,
          pkceMethods: meta.code_challenge_methods_supported,
          tokenEndpointAuthMethod: client.token_endpoint_auth_method ?? 'client_secret_post',
          issParameterSupported:
            (meta as Record<string, unknown>)['authorization_response_iss_parameter_supported'] === true,
        },
      })
      .run();
    this.d.audit.write({
      orgId,
      category: 'connection',
      action: 'mcp_client_registered',
      server: s.serverName,
      outcome: 'ok',
      detail: { provider: slug, issuer: meta.issuer },
    });
    this.d.log.info(
      { server: s.serverName, provider: slug },
      "registered an OAuth client with the MCP server's authorization server",
    );
    return { kind: 'ok', providerSlug: slug, providerId: id, registered: true };
  }

  /** The RFC 7591 registration itself: onbehalf's client metadata, our redirect URI. */
  async #registerClient(
    f: Found,
    scopes: string[],
    fetchFn: FetchLike,
  ): Promise<OAuthClientInformationFull | Extract<McpProviderResult, { kind: 'refused_url' | 'registration_failed' }>> {
    try {
      return await registerClient(f.asUrl, {
        metadata: f.meta,
        clientMetadata: {
          client_name: 'onbehalf',
          redirect_uris: [redirectUriOf(this.d.publicUrl)],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
        ...(scopes.length ? { scope: scopes.join(' ') } : {}),
        fetchFn,
      });
    } catch (err) {
      return (
        refused(err) ?? { kind: 'registration_failed', cause: 'refused', detail: (err as Error).message.slice(0, 200) }
      );
    }
  }
}
