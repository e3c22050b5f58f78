import { decodeJwt } from 'jose';
import { z } from 'zod';
import { SealError, Secret } from '../crypto/index.js';
import { providerExtra } from '../db/schema/index.js';
import { upstreamDetail } from '../net/index.js';
import { defaults, type OAuthDeps } from './deps.js';
import { quirksOf } from './presets.js';
import { CLIENT_ASSERTION_TYPE, clientAssertion } from './assertion.js';
import type { ProviderRow, ProviderStore } from './providers.js';

/** Tokens a token endpoint issued. */
export interface TokenSet {
  accessToken: Secret;
  /** Absent: the provider did not rotate (keep the old one) or issues none. */
  refreshToken?: Secret | undefined;
  /** Epoch ms; null: does not expire. */
  expiresAt: number | null;
  /** Granted scopes if the provider said; else undefined (assume what was asked). */
  scopes?: string[] | undefined;
  idToken?: string | undefined;
  /** Vendor account id a token response carried itself (Slack's `authed_user.id`). */
  vendorId?: string | undefined;
}

/** What a token endpoint answered, classified. */
export type GrantOutcome =
  | { kind: 'ok'; tokens: TokenSet }
  /** The grant is dead: reconnect. */
  | { kind: 'invalid_grant'; error: string }
  /** 5xx, 429 (`status`) or network (`detail`: upstream data, net's `upstreamDetail`): try again later; the connection stays. */
  | { kind: 'transient'; cause: 'network'; detail: string }
  | { kind: 'transient'; cause: 'status'; status: number }
  /**
   * Any other refusal (bad client, bad request): a configuration problem. `error`: the endpoint's
   * OAuth error code, or ours (`unreadable_response`, `no_access_token` …); `status`: the HTTP
   * status of an unreadable answer; `description`: the endpoint's own words (untrusted, printable).
   */
  | { kind: 'rejected'; error: string; status?: number; description?: string };

/** A short code for a failed token request, for logs and audit details: `HTTP 503`, `network: …`, `invalid_client`. */
export function failureCode(g: Exclude<GrantOutcome, { kind: 'ok' }>): string {
  if (g.kind !== 'transient') return g.kind === 'rejected' && g.status ? `${g.error} (HTTP ${g.status})` : g.error;
  return g.cause === 'status' ? `HTTP ${g.status}` : `network: ${g.detail}`;
}

/** The vendor account behind a grant. */
export interface VendorIdentity {
  id: string | null;
  login: string | null;
}

const tokenBody = z.looseObject({
  access_token: z.string().min(1).optional(),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().positive().optional(),
  scope: z.string().optional(),
  id_token: z.string().optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
  ok: z.boolean().optional(),
  authed_user: z
    .looseObject({
      id: z.string().optional(),
      access_token: z.string().optional(),
      refresh_token: z.string().optional(),
      expires_in: z.coerce.number().optional(),
      scope: z.string().optional(),
    })
    .optional(),
});

const safeCode = (s: string) => s.replace(/[^a-z0-9_.-]/gi, '').slice(0, 64) || 'error';

/** Speaks to token, revocation and userinfo endpoints of one provider row. */
export class TokenClient {
  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
  ) {}

  /** Every endpoint goes through the network guard: an admin's own endpoints are as untrusted as discovered ones. */
  fetchFor(_p: ProviderRow) {
    return this.d.net.fetch({ timeoutMs: this.d.options?.httpTimeoutMs ?? defaults.httpTimeoutMs });
  }

  async #clientAuth(p: ProviderRow, body: URLSearchParams, headers: Record<string, string>): Promise<boolean> {
    const secret = this.providers.clientSecret(p);
    const x = providerExtra(p);
    if (secret && x.tokenEndpointAuthMethod === 'private_key_jwt') {
      // The stored value is the client's private key: it signs an assertion and is never sent.
      const jwt = await clientAssertion(p.clientId, secret, p.issuer ?? p.tokenUrl, x.signingAlgs);
      if (!jwt) return false;
      body.set('client_id', p.clientId);
      body.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
      body.set('client_assertion', jwt);
      return true;
    }
    if (secret && x.tokenEndpointAuthMethod === 'client_secret_basic') {
      const enc = (s: string) => encodeURIComponent(s);
      headers['authorization'] =
        `Basic ${Buffer.from(`${enc(p.clientId)}:${enc(secret.reveal())}`).toString('base64')}`;
      return true;
    }
    body.set('client_id', p.clientId);
    if (secret) body.set('client_secret', secret.reveal());
    return true;
  }

  async #token(p: ProviderRow, params: Record<string, string>): Promise<GrantOutcome> {
    const body = new URLSearchParams(params);
    // RFC 8707: the resource goes on the token request (code and refresh) too.
    if (p.resource) body.set('resource', p.resource);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
    };
    try {
      if (!(await this.#clientAuth(p, body, headers))) return { kind: 'rejected', error: 'private_key_unusable' };
    } catch (err) {
      // A client secret sealed for another provider or org is never sent anywhere.
      if (!(err instanceof SealError)) throw err;
      this.d.log.warn(
        { provider: p.slug, sealError: err.code, err: err.message },
        'the client secret of this provider does not open; an admin must set it again',
      );
      return { kind: 'rejected', error: 'client_secret_does_not_open' };
    }
    let res: Response;
    let json: unknown;
    try {
      res = await this.fetchFor(p)(p.tokenUrl, { method: 'POST', headers, body });
      const text = await res.text();
      try {
        json = JSON.parse(text);
      } catch {
        json = Object.fromEntries(new URLSearchParams(text));
      }
    } catch (err) {
      return { kind: 'transient', cause: 'network', detail: upstreamDetail(err) };
    }
    if (res.status >= 500 || res.status === 429) return { kind: 'transient', cause: 'status', status: res.status };
    return grantOf(p, res, json);
  }

  /** Any other grant at this provider's token endpoint (client credentials, token exchange, JWT bearer), authenticated as its client. */
  grant(p: ProviderRow, params: Record<string, string>): Promise<GrantOutcome> {
    return this.#token(p, params);
  }

  /** Exchanges an authorization code with its PKCE verifier. */
  exchange(p: ProviderRow, code: string, verifier: Secret, redirectUri: string): Promise<GrantOutcome> {
    return this.#token(p, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier.reveal(),
      redirect_uri: redirectUri,
    });
  }

  /** Uses a refresh token once. */
  refresh(p: ProviderRow, refreshToken: Secret): Promise<GrantOutcome> {
    return this.#token(p, { grant_type: 'refresh_token', refresh_token: refreshToken.reveal() });
  }

  /** Revokes at the provider, best effort; resolves whether the provider confirmed. */
  async revoke(p: ProviderRow, token: Secret, hint: 'refresh_token' | 'access_token'): Promise<boolean> {
    const style = quirksOf(p.kind).revoke;
    if (style === 'none' || !p.revokeUrl) return false;
    const f = this.fetchFor(p);
    try {
      if (style === 'github') {
        const secret = this.providers.clientSecret(p)?.reveal() ?? '';
        const res = await f(p.revokeUrl.replace('{client_id}', encodeURIComponent(p.clientId)), {
          method: 'DELETE',
          headers: {
            authorization: `Basic ${Buffer.from(`${p.clientId}:${secret}`).toString('base64')}`,
            accept: 'application/vnd.github+json',
            'content-type': 'application/json',
            'user-agent': 'onbehalf',
          },
          body: JSON.stringify({ access_token: token.reveal() }),
        });
        return res.status === 204;
      }
      if (style === 'slack') {
        const res = await f(p.revokeUrl, { method: 'POST', headers: { authorization: `Bearer ${token.reveal()}` } });
        return res.ok;
      }
      const body = new URLSearchParams({ token: token.reveal(), token_type_hint: hint });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      await this.#clientAuth(p, body, headers);
      const res = await f(p.revokeUrl, { method: 'POST', headers, body });
      return res.ok;
    } catch (err) {
      this.d.log.warn({ provider: p.slug, err: (err as Error).message }, 'revocation at the provider failed');
      return false;
    }
  }

  /** The vendor account: userinfo endpoint (GitHub `/user`, OIDC userinfo …), else the id_token's claims. */
  async identity(p: ProviderRow, t: TokenSet): Promise<VendorIdentity> {
    if (t.vendorId) return { id: t.vendorId, login: t.vendorId };
    if (p.userinfoUrl) {
      try {
        const res = await this.fetchFor(p)(p.userinfoUrl, {
          headers: {
            authorization: `Bearer ${t.accessToken.reveal()}`,
            accept: 'application/json',
            'user-agent': 'onbehalf',
          },
        });
        if (res.ok) return describe((await res.json()) as Record<string, unknown>);
        this.d.log.warn({ provider: p.slug, status: res.status }, 'userinfo endpoint refused the new token');
      } catch (err) {
        this.d.log.warn({ provider: p.slug, err: (err as Error).message }, 'userinfo request failed');
      }
    }
    if (t.idToken) {
      try {
        // Received directly from the token endpoint over TLS (OIDC Core 3.1.3.7): the claims are trusted for display.
        const claims = decodeJwt(t.idToken);
        if (p.issuer && claims.iss && claims.iss.replace(/\/+$/, '') !== p.issuer.replace(/\/+$/, ''))
          return { id: null, login: null };
        return describe(claims as Record<string, unknown>);
      } catch {
        return { id: null, login: null };
      }
    }
    return { id: null, login: null };
  }
}

/** Picks an id and a human login from a userinfo document or id_token claims. */
function describe(doc: Record<string, unknown>): VendorIdentity {
  const str = (k: string) => (typeof doc[k] === 'string' || typeof doc[k] === 'number' ? String(doc[k]) : undefined);
  const id = str('sub') ?? str('id') ?? str('account_id') ?? null;
  const handle = str('login') ?? str('username') ?? str('preferred_username');
  const login = handle ? `@${handle.replace(/^@/, '')}` : (str('email') ?? str('name') ?? id);
  return { id, login: login ? login.slice(0, 200) : null };
}

/** Reads a token endpoint's answer: tokens, a dead grant, or a refusal (`error` a safe code). */
function grantOf(p: ProviderRow, res: Response, json: unknown): GrantOutcome {
  const parsed = tokenBody.safeParse(json);
  if (!parsed.success) return { kind: 'rejected', error: 'unreadable_response', status: res.status };
  const b = parsed.data;
  // GitHub answers errors with 200; Slack with ok:false.
  const error = b.error ?? (b.ok === false ? 'error' : undefined) ?? (res.ok ? undefined : `http_${res.status}`);
  if (error) {
    if (error === 'invalid_grant' || error === 'bad_refresh_token' || error === 'invalid_refresh_token')
      return { kind: 'invalid_grant', error: safeCode(error) };
    // RFC 6749 §5.2: the description is for the developer; printable, short, shown as the server's words.
    const description = b.error_description
      ?.replace(/[^\x20-\x7e]/g, ' ')
      .trim()
      .slice(0, 200);
    return { kind: 'rejected', error: safeCode(error), ...(description ? { description } : {}) };
  }
  const user = quirksOf(p.kind).identity === 'slack' ? b.authed_user : undefined;
  const access = user?.access_token ?? b.access_token;
  if (!access) return { kind: 'rejected', error: 'no_access_token' };
  const expiresIn = user?.expires_in ?? b.expires_in;
  const scope = user?.scope ?? b.scope;
  const refresh = user?.refresh_token ?? b.refresh_token;
  return {
    kind: 'ok',
    tokens: {
      accessToken: new Secret(access),
      refreshToken: refresh ? new Secret(refresh) : undefined,
      expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null,
      scopes: scope !== undefined ? scope.split(/[ ,]+/).filter(Boolean) : undefined,
      idToken: b.id_token,
      vendorId: user?.id,
    },
  };
}
