import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { RefusedUrlError } from './errors.js';
import { refusalOf, type UrlCheck } from './url.js';

/** Limits of one guarded fetch, with their defaults. */
export interface FetchOptions {
  /** Deadline of the whole exchange, headers and body. Default 10000 ms; 0: none (the caller's signal bounds it). */
  timeoutMs?: number;
  /** A socket silent this long is dropped. Default 300000 ms (5 minutes), like undici's body timeout. */
  idleTimeoutMs?: number;
  /** Largest response body. Default 1 MiB. */
  maxBytes?: number;
  /** Redirects followed for GET/HEAD, each hop checked again. Default 3. */
  maxRedirects?: number;
}

export const fetchDefaults: Required<FetchOptions> = {
  timeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  maxBytes: 1 << 20,
  maxRedirects: 3,
};

/** A fetch-compatible function (the MCP SDK's `fetch`/`fetchFn` options take it). */
export type GuardedFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** What the fetch needs from the guard: the parse-time check, the checked lookup and its agents. */
export interface FetchEngine {
  checkUrl(raw: string): UrlCheck;
  lookup: LookupFunction;
  agents: { http: http.Agent; https: https.Agent };
}

const timeoutError = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

function bodyOf(body: RequestInit['body']): string | Buffer | undefined {
  if (body == null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('the guarded fetch sends string, URLSearchParams and byte bodies');
}

/** One request to one checked URL; the body streams, capped at `maxBytes`. */
function once(
  e: FetchEngine,
  url: URL,
  method: string,
  headers: Headers,
  body: string | Buffer | undefined,
  o: Required<FetchOptions>,
  signal: AbortSignal,
  done: () => void,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const tls = url.protocol === 'https:';
    const req = (tls ? https : http).request(url, {
      method,
      headers: Object.fromEntries(headers),
      agent: tls ? e.agents.https : e.agents.http,
      lookup: e.lookup,
      signal,
    });
    req.setTimeout(o.idleTimeoutMs, () => req.destroy(timeoutError()));
    req.on('error', (err) => {
      done();
      reject(signal.aborted ? signal.reason : err);
    });
    req.on('response', (res) => resolve(responseOf(res, url, method, o, signal, done)));
    req.end(body);
  });
}

/** The node response as a fetch Response; its body streams, capped at `maxBytes`. */
function responseOf(
  res: http.IncomingMessage,
  url: URL,
  method: string,
  o: Required<FetchOptions>,
  signal: AbortSignal,
  done: () => void,
): Response {
  const status = res.statusCode && res.statusCode >= 200 && res.statusCode <= 599 ? res.statusCode : 502;
  const h = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) for (const one of [v].flat()) h.append(k, one);
  if (method === 'HEAD' || status === 204 || status === 205 || status === 304) {
    res.on('error', () => undefined);
    res.resume();
    res.on('end', done);
    return new Response(null, { status, headers: h });
  }
  return new Response(bodyStream(res, url, o, signal, done), { status, headers: h });
}

/** The body as a stream with backpressure; more than `maxBytes`, or the socket closing early, fails it. */
function bodyStream(
  res: http.IncomingMessage,
  url: URL,
  o: Required<FetchOptions>,
  signal: AbortSignal,
  done: () => void,
): ReadableStream<Uint8Array> {
  let size = 0;
  let finished = false;
  const finish = () => {
    finished = true;
    done();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const fail = (err: unknown) => {
        if (finished) return;
        finish();
        controller.error(err);
        res.destroy();
      };
      res.on('data', (c: Buffer) => {
        if (finished) return;
        size += c.length;
        if (size > o.maxBytes)
          return fail(new RefusedUrlError({ code: 'too_large', host: url.host, maxBytes: o.maxBytes }));
        controller.enqueue(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      res.on('end', () => {
        if (finished) return;
        finish();
        controller.close();
      });
      res.on('error', (err) => fail(signal.aborted ? signal.reason : err));
      res.on('close', () =>
        fail(
          signal.aborted
            ? signal.reason
            : Object.assign(new Error(`${url.host} closed the connection mid-answer`), { code: 'ECONNRESET' }),
        ),
      );
    },
    pull() {
      res.resume();
    },
    cancel() {
      finish();
      res.destroy();
    },
  });
}

/**
 * A fetch for URLs a tenant admin could aim: every hop is checked when parsed and again when its
 * socket connects (the checked `lookup` judges the address actually connected to, so DNS cannot
 * swap one in after the check); redirects are followed by hand for GET/HEAD only.
 */
export function guardedFetch(e: FetchEngine, options: FetchOptions = {}): GuardedFetch {
  const o = { ...fetchDefaults, ...options };
  return async (input, init = {}) => {
    const request = input instanceof Request ? input : undefined;
    let current = request ? request.url : input instanceof URL ? input.href : (input as string);
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers ?? request?.headers);
    let body = bodyOf(init.body);
    if (init.body instanceof URLSearchParams && !headers.has('content-type'))
      headers.set('content-type', 'application/x-www-form-urlencoded');

    // One deadline for the whole exchange, cleared once the body has been read.
    const ac = new AbortController();
    const outer = init.signal ?? request?.signal;
    const onOuter = () => ac.abort(outer!.reason);
    if (outer?.aborted) onOuter();
    else outer?.addEventListener('abort', onOuter, { once: true });
    const timer = o.timeoutMs > 0 ? setTimeout(() => ac.abort(timeoutError()), o.timeoutMs) : undefined;
    const done = () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    };
    // The hop whose answer ends the exchange; a redirect's own body ending does not.
    let live = 0;
    try {
      for (let hop = 0; ; hop++) {
        live = hop;
        const check = e.checkUrl(current);
        if (!check.ok) throw new RefusedUrlError(refusalOf(check));
        if (ac.signal.aborted) throw ac.signal.reason;
        const res = await once(e, check.url, method, headers, body, o, ac.signal, () => live === hop && done());
        const location = res.headers.get('location');
        const follow =
          res.status >= 300 &&
          res.status < 400 &&
          location &&
          init.redirect !== 'manual' &&
          (method === 'GET' || method === 'HEAD');
        if (!follow) return res;
        live = -1;
        await res.body?.cancel();
        if (init.redirect === 'error' || hop >= o.maxRedirects)
          throw new RefusedUrlError({ code: 'redirects', host: check.url.host });
        const next = new URL(location, check.url);
        // As fetch does: credentials do not follow a redirect to another origin.
        if (next.origin !== check.url.origin)
          for (const k of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(k);
        body = undefined;
        current = next.href;
      }
    } catch (err) {
      done();
      throw err;
    }
  };
}
