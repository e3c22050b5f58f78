import { resourceUrlFromServerUrl } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import { providerExtra } from '../db/schema/index.js';
import { mintedOf, type MintFailure } from './machine.js';
import type { McpAuthorization, McpServerRef } from './mcp.js';
import type { Minted, MintedTokens } from './minted.js';
import type { ProviderRow, ProviderStore } from './providers.js';
import type { ConnectionStore } from './store.js';
import type { TokenClient } from './tokenclient.js';
import type { TokenService } from './tokens.js';
import type { TokenResult } from './types.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ID_JAG_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';
const TYPE = {
  access: 'urn:ietf:params:oauth:token-type:access_token',
  id: 'urn:ietf:params:oauth:token-type:id_token',
  idJag: 'urn:ietf:params:oauth:token-type:id-jag',
} as const;

/** What an exchange gives: a token for this server alone, the caller's grant not usable, or why not. */
export type ExchangeResult =
  | (Minted & { connectionId: string; vendorAccount: string | null })
  | Exclude<TokenResult, { kind: 'ok' }>
  /** The IdP (`by: 'idp'`) or the server's authorization server (`'server'`) refused: never a fallback. */
  | { kind: 'denied'; by: 'idp' | 'server'; providerSlug: string; error: string; description?: string }
  /** The server takes an ID-JAG, but the caller's grant holds no ID token (not an OIDC sign-in). */
  | { kind: 'no_id_token'; providerSlug: string }
  | Extract<MintFailure, { kind: 'auth_failed' | 'unavailable' }>;

/**
 * Token exchange (source `exchange:<provider>`): the caller's grant at an IdP becomes, per MCP
 * server, a token whose audience is that server, and only that token is sent there (no
 * passthrough). Where the server's authorization server takes the JWT bearer grant (the ID-JAG
 * profile), the ID token is exchanged at the IdP for an ID-JAG and that is presented to the
 * server's authorization server by onbehalf's client there; else the IdP's RFC 8693 exchange
 * names the server as `audience` and `resource`. Cached sealed per caller and server until expiry.
 */
export class TokenExchange {
  constructor(
    private readonly providers: ProviderStore,
    private readonly conns: ConnectionStore,
    private readonly tokens: TokenService,
    private readonly mcp: McpAuthorization,
    private readonly client: TokenClient,
    private readonly minted: MintedTokens,
  ) {}

  /** A token for `s` from the caller's grant at `providerSlug`; `fresh`: the cached one was refused. */
  async token(orgId: string, userId: string, providerSlug: string, s: McpServerRef, fresh = false) {
    const subject = await this.tokens.accessTokenFor(orgId, userId, providerSlug);
    if (subject.kind !== 'ok') return subject;
    const idp = (await this.providers.get(orgId, providerSlug)) as ProviderRow;
    const owner = { orgId, userId, purpose: `xchg:${subject.connectionId}:${s.serverId}` };
    const r = await this.minted.get(owner, () => this.#mint(orgId, idp, subject, s), fresh);
    return r.kind === 'minted' ? { ...r, connectionId: subject.connectionId, vendorAccount: subject.vendorAccount } : r;
  }

  async #mint(orgId: string, idp: ProviderRow, subject: Extract<TokenResult, { kind: 'ok' }>, s: McpServerRef) {
    const as = await this.#idJagServer(orgId, s);
    if (as && 'failure' in as) return as;
    const denied = (by: 'idp' | 'server', r: Exclude<ReturnType<typeof mintedOf>, Minted>) =>
      r.kind === 'unavailable' ? r : ({ ...r, kind: 'denied', by, providerSlug: idp.slug } as const);
    if (!as) {
      const resource = resourceUrlFromServerUrl(s.url).href;
      const r = mintedOf(
        await this.client.grant(idp, {
          grant_type: TOKEN_EXCHANGE,
          subject_token: subject.token.reveal(),
          subject_token_type: TYPE.access,
          requested_token_type: TYPE.access,
          audience: resource,
          resource,
        }),
      );
      return r.kind === 'minted' ? r : denied('idp', r);
    }
    const row = await this.conns.byId(subject.connectionId);
    const idToken = row && this.conns.openIdToken(row);
    if (!idToken) return { kind: 'no_id_token' as const, providerSlug: idp.slug };
    const jag = mintedOf(
      await this.client.grant(idp, {
        grant_type: TOKEN_EXCHANGE,
        subject_token: idToken.reveal(),
        subject_token_type: TYPE.id,
        requested_token_type: TYPE.idJag,
        audience: as.issuer ?? as.tokenUrl,
        resource: as.resource ?? resourceUrlFromServerUrl(s.url).href,
        ...(as.scopes.length ? { scope: as.scopes.join(' ') } : {}),
      }),
    );
    if (jag.kind !== 'minted') return denied('idp', jag);
    const r = mintedOf(await this.client.grant(as, { grant_type: JWT_BEARER, assertion: jag.token.reveal() }));
    return r.kind === 'minted' ? r : denied('server', r);
  }

  /**
   * The server's `mcp` provider when it takes an ID-JAG: an admin registered onbehalf's client
   * there (`admin server auth`) and its authorization server lists the JWT bearer grant or the
   * ID-JAG profile. Undefined: the IdP's own exchange is used.
   */
  async #idJagServer(orgId: string, s: McpServerRef) {
    if (!(await this.providers.forMcpServer(orgId, s.serverId))) return undefined;
    const reg = await this.mcp.ensure(orgId, s, { pkce: false });
    if (reg.kind === 'not_protected') return undefined;
    if (reg.kind !== 'ok') return { kind: 'auth_failed' as const, failure: reg };
    const p = await this.providers.forMcpServer(orgId, s.serverId);
    const x = p ? providerExtra(p) : {};
    const takes = x.grantTypes?.includes(JWT_BEARER) || x.grantProfiles?.includes(ID_JAG_PROFILE);
    return takes ? p : undefined;
  }
}
