import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Secret } from '../crypto/index.js';
import { RefusedUrlError, type GuardedFetch } from '../net/index.js';

/** The server fields the pool needs. */
export interface PoolServer {
  id: string;
  name: string;
  transport: 'http' | 'stdio';
  url: string | null;
  command: string | null;
  args: string[];
  /** `operator`: configured by the operator, so private addresses are allowed. Default `admin`. */
  source?: 'operator' | 'admin';
}

/** One caller's credential set for one server: env vars (stdio) or headers (http). */
export interface CredentialSet {
  env: Record<string, Secret>;
  headers: Record<string, Secret>;
}

/**
 * A Streamable HTTP transport sending the bound headers through `base`. Every 401/403 hands its
 * WWW-Authenticate to `onAuthChallenge`, so a 403 can be told apart (insufficient_scope carries the scopes).
 */
export function httpTransport(
  server: PoolServer,
  creds: CredentialSet,
  base: GuardedFetch,
  onAuthChallenge: (wwwAuthenticate: string | undefined) => void,
): StreamableHTTPClientTransport {
  const headers = Object.fromEntries(Object.entries(creds.headers).map(([k, v]) => [k, v.reveal()]));
  const watched: GuardedFetch = async (input, init) => {
    let res: Response;
    try {
      res = await base(input, init);
    } catch (err) {
      if (err instanceof RefusedUrlError) throw new RefusedUrlError(err.refusal, server.name);
      throw err;
    }
    if (res.status === 401 || res.status === 403) onAuthChallenge(res.headers.get('www-authenticate') ?? undefined);
    return res;
  };
  return new StreamableHTTPClientTransport(new URL(server.url!), { requestInit: { headers }, fetch: watched });
}

/** A stdio transport: the bound env vars plus the SDK's safe list, never this process's environment. */
export function stdioTransport(server: PoolServer, creds: CredentialSet): StdioClientTransport {
  // The SDK adds only its safe list (HOME, LOGNAME, PATH, SHELL, TERM, USER) to `env`.
  const env = Object.fromEntries(Object.entries(creds.env).map(([k, v]) => [k, v.reveal()]));
  return new StdioClientTransport({ command: server.command!, args: server.args, env, stderr: 'ignore' });
}
