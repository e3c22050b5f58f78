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
