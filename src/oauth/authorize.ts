import { createHash } from 'node:crypto';
import { quirksOf } from './presets.js';
import type { ProviderRow } from './providers.js';

/** `PUBLIC_URL + /oauth/callback`, exactly: what the admin registers at the vendor. */
export const redirectUriOf = (publicUrl: string): string => `${publicUrl}/oauth/callback`;

/** The S256 PKCE challenge of a verifier (RFC 7636). */
export const pkceChallenge = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

/** The provider's authorization URL for one flow: code + PKCE S256, our state, the RFC 8707 resource. */
export function authorizeUrl(
  p: ProviderRow,
  redirectUri: string,
  scopes: string[],
  state: string,
  verifier: string,
): string {
  const q = quirksOf(p.kind);
  const url = new URL(p.authorizeUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  if (scopes.length) url.searchParams.set(q.scopeParam ?? 'scope', scopes.join(q.scopeSeparator ?? ' '));
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', pkceChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  if (p.resource) url.searchParams.set('resource', p.resource);
  for (const [k, v] of Object.entries(q.authorizeParams ?? {})) url.searchParams.set(k, v);
  return url.href;
}
