import { bodyLimit } from 'hono/body-limit';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { connectionText } from '../chat/index.js';
import { isSlug } from '../names.js';
import type { ConnectionResult, MeRefusal, MeSession, OAuthService } from '../oauth/index.js';
import { listBody, meProblemText, NO_SUCH_CONNECTION, openBody, resultBody, SESSION_ENDED } from './me-text.js';
import { parseQuery } from './oauth.js';
import { formFields, fromAnotherSite, nothing, page, strictHeaders } from './page.js';
import type { WebEnv } from './server.js';

/** What `/me` is built with. */
export interface MeRouteOptions {
  /** `PUBLIC_URL`: forms from another origin are refused; `https` makes the cookie `Secure`. */
  publicUrl: string;
  /** Tells the user in chat what a Disconnect from the page did. Default: nobody is told. */
  told?: (orgId: string, userId: string, r: ConnectionResult) => Promise<void>;
}

type MeOAuth = Pick<OAuthService, 'me' | 'disconnect' | 'connectLink'>;
type Route = (c: Context<WebEnv>) => Promise<Response>;

const COOKIE = 'onbehalf_me';
const LIMITS = { maxQueryLength: 4096, maxValueLength: 2048, publicUrl: '' };
const parse = (raw: string) => parseQuery(raw, LIMITS);

const refused = (c: Context<WebEnv>, out: MeRefusal) => {
  const t = meProblemText(out.problem);
  return page(c, out.status, t.title, nothing(t.message));
};

/**
 * `GET /me?t=…` (whose page the link opens; spends nothing), `POST /me/open` (spends the link, sets the
 * session cookie), `GET /me` (the session user's connections), `POST /me/disconnect` and `/me/reconnect`.
 */
export function meRouter(oauth: MeOAuth, o: MeRouteOptions): Hono<WebEnv> {
  const r = new Hono<WebEnv>();
  const own = o.publicUrl ? new URL(o.publicUrl).origin : undefined;
  const secure = o.publicUrl.startsWith('https:');
  r.get('/', async (c) => {
    const q = parse(c.req.url);
    if (!q.ok) return page(c, 400, 'Bad link', nothing(q.why));
    if (q.q['t'] !== undefined) {
      const out = await oauth.me.peek(q.q['t']);
      return out.kind === 'error' ? refused(c, out) : page(c, 200, 'Your connections', openBody(out), []);
    }
    const s = await oauth.me.session(getCookie(c, COOKIE));
    if (!s) return page(c, 403, SESSION_ENDED.title, nothing(SESSION_ENDED.message));
    return page(c, 200, 'Your connections', listBody(s, await oauth.me.list(s.orgId, s.userId)), []);
  });
  // Each form holds two or three short fields: a larger body is refused while it streams in.
  r.use(
    '*',
    bodyLimit({ maxSize: 4096, onError: (c) => page(c, 413, 'Bad request', nothing('The form sent is too large.')) }),
  );
  r.post('/open', async (c) => {
    if (fromAnotherSite(c, own)) return refused(c, { kind: 'error', status: 403, problem: { kind: 'not_from_page' } });
    const f = await formFields(c, parse);
    if (!f.ok) return page(c, 400, 'Bad request', nothing(f.why));
    const out = await oauth.me.open(f.q['t'] ?? '', f.q['csrf']);
    if (out.kind === 'error') return refused(c, out);
    setCookie(c, COOKIE, out.token, {
      httpOnly: true,
      sameSite: 'Strict',
      secure,
      path: '/me',
      maxAge: out.maxAgeSeconds,
    });
    strictHeaders(c);
    return c.redirect('/me', 303);
  });
  r.post(
    '/disconnect',
    withSession(oauth, own, async (c, s, slug) => {
      const out = await oauth.disconnect(s.orgId, s.userId, slug);
      if (!out.ok) return page(c, 404, 'Not disconnected', nothing(connectionText(out)));
      await o.told?.(s.orgId, s.userId, out);
      return page(c, 200, 'Disconnected', resultBody(connectionText(out)));
    }),
  );
  r.post(
    '/reconnect',
    withSession(oauth, own, async (c, s, slug) => {
      const url = await oauth.connectLink(s.orgId, s.userId, slug);
      strictHeaders(c);
      // The connect link is ours (PUBLIC_URL/oauth/start): its consent page asks before anything changes.
      return c.redirect(url, 303);
    }),
  );
  return r;
}

/** A form of the list page: same site, a live session, its CSRF field, and a provider the session user is connected to. */
function withSession(
  oauth: MeOAuth,
  own: string | undefined,
  act: (c: Context<WebEnv>, s: MeSession, providerSlug: string) => Promise<Response>,
): Route {
  return async (c) => {
    if (fromAnotherSite(c, own)) return refused(c, { kind: 'error', status: 403, problem: { kind: 'not_from_page' } });
    const s = await oauth.me.session(getCookie(c, COOKIE));
    if (!s) return page(c, 403, SESSION_ENDED.title, nothing(SESSION_ENDED.message));
    const f = await formFields(c, parse);
    if (!f.ok) return page(c, 400, 'Bad request', nothing(f.why));
    if (!oauth.me.csrfMatches(s, f.q['csrf']))
      return refused(c, { kind: 'error', status: 403, problem: { kind: 'not_from_page' } });
    const slug = f.q['provider'] ?? '';
    const mine = isSlug(slug) && (await oauth.me.list(s.orgId, s.userId)).some((x) => x.providerSlug === slug);
    if (!mine) {
      const t = NO_SUCH_CONNECTION(slug.slice(0, 64));
      return page(c, 404, t.title, nothing(t.message));
    }
    return act(c, s, slug);
  };
}
