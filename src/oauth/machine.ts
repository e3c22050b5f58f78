import type { McpAuthFailure } from '../db/schema/shapes.js';
import { providerExtra } from '../db/schema/index.js';
import type { OAuthDeps } from './deps.js';
import type { McpAuthorization, McpServerRef } from './mcp.js';
import type { Minted, MintedTokens } from './minted.js';
import type { ProviderRow, ProviderStore } from './providers.js';
import { failureCode, type GrantOutcome, type TokenClient } from './tokenclient.js';

/** Why no token came from an authorization server, as a value (`chat/` words it). */
export type MintFailure =
  /** No admin client for the server (`admin server auth`), or it holds neither secret nor key. */
  | { kind: 'no_client' }
  | { kind: 'not_protected' }
  | { kind: 'auth_failed'; failure: McpAuthFailure }
  /** The authorization server (or IdP) said no: `error` its code, `description` its own words. */
  | { kind: 'refused'; error: string; description?: string }
  /** Network or 5xx: try again later. */
  | { kind: 'unavailable'; detail: string };

/** A grant's outcome as a minted token or a failure. */
export function mintedOf(g: GrantOutcome): Minted | Extract<MintFailure, { kind: 'refused' | 'unavailable' }> {
  if (g.kind === 'ok') return { kind: 'minted', token: g.tokens.accessToken, expiresAt: g.tokens.expiresAt };
  if (g.kind === 'transient') return { kind: 'unavailable', detail: failureCode(g) };
  return {
    kind: 'refused',
    error: g.error,
    ...(g.kind === 'rejected' && g.description ? { description: g.description } : {}),
  };
}

/**
 * Machine credentials (source `client_credentials:<server>`): the OAuth client credentials grant
 * at the server's authorization server, as the org's client an admin registered there
 * (`client_secret_basic`/`_post` with its secret, or `private_key_jwt` signed with its key). The
 * token is cached sealed until it expires, shared by every caller the access rules let through;
 * each mint is audited under the person whose call needed it.
 */
export class MachineCredentials {
  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
    private readonly mcp: McpAuthorization,
    private readonly client: TokenClient,
    private readonly minted: MintedTokens,
  ) {}

  /** The org's token for `s`; `fresh`: the cached one was refused, mint a new one. */
  async token(orgId: string, userId: string, s: McpServerRef, fresh = false): Promise<Minted | MintFailure> {
    const pre = await this.providers.forMcpServer(orgId, s.serverId);
    if (!pre || providerExtra(pre).registration !== 'pre_registered' || !pre.clientSecretSealed)
      return { kind: 'no_client' };
    return this.minted.get({ orgId, purpose: `cc:${s.serverId}` }, () => this.#mint(orgId, userId, s), fresh);
  }

  async #mint(orgId: string, userId: string, s: McpServerRef): Promise<Minted | MintFailure> {
    const reg = await this.mcp.ensure(orgId, s, { pkce: false });
    if (reg.kind === 'not_protected') return reg;
    if (reg.kind !== 'ok') return { kind: 'auth_failed', failure: reg };
    const p = (await this.providers.forMcpServer(orgId, s.serverId)) as ProviderRow;
    const scope = p.scopes.join(' ');
    const r = mintedOf(await this.client.grant(p, { grant_type: 'client_credentials', ...(scope ? { scope } : {}) }));
    await this.d.audit.write({
      orgId,
      category: 'connection',
      action: 'machine_token',
      actorUserId: userId,
      server: s.serverName,
      outcome: r.kind === 'minted' ? 'ok' : r.kind,
      detail: {
        provider: p.slug,
        auth: providerExtra(p).tokenEndpointAuthMethod ?? 'client_secret_post',
        ...(r.kind === 'refused' ? { error: r.error } : {}),
      },
    });
    return r;
  }
}
