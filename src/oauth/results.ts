import type { Done } from '../errors.js';
import type { UrlRefusal } from '../net/index.js';

/*
 * The outcomes of admin changes of providers and of a person's own connections, as values:
 * inner layers never word them; `chat/words/oauth.ts` does.
 */

/** A provider as admins see it: no secret. */
export interface ProviderView {
  slug: string;
  kind: string;
  displayName: string;
  clientId: string;
  scopes: string[];
  hasClientSecret: boolean;
  authorizeUrl: string;
  tokenUrl: string;
  /** A connect can name the vendor account (a userinfo endpoint, or the vendor's own way). */
  namesAccount: boolean;
  /** Disconnect can revoke the grant at the vendor (a revocation endpoint). */
  revokes: boolean;
}

/** What an admin change of a provider did (`chat/` words it). */
export type ProviderChange =
  | { kind: 'provider_added'; provider: ProviderView; redirectUri: string }
  | { kind: 'client_secret_saved'; slug: string }
  /** A private key for `private_key_jwt` stored (sealed); `alg`: what it signs with. */
  | { kind: 'private_key_saved'; slug: string; alg: string }
  | { kind: 'public_client'; slug: string }
  | { kind: 'provider_removed'; slug: string }
  | { kind: 'provider_changed'; slug: string }
  /** An admin's client id for an MCP server, used instead of registering (its secret comes in a form). */
  | { kind: 'mcp_client_set'; slug: string; server: string }
  /** `shared`: one vendor account may be connected for several people of the org. */
  | { kind: 'sharing_set'; slug: string; shared: boolean };

/** Why OpenID discovery did not give usable endpoints. */
export type DiscoveryFailure =
  | { cause: 'status'; host: string; status: number }
  | { cause: 'no_endpoints' }
  | { cause: 'fetch'; detail: string }
  | { cause: 'other_issuer' };

/** Why an admin change of a provider was refused (`chat/` words it). */
export type ProviderRefusal =
  | { kind: 'bad_slug' }
  | { kind: 'missing_endpoint'; need: 'client_id' | 'oauth2_endpoints' | 'oidc_issuer' }
  | { kind: 'exists'; slug: string }
  /** `option`: the admin's option (`--token`), or null for an endpoint OpenID discovery named. */
  | { kind: 'bad_url'; option: string | null; refusal: UrlRefusal }
  | { kind: 'unknown_preset'; given: string; known: string[] }
  | ({ kind: 'discovery_failed' } & DiscoveryFailure)
  /** `listed`: the methods the issuer lists (none: it lists none). */
  | { kind: 'no_pkce'; listed: string[] }
  | { kind: 'not_found'; slug: string }
  /** Not a private key onbehalf can sign with (PEM or JWK; EC P-256/384/521, RSA, Ed25519). */
  | { kind: 'bad_private_key' };

/** The outcome of an admin change of a provider. */
export type ProviderResult = Done<ProviderChange, ProviderRefusal>;

/** What a person's change of their own connection did (`chat/` words it). */
export type ConnectionChange =
  /** `revoked`: the provider confirmed revocation; else only our copy is gone. */
  | { kind: 'disconnected'; slug: string; vendorLogin: string | null; revoked: boolean; displayName: string }
  | { kind: 'confirmed'; slug: string; vendorLogin: string | null };

/** Why a person's change of their own connection was refused. */
export type ConnectionRefusal =
  | { kind: 'not_found'; slug: string }
  | { kind: 'no_connection'; slug: string }
  | { kind: 'nothing_held'; slug: string };

/** The outcome of a person's change of their own connection. */
export type ConnectionResult = Done<ConnectionChange, ConnectionRefusal>;
