import { createHash, randomUUID } from 'node:crypto';
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

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const decodeIss = (jwt: string) => {
  try {
    return (JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as { iss?: string }).iss;
  } catch {
    return undefined;
  }
};

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
  /**
   * A refresh token unused this long after it was issued dies (`invalid_grant`), as providers that
   * expire idle grants do. Default 0: never.
   */
  refreshIdleMs?: number;
}

/**
 * A real OAuth 2 / OIDC authorization server on 127.0.0.1 (oauth2-mock-server 8 underneath:
 * auto-approving `/authorize`, PKCE-checking `/token`, `/revoke`, OIDC discovery, id_token) with
 * what the mock lacks: refresh-token rotation with reuse detection (a reused token kills the
 * family), RFC 8693 token exchange (`exchanges`, `denyExchange`), one-shot `invalid_grant`, refresh tokens that die unused (`refreshIdleMs`), a 503 mode, a revocation counter, `aud` = `resource`, a `jti`
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
  /** RFC 8693 exchanges it answered: the subject token, audience, resource and the token issued. */
  readonly exchanges: { grantType: string; subject: string; audience: string; resource: string; issued: string }[] = [];
  /** While set, every token exchange is refused with `access_denied` and this description (an IdP policy). */
  denyExchange: string | undefined;
  readonly #audienceOf = new Map<string, string>();
  readonly options: Required<OAuthServerOptions>;

  readonly #service: OAuth2Service;
  readonly #server: http.Server;
  readonly #refresh = new Map<
    string,
    { family: string; used: boolean; login: string; scope: string; issuedAt: number }
  >();
  readonly #deadFamilies = new Set<string>();
  readonly #codeInfo = new Map<string, { login: string; scope: string }>();
  readonly #accessLogin = new Map<string, string>();
  #url = '';

  private constructor(service: OAuth2Service, opts: OAuthServerOptions) {
    this.options = {
      accessTtlSeconds: 3600,
      refreshTokens: true,
      rotate: true,
      issParameter: true,
      tokenDelayMs: 0,
      refreshIdleMs: 0,
      ...opts,
    };
    this.#service = service;
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use((req, res, next) => {
      this.requests.push({
        method: req.method,
        path: req.path,
        query: req.query as Record<string, string>,
        body: (req.body ?? {}) as Record<string, string>,
        authorization: req.headers.authorization,
      });
      next();
    });
    app.get('/user', (req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const login = token ? this.#accessLogin.get(token) : undefined;
      if (!login) return void res.status(401).json({ message: 'Bad credentials' });
      // A stable id per login, distinct between logins (vendor accounts are told apart by id).
      res.json({
        login,
        id: 1000 + parseInt(createHash('sha256').update(login).digest('hex').slice(0, 8), 16),
        name: login,
      });
    });
    app.post(['/token'], async (req, res, next) => {
      if (this.options.tokenDelayMs) await new Promise((r) => setTimeout(r, this.options.tokenDelayMs));
      if (this.unavailable > 0) {
        this.unavailable--;
        return void res.status(503).json({ error: 'temporarily_unavailable' });
      }
      if (req.body?.grant_type === TOKEN_EXCHANGE) return void this.#exchange(req.body as Record<string, string>, res);
      if (req.body?.grant_type !== 'refresh_token') return next();
      const rt = this.#refresh.get(String(req.body.refresh_token));
      const idle = this.options.refreshIdleMs;
      if (rt && idle && Date.now() - rt.issuedAt > idle) this.#deadFamilies.add(rt.family);
      if (this.invalidGrantOnce || !rt || this.#deadFamilies.has(rt.family) || (this.options.rotate && rt.used)) {
        this.invalidGrantOnce = false;
        // Reuse of a rotated token: revoke the whole family (RFC 9700 §4.14.2).
        if (rt?.used) this.#deadFamilies.add(rt.family);
        return void res.status(400).json({ error: 'invalid_grant', error_description: 'refresh token is invalid' });
      }
      rt.used = true;
      rt.issuedAt = Date.now(); // a token kept (no rotation) is idle again from its last use
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
    service.on(
      'beforeTokenSigning',
      (token: { payload: Record<string, unknown> }, req: { body?: Record<string, string> }) => {
        token.payload['jti'] = randomUUID();
        if (req.body?.['resource']) token.payload['aud'] = req.body['resource'];
      },
    );
    service.on(
      'beforeResponse',
      (
        response: { body: Record<string, unknown>; statusCode: number },
        req: { body?: Record<string, string>; res?: { locals: Record<string, string> } },
      ) => {
        if (response.statusCode !== 200) return;
        const body = req.body ?? {};
        const refreshing = body['grant_type'] === 'refresh_token';
        const info = refreshing
          ? { login: req.res?.locals['login'] ?? this.login, scope: req.res?.locals['scope'] ?? '' }
          : (this.#codeInfo.get(body['code'] ?? '') ?? { login: this.login, scope: '' });
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
          this.#refresh.set(rt, {
            family: req.res?.locals['family'] ?? randomUUID(),
            used: false,
            login,
            scope: info.scope,
            issuedAt: Date.now(),
          });
          this.issuedRefreshTokens.push(rt);
          response.body['refresh_token'] = rt;
        } else {
          delete response.body['refresh_token'];
        }
      },
    );
    service.on('beforeRevoke', (_res: unknown, req: { body?: Record<string, string> }) => {
      if (req.body?.['token']) this.revoked.push(req.body['token']);
    });
  }

  /** RFC 8693: a token for `audience`, issued only for an access token this server issued itself. */
  #exchange(body: Record<string, string>, res: express.Response): void {
    const subject = body['subject_token'] ?? '';
    if (this.denyExchange !== undefined)
      return void res.status(400).json({ error: 'access_denied', error_description: this.denyExchange });
    // An ID-JAG is issued for an ID token this issuer signed (its `iss`); any other exchange for its own access token.
    const jag = body['requested_token_type'] === ID_JAG;
    const known = jag
      ? body['subject_token_type'] === ID_TOKEN && decodeIss(subject) === this.issuer
      : this.issuedAccessTokens.includes(subject);
    if (!known || !body['audience'])
      return void res.status(400).json({ error: 'invalid_grant', error_description: 'unknown subject token' });
    const issued = `${jag ? 'jag' : 'xt'}-${randomUUID()}`;
    this.#audienceOf.set(issued, body['audience']);
    this.exchanges.push({
      grantType: body['grant_type'] ?? '',
      subject,
      audience: body['audience'],
      resource: body['resource'] ?? '',
      issued,
    });
    res.json({
      access_token: issued,
      issued_token_type: jag ? ID_JAG : 'urn:ietf:params:oauth:token-type:access_token',
      token_type: jag ? 'N_A' : 'Bearer',
      expires_in: 600,
    });
  }

  /** The exchange that issued `token` (an ID-JAG: what its audience and resource are), as its verifier would learn. */
  exchangeOf(token: string) {
    return this.exchanges.find((e) => e.issued === token);
  }

  /** The audience a token from an exchange was issued for (what a server introspecting it learns); undefined for any other. */
  audienceOf(token: string): string | undefined {
    return this.#audienceOf.get(token);
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
    return {
      authorizeUrl: `${this.#url}/authorize`,
      tokenUrl: `${this.#url}/token`,
      revokeUrl: `${this.#url}/revoke`,
      userinfoUrl: `${this.#url}/user`,
    };
  }

  /** Token requests with `grant_type=refresh_token`. */
  refreshRequests(): SeenRequest[] {
    return this.requests.filter((r) => r.path === '/token' && r.body['grant_type'] === 'refresh_token');
  }

  /** Kills every refresh token issued for `login` (the provider revoked the grant): its next refresh is `invalid_grant`. */
  killRefreshTokensOf(login: string): void {
    for (const rt of this.#refresh.values()) if (rt.login === login) this.#deadFamilies.add(rt.family);
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
 * A browser for tests: `fetch` with a cookie jar per origin (Set-Cookie kept, Cookie sent back),
 * redirects not followed, so each hop can be looked at. Two instances are two browsers.
 */
export class TestBrowser {
  readonly #jar = new Map<string, Map<string, string>>();

  /** The cookies this browser holds for an origin. */
  cookies(origin: string): Map<string, string> {
    let m = this.#jar.get(origin);
    if (!m) this.#jar.set(origin, (m = new Map()));
    return m;
  }

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const jar = this.cookies(u.origin);
    const headers = new Headers(init.headers);
    if (jar.size && !headers.has('cookie')) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(u, { redirect: 'manual', ...init, headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return res;
  }
}

/** The hidden fields of the consent page's Continue form. */
export function continueFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([a-z]+)" value="([^"]*)">/g))
    out[m[1]!] = m[2]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  return out;
}

/** Presses Continue on a consent page the browser has open: a same-origin form post of its hidden fields. */
export async function pressContinue(
  browser: TestBrowser,
  startUrl: string,
  html: string,
  override: Record<string, string | undefined> = {},
): Promise<Response> {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...continueFields(html), ...override })) if (v !== undefined) fields[k] = v;
  const action = new URL('start', startUrl);
  return browser.fetch(action, {
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: action.origin,
      'sec-fetch-site': 'same-origin',
    },
  });
}

/** Opens a start link and presses Continue: the 303 to the provider (or sign-in), and the browser. */
export async function continueFlow(
  startUrl: string,
  browser: TestBrowser = new TestBrowser(),
): Promise<{ res: Response; browser: TestBrowser }> {
  const page = await browser.fetch(startUrl);
  return { res: await pressContinue(browser, startUrl, await page.text()), browser };
}

/** A step of the browser flow that ended early: the status and page the browser was shown. */
export type Stopped = { status: number; body: string };

/**
 * Plays the person in a browser: opens the start link (the consent page), presses Continue (the
 * CSRF field parsed from the page, the binding cookie kept), follows any chat sign-in leg through
 * our callback, and returns the provider's callback URL without opening it, with the browser to
 * open it in (`browser.fetch(callbackUrl)` carries the cookie), or the page where it stopped.
 */
export async function authorizeInBrowser(
  startUrl: string,
  browser: TestBrowser = new TestBrowser(),
): Promise<{ callbackUrl: string; authorizeUrl: string; browser: TestBrowser } | Stopped> {
  const start = await browser.fetch(startUrl);
  const html = await start.text();
  if (start.status !== 200 || !html.includes('name="csrf"')) return { status: start.status, body: html };
  const cont = await pressContinue(browser, startUrl, html);
  let next = cont.headers.get('location');
  if (cont.status !== 303 || !next) return { status: cont.status, body: await cont.text() };
  const ours = new URL(startUrl).origin;
  const callbackPath = new URL('callback', startUrl).pathname;
  // Hops until the provider sends the browser back to our callback; a sign-in leg's callback is opened on the way.
  for (let hop = 0; hop < 8; hop++) {
    const authorizeUrl: string = next;
    const auth = await browser.fetch(authorizeUrl);
    const back = auth.headers.get('location');
    if (!back) return { status: auth.status, body: await auth.text() };
    const b: URL = new URL(back, authorizeUrl);
    if (b.origin === ours && b.pathname === callbackPath) {
      // The chat sign-in answers at the same callback; its page sends the browser on to the provider.
      if (!isSignInLeg(authorizeUrl)) return { callbackUrl: b.href, authorizeUrl, browser };
      const signedIn = await browser.fetch(b);
      const onward = signedIn.headers.get('location');
      if (signedIn.status !== 302 || !onward) return { status: signedIn.status, body: await signedIn.text() };
      next = onward;
      continue;
    }
    next = b.href;
  }
  return { status: 0, body: 'too many redirects' };
}

/** Chat sign-in authorize pages (the fake Slack OIDC and Discord OAuth peers) are told by their path. */
const isSignInLeg = (url: string) => /\/(openid\/connect\/authorize|oauth2\/authorize)$/.test(new URL(url).pathname);
