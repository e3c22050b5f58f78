/** A URL the SSRF guard refused (scheme, private address, too many redirects); the message names the host, never a query. */
export class RefusedUrlError extends Error {
  readonly code = 'refused_url';
}
