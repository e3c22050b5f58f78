import { isIP } from 'node:net';

/** A parse-time verdict on a URL: the parsed URL, or one phrase saying what is wrong with it. */
export type UrlCheck =
  { ok: true; url: URL } | { ok: false; code: 'bad_url' | 'scheme' | 'credentials' | 'private'; reason: string };

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
    return { ok: false, code: 'bad_url', reason: 'is not a valid URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, code: 'scheme', reason: `is a ${url.protocol} URL; it must use https` };
  if (url.username || url.password)
    return { ok: false, code: 'credentials', reason: `${url.host}: URLs with credentials are refused` };
  if (!o.allowPrivate) {
    const host = hostOf(url);
    const why = isIP(host) ? o.addressReason(host) : privateName.test(host) ? 'private name' : undefined;
    if (why)
      return {
        ok: false,
        code: 'private',
        reason: `${url.host} is a loopback, private or link-local address (${why})`,
      };
  }
  if (url.protocol === 'http:' && !o.allowHttp)
    return { ok: false, code: 'scheme', reason: `${url.host} must use https` };
  return { ok: true, url };
}
