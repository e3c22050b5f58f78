import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';

/** One request the server saw (body parsed when form-encoded). */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, string>;
  authorization: string | undefined;
}

/** Options of the loopback authorization server; defaults beside each. */
export interface OAuthServerOptions {
  /** Access token life in seconds (`expires_in`). Default 3600; 0: no `expires_in` (never expires). */
  accessTtlSeconds?: number;
  /** Issue refresh tokens. Default true. */
  refreshTokens?: boolean;
  /** Rotate the refresh token on every refresh (with reuse detection). Default true. */
  rotate?: boolean;
  /** Add RFC 9207 `iss` to the authorization response. Default true. */
  issParameter?: boolean;
  /** Delay before answering a token request, to make concurrent callers overlap. Default 0 ms. */
  tokenDelayMs?: number;
}

/**
 * A real OAuth 2 / OIDC authorization server on 127.0.0.1 (oauth2-mock-server 8 underneath:
 * auto-approving `/authorize`, PKCE-checking `/token`, `/revoke`, OIDC discovery, id_token) with
 * what the mock lacks: refresh-token rotation with reuse detection (a reused token kills the
 * family), one-shot `invalid_grant`, a 503 mode, a revocation counter, `aud` = `resource`, a `jti`
 * in every token, RFC 9207 `iss`, and a GitHub-like `GET /user` answering for the current `login`.
 * Every request is recorded in `requests`. Stop it with `stop()`.
 */
export class OAuthTestServer {
  readonly requests: SeenRequest[] = [];
  /** Access tokens issued, in order. */
  readonly issuedAccessTokens: string[] = [];
  /** Refresh tokens issued, in order. */
  readonly issuedRefreshTokens: string[] = [];
  /** Tokens sent to `/revoke`. */
  readonly revoked: string[] = [];
  /** The vendor login the next authorizations act as (GitHub-style `login`). */
  login = 'bob';
  /** Answer the next N token requests with 503. */
  unavailable = 0;
  /** Answer the next refresh with `invalid_grant` once. */
  invalidGrantOnce = false;
  readonly options: Required<OAuthServerOptions>;

  readonly #service: OAuth2Service;
  readonly #server: http.Server;
  readonly #refresh = new Map<string, { family: string; used: boolean; login: string; scope: string }>();
  readonly #deadFamilies = new Set<string>();
  readonly #codeInfo = new Map<string, { login: string; scope: string }>();
  readonly #accessLogin = new Map<string, string>();
  #url = '';

  private constructor(service: OAuth2Service, opts: OAuthServerOptions) {
    this.options = { accessTtlSeconds: 3600, refreshTokens: true, rotate: true, issParameter: true, tokenDelayMs: 0, ...opts };
    this.#service = service;
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use((req, res, next) => {
      this.requests.push({
        method: req.method, path: req.path, query: req.query as Record<string, string>,
        body: (req.body ?? {}) as Record<string, string>, authorization: req.headers.authorization,
      });
      next();
    });
    app.get('/user', (req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const login = token ? this.#accessLogin.get(token) : undefined;
      if (!login) return void res.status(401).json({ message: 'Bad credentials' });
      res.json({ login, id: 1000 + login.length, name: login });
    });
    app.post(['/token'], async (req, res, next) => {
      if (this.options.tokenDelayMs) await new Promise((r) => setTimeout(r, this.options.tokenDelayMs));
      if (this.unavailable > 0) {
        this.unavailable--;
        return void res.status(503).json({ error: 'temporarily_unavailable' });
      }
      if (req.body?.grant_type !== 'refresh_token') return next();
      const rt = this.#refresh.get(String(req.body.refresh_token));
      if (this.invalidGrantOnce || !rt || this.#deadFamilies.has(rt.family) || (this.options.rotate && rt.used)) {
        this.invalidGrantOnce = false;
        // Reuse of a rotated token: revoke the whole family (RFC 9700 §4.14.2).
        if (rt?.used) this.#deadFamilies.add(rt.family);
        return void res.status(400).json({ error: 'invalid_grant', error_description: 'refresh token is invalid' });
      }
      rt.used = true;
      res.locals['family'] = rt.family;
      res.locals['login'] = rt.login;
      res.locals['scope'] = rt.scope;
      next();
    });
    app.use(service.requestHandler);
    this.#server = http.createServer(app);

    service.on('beforeAuthorizeRedirect', (redirect: { url: URL }, req: { query: Record<string, string> }) => {
      const code = redirect.url.searchParams.get('code');
      if (code) this.#codeInfo.set(code, { login: this.login, scope: req.query['scope'] ?? '' });
      if (this.options.issParameter) redirect.url.searchParams.set('iss', this.issuer);
    });
    service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }, req: { body?: Record<string, string> }) => {
      token.payload['jti'] = randomUUID();
      if (req.body?.['resource']) token.payload['aud'] = req.body['resource'];
    });
    service.on('beforeResponse', (response: { body: Record<string, unknown>; statusCode: number }, req: { body?: Record<string, string>; res?: { locals: Record<string, string> } }) => {
      if (response.statusCode !== 200) return;
      const body = req.body ?? {};
      const refreshing = body['grant_type'] === 'refresh_token';
      const info = refreshing ? { login: req.res?.locals['login'] ?? this.login, scope: req.res?.locals['scope'] ?? '' } : (this.#codeInfo.get(body['code'] ?? '') ?? { login: this.login, scope: '' });
      const login = info.login;
      // The mock answers `scope: dummy`; a real server answers what was granted at /authorize.
      response.body['scope'] = info.scope;
      const access = response.body['access_token'] as string;
      this.issuedAccessTokens.push(access);
      this.#accessLogin.set(access, login);
      if (this.options.accessTtlSeconds) response.body['expires_in'] = this.options.accessTtlSeconds;
      else delete response.body['expires_in'];
      if (body['grant_type'] === 'refresh_token' && !this.options.rotate) {
        delete response.body['refresh_token'];
      } else if (this.options.refreshTokens) {
        const rt = `rt-${randomUUID()}`;
        this.#refresh.set(rt, { family: req.res?.locals['family'] ?? randomUUID(), used: false, login, scope: info.scope });
        this.issuedRefreshTokens.push(rt);
        response.body['refresh_token'] = rt;
      } else {
        delete response.body['refresh_token'];
      }
    });
    service.on('beforeRevoke', (_res: unknown, req: { body?: Record<string, string> }) => {
      if (req.body?.['token']) this.revoked.push(req.body['token']);
    });
  }

  /** Starts a server on a free loopback port. */
  static async start(opts: OAuthServerOptions = {}): Promise<OAuthTestServer> {
    const issuer = new OAuth2Issuer();
    await issuer.keys.generate('RS256');
    const s = new OAuthTestServer(new OAuth2Service(issuer), opts);
    await new Promise<void>((resolve) => s.#server.listen(0, '127.0.0.1', resolve));
    s.#url = `http://127.0.0.1:${(s.#server.address() as AddressInfo).port}`;
    issuer.url = s.#url;
    return s;
  }

  /** The issuer URL (`http://127.0.0.1:PORT`). */
  get issuer(): string {
    return this.#url;
  }

  /** Explicit endpoints, as an admin would type them for an `oauth2` provider. */
  get endpoints() {
    return { authorizeUrl: `${this.#url}/authorize`, tokenUrl: `${this.#url}/token`, revokeUrl: `${this.#url}/revoke`, userinfoUrl: `${this.#url}/user` };
  }

  /** Token requests with `grant_type=refresh_token`. */
  refreshRequests(): SeenRequest[] {
    return this.requests.filter((r) => r.path === '/token' && r.body['grant_type'] === 'refresh_token');
  }

  /** Requests to one path. */
  seen(path: string): SeenRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** The mock's service, for extra hooks. */
  get service(): OAuth2Service {
    return this.#service;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/**
 * Plays the browser: opens a start link, follows the redirect to the authorize endpoint, and
 * returns the callback URL the provider sent back to (without opening it), or the start page's
 * response when it did not redirect.
 */
export async function authorizeInBrowser(startUrl: string): Promise<{ callbackUrl: string; authorizeUrl: string } | { status: number; body: string }> {
  const start = await fetch(startUrl, { redirect: 'manual' });
  const authorizeUrl = start.headers.get('location');
  if (start.status !== 302 || !authorizeUrl) return { status: start.status, body: await start.text() };
  const auth = await fetch(authorizeUrl, { redirect: 'manual' });
  const callbackUrl = auth.headers.get('location');
  if (!callbackUrl) return { status: auth.status, body: await auth.text() };
  return { callbackUrl, authorizeUrl };
}
