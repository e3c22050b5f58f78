import { CodedError } from '../errors.js';
import type { UrlRefusal } from './url.js';

/**
 * A URL or address the network guard refused (scheme, private address, redirects, size), as a
 * value in `refusal` (chat/ words it); `server` names the MCP server it was for. The message, for
 * logs, names the host and the code, never a path or query.
 */
export class RefusedUrlError extends CodedError {
  readonly code = 'refused_url';
  constructor(
    readonly refusal: UrlRefusal,
    readonly server?: string,
  ) {
    const host = 'host' in refusal ? refusal.host : 'a URL';
    super(`${server ? `${server}: ` : ''}the network guard refused ${host} (${refusal.code})`);
  }
}

/**
 * An error as a failure's `detail`: data from below us, never a sentence of ours. A system error
 * code where the error or its cause has one (`ENOTFOUND`, `ECONNRESET`: this guard's own errors
 * carry one), else the SDK's or the peer's own message; at most 200 characters.
 */
export function upstreamDetail(err: unknown): string {
  let e = err as { code?: unknown; cause?: unknown; message?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++, e = e.cause as typeof e) if (typeof e.code === 'string') return e.code;
  const message = (err as { message?: unknown } | undefined)?.message;
  return (typeof message === 'string' ? message : String(err)).slice(0, 200);
}
