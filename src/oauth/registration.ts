import { registerClient } from '@modelcontextprotocol/sdk/client/auth.js';
import type { AuthorizationServerMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { and, eq } from 'drizzle-orm';
import { Secret } from '../crypto/index.js';
import { newId } from '../db/index.js';
import { providerExtra } from '../db/schema/index.js';
import type { McpAuthFailure } from '../db/schema/shapes.js';
import { RefusedUrlError, upstreamDetail, type NetGuard } from '../net/index.js';
import { redirectUriOf } from './authorize.js';
import type { OAuthDeps } from './deps.js';
import type { Found } from './discovery.js';
import type { ProviderRow, ProviderStore } from './providers.js';
import type { ProviderResult } from './results.js';

/** Where onbehalf serves its OAuth client metadata document (CIMD), under `PUBLIC_URL`. */
export const CLIENT_METADATA_PATH = '/oauth/client.json';

export type { Found };

/** How onbehalf is known to one authorization server. */
interface Client {
  how: 'pre_registered' | 'metadata_document' | 'dcr' | 'same_issuer';
  clientId: string;
  secret: Secret | undefined;
  /** RFC 7591 `token_endpoint_auth_method`. */
  authMethod: string;
}

type Failure = Extract<McpAuthFailure, { kind: 'refused_url' | 'registration_failed' }>;
type FetchLike = ReturnType<NetGuard['fetch']>;

/** The `mcp` provider slug of an MCP server, from its name. */
export const mcpSlugOf = (serverName: string) =>
  `mcp-${serverName.toLowerCase().replace(/[^a-z0-9_-]/g, '-')}`.slice(0, 40);

/** The URL used as `client_id` where an authorization server accepts CIMD: `ONBEHALF_CLIENT_METADATA_URL` or ours. */
export const clientMetadataUrlOf = (d: Pick<OAuthDeps, 'publicUrl' | 'clientMetadataUrl'>) =>
  d.clientMetadataUrl ?? `${d.publicUrl}${CLIENT_METADATA_PATH}`;

/**
 * onbehalf's client metadata document (draft-ietf-oauth-client-id-metadata-document): a public
 * client, PKCE only, redirecting to `PUBLIC_URL/oauth/callback`.
 */
export function clientMetadataDocument(d: Pick<OAuthDeps, 'publicUrl' | 'clientMetadataUrl'>) {
  return {
    client_id: clientMetadataUrlOf(d),
    client_name: 'onbehalf',
    client_uri: d.publicUrl,
    redirect_uris: [redirectUriOf(d.publicUrl)],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'web',
  };
}

/**
 * The token endpoint auth method of a client holding a secret: the registered one where the
 * server accepts it, else `client_secret_basic` (RFC 8414's default when none is listed), else
 * `client_secret_post`. A client without a secret uses `none`.
 */
export function authMethodFor(meta: AuthorizationServerMetadata, hasSecret: boolean, registered?: string): string {
  if (!hasSecret) return 'none';
  const listed = meta.token_endpoint_auth_methods_supported;
  if (registered && registered !== 'none' && (!listed || listed.includes(registered))) return registered;
  if (!listed || listed.includes('client_secret_basic')) return 'client_secret_basic';
  return 'client_secret_post';
}

/** The authorization grant profiles a server lists (draft-ietf-oauth-identity-assertion-authz-grant). */
const profilesOf = (meta: AuthorizationServerMetadata) => {
  const v = (meta as Record<string, unknown>)['authorization_grant_profiles_supported'];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
};

const isHttps = (u: string) => {
  try {
    return new URL(u).protocol === 'https:';
  } catch {
    return false;
  }
};

/**
 * Client registration with an MCP server's authorization server, in this order: credentials an
 * admin gave for the server; onbehalf's metadata document URL where the server advertises
 * `client_id_metadata_document_supported` (https only, as the spec requires of that URL); a
 * registration stored for the same issuer; RFC 7591 dynamic registration.
 */
export class McpClientRegistration {
  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
  ) {}

  /** An admin's client id for an MCP server, stored as its (not yet discovered) `mcp` provider. */
  async preRegister(
    orgId: string,
    s: { serverId: string; serverName: string },
    clientId: string,
    opts: { privateKey?: boolean } = {},
  ): Promise<ProviderResult> {
    if (!clientId || clientId.length > 512 || /\s/.test(clientId))
      return { ok: false, error: { kind: 'missing_endpoint', need: 'client_id' } };
    const slug = mcpSlugOf(s.serverName);
    await this.d.store.tx(async (tx) => {
      const t = tx.t.oauthProviders;
      // The old registration's grants were issued to another client: they go with it (delete and
      // insert in one transaction, so the server is never left without its row, nor with two).
      await tx.changes(tx.db.delete(t).where(and(eq(t.orgId, orgId), eq(t.mcpServerId, s.serverId))));
      await tx.changes(
        tx.db.insert(t).values({
          id: newId(),
          orgId,
          slug,
          kind: 'mcp',
          displayName: s.serverName,
          clientId,
          authorizeUrl: '',
          tokenUrl: '',
          mcpServerId: s.serverId,
          extra: {
            registration: 'pre_registered',
            ...(opts.privateKey ? { tokenEndpointAuthMethod: 'private_key_jwt' } : {}),
          },
        }),
      );
    });
    return { ok: true, value: { kind: 'mcp_client_set', slug, server: s.serverName } };
  }

  /**
   * Stores the client of an MCP server's `mcp` provider: completes a pre-registered row or inserts
   * one. A client belongs to the issuer it was obtained from: the server's row keeps it while
   * discovery finds the same issuer, and a server now behind another authorization server gets a
   * client of that issuer (shared with other servers behind it, else registered anew). Only an
   * admin's pre-registered client stays with the server whatever its issuer.
   */
  async register(
    orgId: string,
    s: { serverId: string; serverName: string },
    f: Found,
    fetchFn: FetchLike,
  ): Promise<{ id: string; slug: string; registered: boolean } | Failure> {
    const { meta, revokeUrl, scopes } = f;
    const pre = await this.providers.forMcpServer(orgId, s.serverId);
    const client = await this.#clientFor(orgId, pre, f, fetchFn);
    if (client === 'kept') return { id: pre!.id, slug: pre!.slug, registered: false };
    if ('kind' in client) return client;
    const id = pre?.id ?? newId();
    const slug = pre?.slug ?? mcpSlugOf(s.serverName);
    const row = {
      clientId: client.clientId,
      clientSecretSealed: client.secret?.reveal()
        ? this.providers.sealSecret({ id, orgId, slug }, client.secret)
        : null,
      scopes,
      issuer: meta.issuer,
      authorizeUrl: meta.authorization_endpoint,
      tokenUrl: meta.token_endpoint,
      revokeUrl,
      resource: f.resource,
      extra: discoveredExtra(meta, client),
    };
    const store = this.d.store;
    const t = store.t.oauthProviders;
    // Settings an admin made on the row (e.g. shared vendor accounts) stay; the client's fields are new.
    if (pre)
      await store.changes(
        store.db
          .update(t)
          .set({ ...row, extra: { ...providerExtra(pre), ...row.extra } })
          .where(eq(t.id, id)),
      );
    else
      await store.changes(
        store.db.insert(t).values({
          id,
          orgId,
          slug,
          kind: 'mcp',
          displayName: s.serverName,
          userinfoUrl: null,
          mcpServerId: s.serverId,
          ...row,
        }),
      );
    return { id, slug, registered: true };
  }

  /** The admin's client; `kept` for the server's own client of this same issuer; else one of this issuer. */
  async #clientFor(
    orgId: string,
    pre: ProviderRow | undefined,
    f: Found,
    fetchFn: FetchLike,
  ): Promise<Client | Failure | 'kept'> {
    const how = pre ? providerExtra(pre).registration : undefined;
    if (pre && how === 'pre_registered') return this.#preRegistered(pre, f.meta);
    if (pre?.tokenUrl && pre.issuer === f.meta.issuer) return 'kept';
    return this.#client(orgId, f, f.scopes, fetchFn);
  }

  #preRegistered(p: ProviderRow, meta: AuthorizationServerMetadata): Client {
    const secret = this.providers.clientSecret(p);
    // An admin's private key stays a key: it signs assertions (private_key_jwt) and is never sent.
    const keyed = providerExtra(p).tokenEndpointAuthMethod === 'private_key_jwt';
    const authMethod = keyed ? 'private_key_jwt' : authMethodFor(meta, !!secret);
    return { how: 'pre_registered', clientId: p.clientId, secret, authMethod };
  }

  async #client(orgId: string, f: Found, scopes: string[], fetchFn: FetchLike): Promise<Client | Failure> {
    const cimd = clientMetadataUrlOf(this.d);
    if (f.meta.client_id_metadata_document_supported === true && isHttps(cimd))
      return { how: 'metadata_document', clientId: cimd, secret: undefined, authMethod: 'none' };
    const same = await this.#sameIssuer(orgId, f.meta.issuer);
    if (same) return same;
    if (!f.meta.registration_endpoint) return { kind: 'registration_failed', cause: 'not_offered' };
    return this.#dcr(f, scopes, fetchFn);
  }

  /** A client this org registered by DCR with the same issuer (same redirect URI): registered once per issuer. */
  async #sameIssuer(orgId: string, issuer: string): Promise<Client | undefined> {
    const s = this.d.store;
    const t = s.t.oauthProviders;
    const rows = await s.rows(
      s.db
        .select()
        .from(t)
        .where(and(eq(t.orgId, orgId), eq(t.kind, 'mcp'), eq(t.issuer, issuer))),
    );
    const p = rows.find((r) => ['dcr', 'same_issuer', undefined].includes(providerExtra(r).registration));
    if (!p) return undefined;
    const x = providerExtra(p);
    return {
      how: 'same_issuer',
      clientId: p.clientId,
      secret: this.providers.clientSecret(p),
      authMethod: x.tokenEndpointAuthMethod ?? 'client_secret_post',
    };
  }

  /** RFC 7591, with `application_type` (OIDC Registration) and the auth method the server lists. */
  async #dcr(f: Found, scopes: string[], fetchFn: FetchLike): Promise<Client | Failure> {
    const listed = f.meta.token_endpoint_auth_methods_supported;
    const asked = !listed || listed.includes('client_secret_post') ? 'client_secret_post' : listed[0]!;
    try {
      const c = await registerClient(f.asUrl, {
        metadata: f.meta,
        clientMetadata: {
          client_name: 'onbehalf',
          redirect_uris: [redirectUriOf(this.d.publicUrl)],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: asked,
          application_type: 'web',
        } as Parameters<typeof registerClient>[1]['clientMetadata'],
        ...(scopes.length ? { scope: scopes.join(' ') } : {}),
        fetchFn,
      });
      const secret = c.client_secret ? new Secret(c.client_secret) : undefined;
      return {
        how: 'dcr',
        clientId: c.client_id,
        secret,
        authMethod: secret ? (c.token_endpoint_auth_method ?? asked) : 'none',
      };
    } catch (err) {
      if (err instanceof RefusedUrlError) return { kind: 'refused_url', at: 'request', refusal: err.refusal };
      return { kind: 'registration_failed', cause: 'refused', detail: upstreamDetail(err) };
    }
  }
}

/** What a discovered client's provider row keeps of the authorization server's metadata. */
function discoveredExtra(meta: Found['meta'], client: Client) {
  return {
    discovered: true,
    registration: client.how,
    pkceMethods: meta.code_challenge_methods_supported,
    tokenEndpointAuthMethod: client.authMethod,
    signingAlgs: meta.token_endpoint_auth_signing_alg_values_supported,
    grantTypes: meta.grant_types_supported,
    grantProfiles: profilesOf(meta),
    issParameterSupported: (meta as Record<string, unknown>)['authorization_response_iss_parameter_supported'] === true,
  };
}
