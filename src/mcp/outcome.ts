import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { RefusedUrlError, type UrlRefusal } from '../net/index.js';

/** What one tools/call gave, as a value. `sent`: the request may have reached the server. */
export type CallResult =
  | { kind: 'ok'; result: CallToolResult }
  /** 401: the server rejected the credentials. */
  | { kind: 'unauthorized' }
  /** 403 with `insufficient_scope`: the grant needs more scopes. */
  | { kind: 'insufficient_scope'; scopes: string[] }
  | { kind: 'timeout' }
  /**
   * Transport failure; `detail` is a short code, never a server's text: a system error code
   * (ECONNREFUSED), `HTTP 503`, `connection_closed`, `transport_error`, `connect`.
   */
  | { kind: 'unreachable'; sent: boolean; detail: string }
  /** The network guard refused the server's address (private, loopback …, or plain http); `server` names it. */
  | { kind: 'refused'; refusal: UrlRefusal; server?: string | undefined }
  /** The server answered with a JSON-RPC error (unknown tool, invalid params …). */
  | { kind: 'protocol'; code: number; message: string };

const notSentCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOENT',
  'EACCES',
]);

function causeCode(err: unknown): string | undefined {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/** Parses `scope="a b"` out of a WWW-Authenticate header. */
export function scopesOf(wwwAuthenticate: string | undefined): string[] {
  const m = wwwAuthenticate?.match(/scope="([^"]*)"/);
  return m ? m[1]!.split(/\s+/).filter(Boolean) : [];
}

/**
 * Turns whatever the SDK threw into a `CallResult`. `phase` says whether the request could have
 * been sent: a failure while connecting never ran a tool.
 */
export function classifyError(err: unknown, phase: 'connect' | 'call', lastWwwAuthenticate?: string): CallResult {
  const e = err as Error & { code?: unknown };
  if (e instanceof RefusedUrlError) return { kind: 'refused', refusal: e.refusal, server: e.server };
  if (e?.name === 'TimeoutError' || (e instanceof McpError && e.code === ErrorCode.RequestTimeout))
    return { kind: 'timeout' };
  if (e instanceof StreamableHTTPError) {
    const status = e.code ?? 0;
    if (status === 401) return { kind: 'unauthorized' };
    if (status === 403 && /insufficient_scope/.test(lastWwwAuthenticate ?? ''))
      return { kind: 'insufficient_scope', scopes: scopesOf(lastWwwAuthenticate) };
    // Other 4xx: the server refused this request as such; sending it again changes nothing.
    if (status >= 400 && status < 500 && status !== 404 && status !== 408 && status !== 429)
      return { kind: 'protocol', code: status, message: `HTTP ${status}` };
    // 404 on a session: the server forgot it (restart); the request did not run.
    const sent = phase === 'call' && status !== 404;
    return { kind: 'unreachable', sent, detail: `HTTP ${status}` };
  }
  if (e instanceof McpError) {
    if (e.code === ErrorCode.ConnectionClosed)
      return { kind: 'unreachable', sent: phase === 'call', detail: 'connection_closed' };
    return { kind: 'protocol', code: e.code, message: e.message.slice(0, 300) };
  }
  const code = causeCode(err);
  if (code && notSentCodes.has(code)) return { kind: 'unreachable', sent: false, detail: code };
  return { kind: 'unreachable', sent: phase === 'call', detail: code ?? 'transport_error' };
}

/** Whether a result kind is worth another attempt, given whether the tool may safely run twice. */
export function retryable(r: CallResult, idempotent: boolean): boolean {
  return r.kind === 'unreachable' && (!r.sent || idempotent);
}

/** The text content of a tool result. */
export function resultText(r: CallToolResult): string {
  return r.content
    .map((c) => (c.type === 'text' ? c.text : c.type === 'resource' ? `[resource ${c.resource.uri}]` : `[${c.type}]`))
    .join('\n');
}
