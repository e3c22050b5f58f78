import { isIP } from 'node:net';

/**
 * Why the network guard refuses a URL, as a value (chat/ words it). `host` is the URL's host, never
 * its path or query. `private`: `class` names the address class of a literal address or private
 * name, as a code (`loopback`, `nat64:private`, `private_name` …: see `AddressClass`); without it, the name resolved to such an address.
 */
export type UrlRefusal =
  | { code: 'bad_url' }
  /** `protocol`: the URL's scheme (`ftp:`, or `http:` where https is required). */
  | { code: 'scheme'; host: string; protocol: string }
  | { code: 'credentials'; host: string }
  | { code: 'private'; host: string; class?: string }
  | { code: 'too_large'; host: string; maxBytes: number }
  | { code: 'redirects'; host: string };

/** A parse-time verdict on a URL: the parsed URL, or why it is refused. */
export type UrlCheck = { ok: true; url: URL } | ({ ok: false } & UrlRefusal);

/** The refusal inside a failed check, without its `ok`. */
export function refusalOf(c: Extract<UrlCheck, { ok: false }>): UrlRefusal {
  const { ok: _ok, ...refusal } = c;
  return refusal as UrlRefusal;
}

/** Names that are private whatever DNS says (RFC 6761 `localhost`, and `.internal` cloud names). */
const privateName = /(^|\.)localhost$|\.internal$/i;

/** The URL's host as the address to check: IPv6 without brackets, no trailing dot. */
export function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

/**
 * Parses and checks a URL before anything is sent: https (http only when `allowHttp`), no
 * credentials in it, and a literal address must pass `addressReason`. WHATWG parsing has already
 * turned `0x7f.1`, `017700000001` and `2130706433` into `127.0.0.1`, so the check sees the real address.
 */
export function parseUrl(
  raw: string,
  o: { allowHttp: boolean; allowPrivate: boolean; addressReason: (a: string) => string | undefined },
): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, code: 'bad_url' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, code: 'scheme', host: url.host, protocol: url.protocol };
  if (url.username || url.password) return { ok: false, code: 'credentials', host: url.host };
  if (!o.allowPrivate) {
    const host = hostOf(url);
    const why = isIP(host) ? o.addressReason(host) : privateName.test(host) ? 'private_name' : undefined;
    if (why) return { ok: false, code: 'private', host: url.host, class: why };
  }
  if (url.protocol === 'http:' && !o.allowHttp)
    return { ok: false, code: 'scheme', host: url.host, protocol: url.protocol };
  return { ok: true, url };
}
