import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { OAuthService } from '../oauth/index.js';
import type { WebEnv } from './server.js';

/** Limits of the `/oauth/*` query strings; larger or malformed ones get a 400. */
export interface OAuthRouteOptions {
  /** Longest accepted raw query string. Default 4096. */
  maxQueryLength?: number;
  /** Longest accepted single value. Default 2048. */
  maxValueLength?: number;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#eee;padding:0 .25rem}';
// Drops code and state from the address bar, so history keeps no trace of them.
const SCRIPT = "history.replaceState(null,'',location.pathname)";
const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
const CSP = `default-src 'none'; style-src ${sha(STYLE)}; script-src ${sha(SCRIPT)}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

function page(c: Context<WebEnv>, status: 200 | 400 | 404 | 502, title: string, body: string) {
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
  c.header('Content-Security-Policy', CSP);
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('X-Frame-Options', 'DENY');
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(title)} · onbehalf</title><style>${STYLE}</style><script>${SCRIPT}</script></head><body><h1>${esc(title)}</h1>${body}</body></html>`,
    status,
  );
}

/** Decodes a raw query strictly: too long, non-UTF-8 or repeated parameters are refused. */
export function parseQuery(rawUrl: string, o: Required<OAuthRouteOptions>): { ok: true; q: Record<string, string> } | { ok: false; why: string } {
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

/** `GET /oauth/start?t=…` and `GET /oauth/callback`: small no-store pages; no redirect parameter exists. */
export function oauthRouter(oauth: OAuthService, opts: OAuthRouteOptions = {}): Hono<WebEnv> {
  const o: Required<OAuthRouteOptions> = { maxQueryLength: 4096, maxValueLength: 2048, ...opts };
  const r = new Hono<WebEnv>();
  const nothing = (why: string) => `<p>${esc(why)}</p><p>Nothing was changed.</p>`;

  r.get('/start', async (c) => {
    const parsed = parseQuery(c.req.url, o);
    if (!parsed.ok) return page(c, 400, 'Bad link', nothing(parsed.why));
    const t = parsed.q['t'];
    if (!t) return page(c, 400, 'Bad link', nothing('This link is missing its token.'));
    const out = await oauth.start(t);
    if (out.kind === 'error') return page(c, out.status, out.title, `<p>${esc(out.message)}</p>`);
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    return c.redirect(out.url, 302);
  });

  r.get('/callback', async (c) => {
    const parsed = parseQuery(c.req.url, o);
    if (!parsed.ok) return page(c, 400, 'Bad sign-in answer', nothing(parsed.why));
    const { state, code, error, error_description: desc, iss } = parsed.q;
    const out = await oauth.callback({ state, code, error, error_description: desc, iss });
    if (out.kind === 'error') return page(c, out.status, out.title, `<p>${esc(out.message)}</p>`);
    const who = out.vendorLogin ?? 'an account whose name the provider did not share';
    return page(
      c, 200, 'Connected',
      `<p><strong>${esc(out.provider)} ${esc(who)}</strong> is now connected for <strong>${esc(out.userName)}</strong>${out.orgName ? ` in <strong>${esc(out.orgName)}</strong>` : ''}.</p>` +
        `<p>Not you, or a mistake? Type <code>/onbehalf disconnect ${esc(out.providerSlug)}</code> in chat to undo it.</p><p>You can close this tab.</p>`,
    );
  });
  return r;
}
