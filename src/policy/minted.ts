import type { Secret } from '../crypto/index.js';
import type { Problem } from '../db/schema/shapes.js';
import type { ExchangeResult } from '../oauth/exchange.js';
import type { MintFailure } from '../oauth/machine.js';
import type { McpServerRef } from '../oauth/mcp.js';
import type { Minted } from '../oauth/minted.js';
import type { McpServerRow } from './servers.js';
import type { BindingSource } from './sources.js';

/** What the OAuth engine offers for tokens onbehalf obtains itself (absent: such bindings are refused). */
export interface MintedTokenSource {
  /** The org's client credentials token for `server`; `fresh`: the cached one was refused. */
  machineToken(orgId: string, userId: string, server: McpServerRef, fresh: boolean): Promise<Minted | MintFailure>;
  /** The caller's grant at `provider` exchanged for a token for `server` alone. */
  exchangeToken(
    orgId: string,
    userId: string,
    provider: string,
    server: McpServerRef,
    fresh: boolean,
  ): Promise<ExchangeResult>;
}

/** Why no token (a `Resolution` of resolve.ts, which calls this). */
type Failed =
  | { kind: 'needs_connect'; providerSlug: string; providerId: string; reason: 'missing' | 'needs_reauth' }
  | { kind: 'unavailable' | 'misconfigured'; problem: Problem };
const misconfigured = (problem: Problem): Failed => ({ kind: 'misconfigured', problem });

/** `client_credentials:<server>` and `exchange:<provider>`: a token minted for this server only. */
export async function mintedToken(
  tokens: Partial<MintedTokenSource>,
  server: McpServerRow,
  caller: { orgId: string; userId: string },
  s: Extract<BindingSource, { kind: 'client_credentials' | 'exchange' }>,
  creds: { minted: string[]; connectionIds: string[]; vendorAccounts: string[] },
  forced: Set<string> | undefined,
): Promise<Secret | Failed> {
  const key = s.kind === 'exchange' ? `exchange:${s.provider}` : `client_credentials:${s.server}`;
  const fresh = forced?.has(key) ?? false;
  if (!server.url || server.transport !== 'http' || !tokens.machineToken || !tokens.exchangeToken)
    return misconfigured({ code: 'minted_unsupported', server: server.name, source: key });
  const ref = { serverId: server.id, serverName: server.name, url: server.url };
  creds.minted.push(key);
  if (s.kind === 'client_credentials') {
    // A machine token is asked for the server it is sent to: another server's would be a passthrough.
    if (s.server !== server.name)
      return misconfigured({ code: 'machine_other_server', server: server.name, named: s.server });
    const r = await tokens.machineToken(caller.orgId, caller.userId, ref, fresh);
    return r.kind === 'minted' ? r.token : failure(r, server.name, undefined);
  }
  const r = await tokens.exchangeToken(caller.orgId, caller.userId, s.provider, ref, fresh);
  if (r.kind !== 'minted') return exchangeFailure(r, server.name, s.provider);
  creds.connectionIds.push(r.connectionId);
  if (r.vendorAccount) creds.vendorAccounts.push(r.vendorAccount);
  return r.token;
}

function failure(r: MintFailure, server: string, provider: string | undefined): Failed {
  switch (r.kind) {
    case 'no_client':
      return misconfigured({ code: 'machine_client_missing', server });
    case 'not_protected':
      return misconfigured({ code: 'mcp_not_protected', server });
    case 'auth_failed':
      return misconfigured({ code: 'mcp_auth_failed', server, kind: r.failure.kind, failure: r.failure });
    case 'refused':
      return misconfigured({ code: 'machine_token_refused', server, error: r.error, description: r.description });
    case 'unavailable':
      return { kind: 'unavailable', problem: { code: 'provider_unreachable', provider: provider ?? server } };
  }
}

function exchangeFailure(r: Exclude<ExchangeResult, Minted>, server: string, provider: string): Failed {
  switch (r.kind) {
    case 'missing':
    case 'needs_reauth':
      return { kind: 'needs_connect', providerSlug: r.providerSlug, providerId: r.providerId, reason: r.kind };
    case 'denied':
      return misconfigured({
        code: 'exchange_denied',
        server,
        provider,
        by: r.by,
        error: r.error,
        description: r.description,
      });
    case 'no_id_token':
      return misconfigured({ code: 'exchange_no_id_token', server, provider });
    case 'unknown_provider':
      return misconfigured({ code: 'unknown_provider', provider });
    case 'unavailable':
      return { kind: 'unavailable', problem: { code: 'provider_unreachable', provider } };
    case 'insufficient_scope':
      return misconfigured({ code: 'token_store', provider });
    default:
      return failure(r, server, provider);
  }
}
