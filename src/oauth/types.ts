import type { Secret } from '../crypto/index.js';

/** What `accessTokenFor` gives: a usable token, or why there is none. Never another user's token. */
export type TokenResult =
  | {
      kind: 'ok';
      token: Secret;
      connectionId: string;
      providerId: string;
      providerSlug: string;
      /** The vendor account the token acts as, e.g. `@bob` (for audit and chat). */
      vendorAccount: string | null;
      scopes: string[];
      /** Epoch ms; null: does not expire. */
      expiresAt: number | null;
    }
  /** The user has never connected this provider (or disconnected): prompt to connect. */
  | { kind: 'missing'; providerId: string; providerSlug: string }
  /** The grant is dead (`invalid_grant`, revoked, rejected after a refresh): prompt to reconnect. */
  | {
      kind: 'needs_reauth';
      providerId: string;
      providerSlug: string;
      connectionId: string;
      /** Set when the stored tokens did not open for this user (moved or altered in the database). */
      reason?: 'sealed_value_mismatch';
    }
  /** The grant works but lacks `missingScopes`: prompt to reconnect with the union (the old grant keeps working). */
  | {
      kind: 'insufficient_scope';
      providerId: string;
      providerSlug: string;
      connectionId: string;
      missingScopes: string[];
    }
  /** No provider by that slug in this org: a configuration problem an admin must fix. */
  | { kind: 'unknown_provider'; providerSlug: string }
  /**
   * No token now; the connection stays active. `cause`: the refresh lock (Redis) is down
   * (`lock_down`), another process's refresh did not finish in time (`lock_timeout`), the refresh
   * threw (`refresh_error`), the provider stayed unreachable after bounded retries (`provider_down`)
   * or refused the request (`provider_refused`); `detail` is the failure's short code (`HTTP 503`).
   */
  | { kind: 'unavailable'; providerSlug: string; cause: UnavailableCause; detail?: string };

export type UnavailableCause = 'lock_down' | 'lock_timeout' | 'refresh_error' | 'provider_down' | 'provider_refused';

export interface AccessTokenOptions {
  /** Refresh even if the token looks valid (a server rejected it). Same single flight. Default false. */
  forceRefresh?: boolean;
  /** Scopes the call needs; if the grant lacks any, the result is `needs_reauth`-like (see `insufficient_scope`). */
  requiredScopes?: string[];
  /** The calling tool call's configuration version (db/config-cache.ts): a cached provider at least that new may answer. */
  configSeen?: number | undefined;
}

/** The token side of the OAuth engine, as the runner uses it. */
export interface TokenSource {
  accessTokenFor(orgId: string, userId: string, providerSlug: string, opts?: AccessTokenOptions): Promise<TokenResult>;
  /** The org's service grant `<providerSlug>/<name>` (absent: `service:` bindings are refused). */
  serviceTokenFor?(orgId: string, providerSlug: string, name: string, opts?: AccessTokenOptions): Promise<TokenResult>;
  /** URL the user opens to connect (`PUBLIC_URL/oauth/start?t=…`), single use, 10 minutes. */
  connectLink(
    orgId: string,
    userId: string,
    providerSlug: string,
    opts?: { resumeCallId?: string; extraScopes?: string[] },
  ): Promise<string>;
}
