import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { canonicalAddress, nonPublicReason } from './address.js';
import { RefusedUrlError } from './errors.js';
import { guardedFetch, type FetchEngine, type FetchOptions, type GuardedFetch } from './fetch.js';
import { hostOf, parseUrl, type UrlCheck } from './url.js';

/** Resolves a host name to every address it has. */
export type Resolve = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** Options of the network guard, with their defaults. */
export interface NetGuardOptions {
  /** `ONBEHALF_ALLOW_PRIVATE_URLS`: plain http and every address are allowed (tests, on-prem). Default false. */
  allowPrivate?: boolean;
  /** Plain http to public addresses. Default: the value of `allowPrivate`. */
  allowHttp?: boolean;
  /**
   * Tests only: these exact addresses count as public, so a loopback peer can play a public host
   * (a first redirect hop, a rebinding name's first answer). Default none.
   */
  allowAddresses?: readonly string[];
  /** How names are resolved, at add time and when a socket connects. Default `dns.lookup` (every address). */
  resolve?: Resolve;
}

const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * The one outbound network guard: decides whether a URL or address may be reached and performs
 * the fetches that reach it. Private, loopback, link-local, CGNAT, benchmarking, multicast,
 * unspecified, reserved, IPv4-mapped/compatible IPv6 and NAT64/6to4/Teredo forms of those are
 * refused unless `allowPrivate`.
 */
export class NetGuard {
  readonly allowPrivate: boolean;
  readonly #allowHttp: boolean;
  readonly #allowed: Set<string>;
  readonly #resolve: Resolve;
  readonly #engine: FetchEngine;

  constructor(o: NetGuardOptions = {}) {
    this.allowPrivate = o.allowPrivate ?? false;
    this.#allowHttp = o.allowHttp ?? this.allowPrivate;
    this.#allowed = new Set((o.allowAddresses ?? []).map((a) => canonicalAddress(a) ?? a));
    this.#resolve = o.resolve ?? systemResolve;
    const lookup = this.#lookup();
    // Own agents: a socket is only reused by requests that went through this guard's lookup.
    this.#engine = {
      checkUrl: (raw) => this.checkUrl(raw),
      lookup,
      agents: {
        http: new http.Agent({ keepAlive: true, lookup }),
        https: new https.Agent({ keepAlive: true, lookup }),
      },
    };
  }

  /** Why this address may not be reached, or undefined when it may. */
  addressReason(address: string): string | undefined {
    if (this.allowPrivate || this.#allowed.has(canonicalAddress(address) ?? address)) return undefined;
    return nonPublicReason(address);
  }

  /** Parse-time check (no DNS): scheme, credentials, literal addresses and private names. */
  checkUrl(raw: string): UrlCheck {
    return parseUrl(raw, {
      allowHttp: this.#allowHttp,
      allowPrivate: this.allowPrivate,
      addressReason: (a) => this.addressReason(a),
    });
  }

  /**
   * Add-time check: `checkUrl`, then a name's current addresses. A name that does not resolve now
   * passes (the fetch checks the address it connects to, every time).
   */
  async checkTarget(raw: string): Promise<UrlCheck> {
    const c = this.checkUrl(raw);
    if (!c.ok || this.allowPrivate) return c;
    const host = hostOf(c.url);
    if (isIP(host)) return c;
    const addresses = await this.#resolve(host).catch(() => []);
    if (addresses.some((a) => this.addressReason(a.address))) return { ok: false, code: 'private', host: c.url.host };
    return c;
  }

  /** A fetch through this guard (compatible with the MCP SDK's `fetch`/`fetchFn`). */
  fetch(options: FetchOptions = {}): GuardedFetch {
    return guardedFetch(this.#engine, options);
  }

  /** Closes idle kept-alive sockets. */
  close(): void {
    this.#engine.agents.http.destroy();
    this.#engine.agents.https.destroy();
  }

  /** The lookup a socket uses to connect: every answer is checked, so the address connected to is one that passed. */
  #lookup(): LookupFunction {
    return (hostname, options, callback) => {
      const cb = callback as (
        err: Error | null,
        address: string | { address: string; family: number }[],
        family?: number,
      ) => void;
      this.#resolve(hostname).then(
        (found) => {
          const answers =
            options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
          if (!answers.length)
            return cb(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 4);
          if (answers.some((a) => this.addressReason(a.address)))
            return cb(new RefusedUrlError({ code: 'private', host: hostname }), '', 4);
          if (options.all) return cb(null, answers);
          cb(null, answers[0]!.address, answers[0]!.family);
        },
        (err: Error) => cb(err, '', 4),
      );
    };
  }
}
