/** A URL or address the network guard refused (scheme, private address, redirects, size); the message names the host, never a query. */
export class RefusedUrlError extends Error {
  readonly code = 'refused_url';
}
