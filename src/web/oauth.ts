import { bodyLimit } from 'hono/body-limit';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { ConsentPage, FlowProblem, OAuthService } from '../oauth/index.js';
import { flowText } from './flow-text.js';
import { esc, fromAnotherSite, nothing, page, strictHeaders } from './page.js';
import type { WebEnv } from './server.js';

/** Limits of the `/oauth/*` query strings; larger or malformed ones get a 400. */
export interface OAuthRouteOptions {
  /** Longest accepted raw query string. Default 4096. */
  maxQueryLength?: number;
  /** Longest accepted single value. Default 2048. */
  maxValueLength?: number;
  /** `PUBLIC_URL`: Continue from another origin is refused; `https` makes the cookie `Secure`. Default '' (no origin check). */
  publicUrl?: string;
}

/** A connect page that stopped with nothing changed, worded by `flowText`. */
function stopped(c: Context<WebEnv>, out: { status: 400 | 403 | 404 | 409 | 502; problem: FlowProblem }) {
  const t = flowText(out.problem);
  return page(c, out.status, t.title, `<p>${esc(t.message)}</p>`);
}

/** Decodes a raw query strictly: too long, non-UTF-8 or repeated parameters are refused. */
export function parseQuery(
  rawUrl: string,
  o: Required<OAuthRouteOptions>,
): { ok: true; q: Record<string, string> } | { ok: false; why: string } {
  const i = rawUrl.indexOf('?');
  const raw = i < 0 ? '' : rawUrl.slice(i + 1);
  if (raw.length > o.maxQueryLength) return { ok: false, why: 'The address is too long.' };
  const q: Record<string, string> = {};
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    let k: string;
    let v: string;
    try {
      k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
      v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      return { ok: false, why: 'The address is not valid UTF-8.' };
    }
    if (Object.hasOwn(q, k)) return { ok: false, why: `The parameter "${k.slice(0, 32)}" appears twice.` };
    if (v.length > o.maxValueLength) return { ok: false, why: 'A parameter is too long.' };
    q[k] = v;
  }
  return { ok: true, q };
}

const COOKIE = 'onbehalf_flow';

type Route = (c: Context<WebEnv>) => Promise<Response>;
type Limits = Required<OAuthRouteOptions>;

/** `GET /oauth/start?t=…` (consent page), `POST /oauth/start` (Continue) and `GET /oauth/callback`: small no-store pages; no redirect parameter exists. */
export function oauthRouter(oauth: OAuthService, opts: OAuthRouteOptions = {}): Hono<WebEnv> {
  const o: Limits = { maxQueryLength: 4096, maxValueLength: 2048, publicUrl: '', ...opts };
  const r = new Hono<WebEnv>();
  r.get('/start', consentPage(oauth, o));
  // The form holds two short fields: a larger body is refused while it streams in, never buffered whole.
  const limit = bodyLimit({
    maxSize: o.maxQueryLength,
    onError: (c) => page(c, 413, 'Bad request', nothing('The form sent is too large.')),
  });
  r.post('/start', limit, continueFlow(oauth, o));
  r.get('/callback', callback(oauth, o));
  // The client ID metadata document: public, the same for everyone, cacheable.
  r.get('/client.json', (c) => {
    c.header('cache-control', 'public, max-age=3600');
    return c.json(oauth.clientMetadata());
  });
  return r;
}

/** The consent page of a connect link. */
function consentPage(oauth: OAuthService, o: Limits): Route {
  return async (c) => {
    const parsed = parseQuery(c.req.url, o);
    if (!parsed.ok) return page(c, 400, 'Bad link', nothing(parsed.why));
    const t = parsed.q['t'];
    if (!t) return page(c, 400, 'Bad link', nothing('This link is missing its token.'));
    const out = await oauth.page(t);
    if (out.kind === 'error') return stopped(c, out);
    return page(c, 200, `Connect ${out.provider}`, consentBody(out), out.formTargets);
  };
}

/** Continue on the consent page: sets the browser cookie and sends the person on to sign in. */
function continueFlow(oauth: OAuthService, o: Limits): Route {
  const own = o.publicUrl ? new URL(o.publicUrl).origin : undefined;
  const secure = o.publicUrl.startsWith('https:');
  return async (c) => {
    // A cross-site form post is refused outright (the CSRF field alone cannot tell, since the link's owner can read it).
    if (fromAnotherSite(c, own)) {
      return page(
        c,
        403,
        'Continue from the connect page',
        nothing('This request came from another site. Open the connect link yourself and press Continue.'),
      );
    }
    if (!/^application\/x-www-form-urlencoded\b/i.test(c.req.header('content-type') ?? ''))
      return page(c, 400, 'Bad request', nothing('Continue must be sent by the connect page form.'));
    const body = await c.req.text();
    const parsed = parseQuery(`?${body}`, o);
    if (!parsed.ok) return page(c, 400, 'Bad request', nothing(parsed.why));
    const t = parsed.q['t'];
    if (!t) return page(c, 400, 'Bad link', nothing('This form is missing its link.'));
    const out = await oauth.continue(t, parsed.q['csrf'], getCookie(c, COOKIE));
    if (out.kind === 'error') return stopped(c, out);
    setCookie(c, COOKIE, out.browser, { httpOnly: true, sameSite: 'Lax', secure, path: '/oauth', maxAge: 3600 });
    strictHeaders(c);
    return c.redirect(out.url, 303);
  };
}

/** The provider's (or the chat sign-in's) answer. */
function callback(oauth: OAuthService, o: Limits): Route {
  return async (c) => {
    const parsed = parseQuery(c.req.url, o);
    if (!parsed.ok) return page(c, 400, 'Bad sign-in answer', nothing(parsed.why));
    const { state, code, error, error_description: desc, iss } = parsed.q;
    const out = await oauth.callback({ state, code, error, error_description: desc, iss }, getCookie(c, COOKIE));
    if (out.kind === 'error') return stopped(c, out);
    if (out.kind === 'redirect') {
      strictHeaders(c);
      return c.redirect(out.url, 302);
    }
    return connectedPage(c, out);
  };
}

type Connected = Exclude<Awaited<ReturnType<OAuthService['callback']>>, { kind: 'error' } | { kind: 'redirect' }>;

/** "Connected" (or "on hold until confirmed in chat"), naming whose account was connected for whom. */
function connectedPage(c: Context<WebEnv>, out: Connected) {
  const who = out.vendorLogin ?? 'an account whose name the provider did not share';
  const whom = `<strong>${esc(out.userName)}</strong>${out.orgName ? ` in <strong>${esc(out.orgName)}</strong>` : ''}`;
  if (out.held && out.service)
    return page(
      c,
      200,
      'Connected, waiting for confirmation',
      `<p><strong>${esc(out.provider)} ${esc(who)}</strong> was connected as the service connection <strong>${esc(out.service)}</strong>, and is on hold: this browser was not shown to be ${esc(out.userName)}'s, so onbehalf uses it only after ${esc(out.userName)} confirms in chat that it is the account they meant.</p>` +
        `<p>If you are not ${esc(out.userName)}, this link was not meant for you: nobody's calls will act as this account unless they confirm.</p><p>You can close this tab.</p>`,
    );
  if (out.held) {
    return page(
      c,
      200,
      'Connected, waiting for confirmation',
      `<p><strong>${esc(out.provider)} ${esc(who)}</strong> was connected for ${whom}, and is on hold: onbehalf uses it only after ${esc(out.userName)} confirms in chat that it is theirs.</p>` +
        `<p>If you are not ${esc(out.userName)}, this link was not meant for you: nothing of yours will be used unless they confirm.</p>` +
        `<p>${esc(out.userName)} can undo it any time with <code>/onbehalf disconnect ${esc(out.providerSlug)}</code> in chat.</p><p>You can close this tab.</p>`,
    );
  }
  if (out.service)
    return page(
      c,
      200,
      'Connected',
      `<p><strong>${esc(out.provider)} ${esc(who)}</strong> is now the service connection <strong>${esc(out.service)}</strong> of ${out.orgName ? `<strong>${esc(out.orgName)}</strong>` : 'the org'}, connected by ${esc(out.userName)}.</p>` +
        `<p>Not the account you meant? Type <code>/onbehalf admin disconnect ${esc(out.providerSlug)} --service ${esc(out.service)}</code> in chat.</p><p>You can close this tab.</p>`,
    );
  return page(
    c,
    200,
    'Connected',
    `<p><strong>${esc(out.provider)} ${esc(who)}</strong> is now connected for ${whom}.</p>` +
      `<p>Not you, or a mistake? Type <code>/onbehalf disconnect ${esc(out.providerSlug)}</code> in chat to undo it.</p><p>You can close this tab.</p>`,
  );
}

const PLATFORM: Record<string, string> = { slack: 'Slack', discord: 'Discord', shell: 'the onbehalf shell' };

/** Who and what is being connected, and the Continue form (the link and its CSRF field ride in hidden inputs). */
function consentBody(v: Extract<ConsentPage, { kind: 'consent' }>): string {
  const ids = v.identities
    .map(
      (i) =>
        `<li>${esc(PLATFORM[i.platform] ?? i.platform)}${i.workspace ? ` · ${esc(i.workspace)}` : ''}${i.name ? ` · ${esc(i.name)}` : ''}</li>`,
    )
    .join('');
  const scopes = v.scopes.length ? v.scopes.map((s) => `<code>${esc(s)}</code>`).join(' ') : 'none beyond sign-in';
  const next = v.signIn
    ? `Continue first asks ${esc(PLATFORM[v.signIn] ?? v.signIn)} who you are, then sends you to ${esc(v.provider)}.`
    : `Continue sends you to ${esc(v.provider)} to approve.`;
  return (
    (v.service
      ? `<p>This connects a <strong>${esc(v.provider)}</strong> account as the service connection <strong>${esc(v.service)}</strong> of ${v.orgName ? `<strong>${esc(v.orgName)}</strong>` : 'the org'}, asked for by <strong>${esc(v.userName)}</strong>. Everyone the org's access rules allow will act as this account:</p>`
      : `<p>This connects a <strong>${esc(v.provider)}</strong> account for <strong>${esc(v.userName)}</strong>${v.orgName ? ` in <strong>${esc(v.orgName)}</strong>` : ''}:</p>`) +
    `<ul>${ids}</ul><p>Permissions asked: ${scopes}</p>` +
    `<p>Continue only if you are ${esc(v.userName)} and asked for this link in chat yourself. If someone sent it to you, close this tab: whatever account you approve would serve them.</p>` +
    `<p>${next}</p>` +
    `<form method="post" action="start"><input type="hidden" name="t" value="${esc(v.token)}"><input type="hidden" name="csrf" value="${esc(v.csrf)}"><button type="submit">Continue</button></form>`
  );
}
