import type { OAuthDeps } from './deps.js';
import { quirksOf } from './presets.js';
import type { ProviderRow } from './providers.js';
import type { ConnectionRow, ConnectionStore } from './store.js';
import type { TokenClient } from './tokenclient.js';

/** Revokes a grant at the provider (best effort) and deletes the sealed tokens; whether the provider confirmed. */
export async function revokeAndDelete(
  d: Pick<OAuthDeps, 'log' | 'metrics'>,
  conns: ConnectionStore,
  client: TokenClient,
  p: ProviderRow,
  row: ConnectionRow,
): Promise<boolean> {
  let revoked = false;
  try {
    const refresh = conns.open(row, 'refresh');
    const access = conns.open(row, 'access');
    // RFC 7009 §2.1: revoking the refresh token revokes the grant; else revoke the access token.
    if (refresh && quirksOf(p.kind).revoke !== 'github') revoked = await client.revoke(p, refresh, 'refresh_token');
    else if (access) revoked = await client.revoke(p, access, 'access_token');
  } catch (err) {
    d.log.warn({ provider: p.slug, err: (err as Error).message }, 'could not revoke at the provider');
  }
  await conns.delete(row.id);
  d.metrics?.oauthEvents.inc({ event: 'disconnect', result: revoked ? 'revoked' : 'local_only' });
  return revoked;
}
