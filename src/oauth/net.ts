import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { RefusedUrlError } from './errors.js';

/** Options of the guarded fetch; defaults beside each. */
export interface GuardOptions {
  /** Allow plain http and private, loopback and link-local addresses (tests, on-prem). Default false. */
  allowPrivate?: boolean;
  /** Redirect hops followed for GET/HEAD, each re-checked. Default 3. */
  maxRedirects?: number;
  /** Whole-request timeout. Default 10000 ms. */
  timeoutMs?: number;
  /** Largest response body read. Default 1 MiB. */
  maxBytes?: number;
  /** Allow plain http. Default: the value of `allowPrivate`. */
  allowHttp?: boolean;
  /** Which resolved addresses count as private. Default `isPrivateAddress` (tests narrow it to exercise hops). */
  isPrivate?: (address: string) => boolean;
}

type Options = Required<Omit<GuardOptions, 'allowHttp'>> & Pick<GuardOptions, 'allowHttp'>;

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** Whether an IP address is private, loopback, link-local, metadata or otherwise not a public unicast address. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Parse-time check: https (or http when private URLs are allowed), no credentials in the URL,
 * and an IP-literal host must be public. Names are checked again when the socket connects.
 */
export function checkUrl(
  raw: string,
  allowPrivate: boolean,
  o: Pick<GuardOptions, 'allowHttp' | 'isPrivate'> = {},
): { ok: true; url: URL } | { ok: false; reason: string } {
  const isPrivate = o.isPrivate ?? isPrivateAddress;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not a valid URL' };
  }
  if (url.protocol !== 'https:' && !((o.allowHttp ?? allowPrivate) && url.protocol === 'http:')) return { ok: false, reason: `${url.host} must use https` };
  if (url.username || url.password) return { ok: false, reason: `${url.host}: URLs with credentials are refused` };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && (isIP(host) ? isPrivate(host) : /^localhost$|\.localhost$|\.internal$/i.test(host))) {
    return { ok: false, reason: `${url.host} is a private, loopback or link-local address` };
  }
  return { ok: true, url };
}

/** A lookup that refuses private answers at connect time, so DNS cannot swap in an internal address after the check. */
function guardedLookup(allowPrivate: boolean, isPrivate: (a: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      const bad = addresses.find((a) => isPrivate(a.address));
      if (!allowPrivate && bad) return callback(new RefusedUrlError(`${hostname} resolves to a private address`), '', 4);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function once(url: URL, init: RequestInit, o: Options, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers = new Headers(init.headers);
    const body = init.body == null ? undefined : typeof init.body === 'string' ? init.body : init.body instanceof URLSearchParams ? init.body.toString() : undefined;
    if (init.body != null && body === undefined) return reject(new TypeError('guarded fetch supports string and URLSearchParams bodies'));
    if (init.body instanceof URLSearchParams && !headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { method: init.method ?? 'GET', headers: Object.fromEntries(headers), lookup: guardedLookup(o.allowPrivate, o.isPrivate), signal });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > o.maxBytes) return req.destroy(new RefusedUrlError(`${url.host} answered more than ${o.maxBytes} bytes`));
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 502;
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) for (const one of [v].flat()) h.append(k, one);
        const nullBody = status === 204 || status === 304 || (status >= 100 && status < 200);
        resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status: status < 200 ? 502 : status, headers: h }));
      });
    });
    req.end(body);
  });
}

/**
 * A fetch for URLs we did not write ourselves (discovery, DCR, discovered endpoints): every hop
 * is checked at parse time and again at connect time; redirects are followed for GET/HEAD only.
 * Compatible with the MCP SDK's `fetchFn`.
 */
export function guardedFetch(options: GuardOptions = {}): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  const o: Options = { allowPrivate: false, maxRedirects: 3, timeoutMs: 10_000, maxBytes: 1 << 20, isPrivate: isPrivateAddress, ...options };
  return async (input, init = {}) => {
    let current = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const signal = AbortSignal.any([AbortSignal.timeout(o.timeoutMs), ...(init.signal ? [init.signal] : [])]);
    const method = (init.method ?? 'GET').toUpperCase();
    for (let hop = 0; ; hop++) {
      const check = checkUrl(current, o.allowPrivate, o);
      if (!check.ok) throw new RefusedUrlError(`refused URL: ${check.reason}`);
      const res = await once(check.url, init, o, signal);
      const location = res.headers.get('location');
      const follow = res.status >= 300 && res.status < 400 && location && init.redirect !== 'manual' && (method === 'GET' || method === 'HEAD');
      if (!follow) return res;
      if (init.redirect === 'error' || hop >= o.maxRedirects) throw new RefusedUrlError(`too many redirects from ${check.url.host}`);
      current = new URL(location, check.url).href;
    }
  };
}
