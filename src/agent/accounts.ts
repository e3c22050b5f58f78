import { parseSource, type Policy } from '../policy/index.js';
import type { ToolAccount } from './progress.js';

/** A connection of the caller, as far as progress names it (no token). */
export interface AccountLookup {
  providerSlug: string;
  vendorLogin: string | null;
  status: string;
}

/**
 * The accounts a call of `serverName` uses for this caller, from the server's credential bindings:
 * each per-user grant (with the vendor login of the caller's connection, where there is one) and
 * each secret, once. Values are never read; a server without bindings uses no account.
 */
export async function accountsFor(
  policy: Pick<Policy, 'server' | 'bindings'>,
  connections: (orgId: string, userId: string) => Promise<AccountLookup[]>,
  orgId: string,
  userId: string,
  serverName: string,
): Promise<ToolAccount[]> {
  const server = await policy.server(orgId, serverName);
  if (!server) return [];
  const out: ToolAccount[] = [];
  const seen = new Set<string>();
  let mine: AccountLookup[] | undefined;
  for (const b of await policy.bindings(server.id)) {
    const parsed = parseSource(b.source);
    if (!parsed.ok) continue;
    const s = parsed.source;
    let account: ToolAccount | undefined;
    if (s.kind === 'oauth' || s.kind === 'mcp_oauth') {
      const provider = s.kind === 'oauth' ? s.provider : server.name;
      mine ??= await connections(orgId, userId);
      const login = mine.find((c) => c.providerSlug === provider && c.status === 'active')?.vendorLogin;
      account = { kind: 'grant', provider, ...(login ? { login } : {}) };
    } else if (s.kind === 'org_secret' || s.kind === 'team_secret')
      account = { kind: 'shared', scope: s.kind === 'org_secret' ? 'org' : 'team', name: s.name };
    else if (s.kind === 'user_secret') account = { kind: 'own_secret', name: s.name };
    const key = JSON.stringify(account);
    if (!account || seen.has(key)) continue;
    seen.add(key);
    out.push(account);
  }
  return out;
}
