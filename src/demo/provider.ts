import { createHash, randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';

/** A token the demo provider issued, and whom it stands for. */
interface Grant {
  login: string;
  scopes: string[];
  expiresAt: number;
}

const rand = () => randomBytes(24).toString('base64url');
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * An offline OAuth 2 provider for `onbehalf demo`: authorization code with PKCE S256, refresh
 * token rotation, userinfo, revocation. Its consent page asks which demo login to act as.
 * In memory; for the demo only.
 */
export class DemoProvider {
  readonly clientId = 'onbehalf-demo';
  readonly clientSecret = rand();
  readonly #codes = new Map<
    string,
    { login: string; challenge: string; redirectUri: string; scopes: string[]; expiresAt: number }
  >();
  readonly #access = new Map<string, Grant>();
  readonly #refresh = new Map<string, Grant>();

  /** Access tokens live this long. Default one hour. */
  constructor(private readonly accessTtlMs = 3_600_000) {}

  /** The login an access token stands for, if it is valid. */
  introspect(token: string): Grant | undefined {
    const g = this.#access.get(token);
    return g && g.expiresAt > Date.now() ? g : undefined;
  }

  #issue(login: string, scopes: string[]) {
    const access = rand();
    const refresh = rand();
    this.#access.set(access, { login, scopes, expiresAt: Date.now() + this.accessTtlMs });
    this.#refresh.set(refresh, { login, scopes, expiresAt: Date.now() + 30 * 86_400_000 });
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: Math.floor(this.accessTtlMs / 1000),
      refresh_token: refresh,
      scope: scopes.join(' '),
    };
  }

  /** Routes: `/authorize`, `/token`, `/userinfo`, `/revoke`. */
  router(): Hono {
    const app = new Hono();
    app.get('/authorize', (c) => this.#authorize(c));
    app.post('/token', async (c) => this.#token(c));
    app.get('/userinfo', (c) => {
      const g = this.introspect(c.req.header('authorization')?.replace(/^Bearer /, '') ?? '');
      return g
        ? c.json({ sub: g.login, login: g.login, preferred_username: g.login })
        : c.json({ error: 'invalid_token' }, 401);
    });
    app.post('/revoke', async (c) => {
      const f = await c.req.parseBody();
      const t = String(f['token'] ?? '');
      this.#access.delete(t);
      this.#refresh.delete(t);
      return c.body(null, 200);
    });
    return app;
  }

  /** The consent page (which login to act as), then a code back to the redirect URI. */
  #authorize(c: Context) {
    const q = c.req.query();
    if (q['response_type'] !== 'code' || q['client_id'] !== this.clientId || !q['redirect_uri'] || !q['state'])
      return c.text('Bad authorization request.', 400);
    if (q['code_challenge_method'] !== 'S256' || !q['code_challenge']) return c.text('PKCE S256 is required.', 400);
    const login = q['login'];
    if (!login) {
      const hidden = Object.entries(q)
        .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
        .join('');
      return c.html(
        `<!doctype html><title>Demo provider</title><h1>Demo provider</h1><p>onbehalf asks to act as you (scopes: ${esc(q['scope'] ?? '')}).</p><form method="get">${hidden}<label>Sign in as <input name="login" value="alice" pattern="[a-z0-9_-]{1,32}" required></label> <button>Allow</button></form>`,
      );
    }
    if (!/^[a-z0-9_-]{1,32}$/.test(login)) return c.text('Logins are 1–32 lowercase letters, digits, - or _.', 400);
    const code = rand();
    this.#codes.set(code, {
      login,
      challenge: q['code_challenge'],
      redirectUri: q['redirect_uri'],
      scopes: (q['scope'] ?? '').split(' ').filter(Boolean),
      expiresAt: Date.now() + 60_000,
    });
    const to = new URL(q['redirect_uri']);
    to.searchParams.set('code', code);
    to.searchParams.set('state', q['state']);
    return c.redirect(to.toString(), 302);
  }

  /** The token endpoint: authorization code (PKCE checked) and refresh token grants. */
  async #token(c: Context) {
    const f = await c.req.parseBody();
    const fail = (error: string) => c.json({ error }, 400);
    const basic = c.req.header('authorization')?.match(/^Basic (.+)$/)?.[1];
    const [id, secret] = basic
      ? Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent)
      : [f['client_id'], f['client_secret']];
    if (id !== this.clientId || (secret !== undefined && secret !== this.clientSecret))
      return c.json({ error: 'invalid_client' }, 401);
    if (f['grant_type'] === 'authorization_code') {
      const entry = this.#codes.get(String(f['code']));
      this.#codes.delete(String(f['code']));
      if (!entry || entry.expiresAt < Date.now() || entry.redirectUri !== f['redirect_uri'])
        return fail('invalid_grant');
      const challenge = createHash('sha256')
        .update(String(f['code_verifier'] ?? ''))
        .digest('base64url');
      if (challenge !== entry.challenge) return fail('invalid_grant');
      return c.json(this.#issue(entry.login, entry.scopes));
    }
    if (f['grant_type'] === 'refresh_token') {
      const g = this.#refresh.get(String(f['refresh_token']));
      this.#refresh.delete(String(f['refresh_token']));
      if (!g) return fail('invalid_grant');
      return c.json(this.#issue(g.login, g.scopes));
    }
    return fail('unsupported_grant_type');
  }
}
