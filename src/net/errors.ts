import { CodedError } from '../errors.js';
/** A URL or address the network guard refused (scheme, private address, redirects, size); the message names the host, never a query. */
export class RefusedUrlError extends CodedError {
  readonly code = 'refused_url';
}
