// The one page template of every HTML page onbehalf serves (/oauth/start, /oauth/callback, /me): escaped, no-store, strict headers.
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
// RouteEnv (= WebEnv), from where server.ts takes it, so this file and server.ts do not import each other.
import type { RouteEnv as WebEnv } from '../chat/platform.js';

/** Escapes text for HTML element content and double-quoted attributes. */
export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = [
  'body{font:16px/1.5 system-ui,sans-serif;max-width:56rem;margin:0 auto;padding:0 1rem 3rem;color:#222;background:#fafafa}',
  'header{padding:1rem 0;border-bottom:1px solid #ddd;margin-bottom:2rem;color:#555;font-weight:600}',
  'main{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1rem 1.5rem}',
  'h1{font-size:1.5rem;margin:.5rem 0 1rem}code{background:#eee;padding:0 .25rem;border-radius:3px}',
  'button{font:inherit;padding:.4rem 1.2rem;border:1px solid #888;border-radius:5px;background:#fff;cursor:pointer}',
  'button.primary{background:#1d4ed8;border-color:#1d4ed8;color:#fff}button.danger{border-color:#b91c1c;color:#b91c1c}',
  'table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{text-align:left;vertical-align:top;padding:.5rem .4rem;border-bottom:1px solid #eee}',
  'th{font-size:.85rem;color:#555;font-weight:600}form.inline{display:inline}td.actions form{margin:0 0 .3rem}td.when,td.actions{white-space:nowrap}',
  '.note{color:#555;font-size:.9rem}.status-active{color:#15803d}.status-needs_reauth,.status-held{color:#b45309}',
].join('');

/** The only script of any page: drops query parameters (a link token, code and state) from the address bar, so history keeps no trace of them. */
const SCRIPT = "history.replaceState(null,'',location.pathname)";
/** Where the pages load it from: a file of ours, so the CSP allows no inline script. */
export const SCRIPT_PATH = '/assets/clean-url.js';
const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

// form-action also covers the redirects after a form post, so a page names where its forms may lead.
const csp = (formTargets: string[] | undefined) =>
  `default-src 'none'; style-src ${sha(STYLE)}; script-src 'self'; base-uri 'none'; form-action ${formTargets ? ["'self'", ...formTargets].join(' ') : "'none'"}; frame-ancestors 'none'`;

/** Headers of every page and redirect: nothing cached, no referrer, no framing. */
export function strictHeaders(c: Context<WebEnv>): void {
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('X-Frame-Options', 'DENY');
}

export type PageStatus = 200 | 400 | 403 | 404 | 409 | 413 | 502;

/**
 * One page: `title` is escaped here, `body` is HTML the caller built from escaped values.
 * `formTargets`: origins its forms may lead to besides this one (undefined: the page has no form).
 */
export function page(c: Context<WebEnv>, status: PageStatus, title: string, body: string, formTargets?: string[]) {
  strictHeaders(c);
  c.header('Content-Security-Policy', csp(formTargets));
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
      `<title>${esc(title)} · onbehalf</title><style>${STYLE}</style><script src="${SCRIPT_PATH}"></script></head>` +
      `<body><header>onbehalf</header><main><h1>${esc(title)}</h1>${body}</main></body></html>`,
    status,
  );
}

/** A page that stopped: the reason, and that nothing changed. */
export const nothing = (why: string) => `<p>${esc(why)}</p><p>Nothing was changed.</p>`;

/** The pages' script, served as a file (cacheable, the same for everyone). */
export function assetsRouter(): Hono<WebEnv> {
  const r = new Hono<WebEnv>();
  r.get(SCRIPT_PATH.replace('/assets', ''), (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=3600');
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(`${SCRIPT};\n`);
  });
  return r;
}

/**
 * Whether a form post came from another site: such a post is refused outright, whatever its fields.
 * `Sec-Fetch-Site` decides where the browser sends it (pages cannot forge it); `Origin` against
 * PUBLIC_URL's origin only where it does not, since under `Referrer-Policy: no-referrer` a browser
 * sends `Origin: null` even for a form of our own page.
 */
export function fromAnotherSite(c: Context<WebEnv>, ownOrigin: string | undefined): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site) return !['same-origin', 'none'].includes(site);
  const origin = c.req.header('origin');
  return Boolean(origin && ownOrigin && origin !== ownOrigin);
}

/** A form post's fields, decoded strictly (only `application/x-www-form-urlencoded`), or why not. */
export async function formFields(
  c: Context<WebEnv>,
  parse: (raw: string) => { ok: true; q: Record<string, string> } | { ok: false; why: string },
): Promise<{ ok: true; q: Record<string, string> } | { ok: false; why: string }> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(c.req.header('content-type') ?? ''))
    return { ok: false, why: 'This must be sent by the page’s form.' };
  return parse(`?${await c.req.text()}`);
}
