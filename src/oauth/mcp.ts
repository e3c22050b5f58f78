import type { McpAuthFailure } from '../db/schema/shapes.js';
import { RefusedUrlError, refusalOf, upstreamDetail } from '../net/index.js';
import { discover, discoveryFailed, probe, type FetchLike, type Found, type Probe } from './discovery.js';
import { McpClientRegistration } from './registration.js';
import { defaults, withDefaults, type OAuthDeps } from './deps.js';
import { RedisLock } from '../redis/index.js';
import type { ProviderStore } from './providers.js';

/** The MCP server a per-user grant is wanted for. */
export interface McpServerRef {
  serverId: string;
  serverName: string;
  url: string;
}

/** Outcome of `ensureMcpProvider`: the provider slug to use, or why MCP-spec OAuth cannot be used. */
export type McpProviderResult =
  | { kind: 'ok'; providerSlug: string; providerId: string; registered: boolean }
  /** The server answered without asking for a token. */
  | { kind: 'not_protected' }
  /**
   * A URL refused by the SSRF guard, discovery metadata missing or inconsistent, no PKCE S256, or
   * dynamic client registration not offered or refused (db/schema/shapes.ts `McpAuthFailure`).
   */
  | McpAuthFailure;

/** A refusal of the network guard, as a result; undefined for any other error. */
const refused = (err: unknown) =>
  err instanceof RefusedUrlError
    ? { kind: 'refused_url' as const, at: 'request' as const, refusal: err.refusal }
    : undefined;

/**
 * MCP authorization (source `mcp_oauth`): RFC 9728 protected resource metadata, RFC 8414/OIDC
 * authorization server metadata, and RFC 7591 registration once per org and server.
 */
export class McpAuthorization {
  readonly #lock: RedisLock;
  readonly #registration: McpClientRegistration;

  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
  ) {
    this.#lock = new RedisLock(d.redis);
    this.#registration = new McpClientRegistration(d, providers);
  }

  /** An admin's client id for a server, stored until discovery completes it (registration.ts). */
  preRegister(orgId: string, s: Omit<McpServerRef, 'url'>, clientId: string, opts?: { privateKey?: boolean }) {
    return this.#registration.preRegister(orgId, s, clientId, opts);
  }

  /**
   * The slug of the `mcp` provider for this server, discovering and registering on first use.
   * `recheck` (before a person is sent to authorize): discovers again, at most once a minute per
   * server, so a server now behind another authorization server gets a client of that issuer.
   * `pkce: false`: a client that never sends a person to the authorization server (client
   * credentials, a JWT bearer grant) does not need the server to offer PKCE. Default true.
   */
  async ensure(
    orgId: string,
    s: McpServerRef,
    opts: { recheck?: boolean; pkce?: boolean } = {},
  ): Promise<McpProviderResult> {
    const known = await this.#ready(orgId, s.serverId);
    const recheck = known && opts.recheck === true && (await this.#recheckDue(orgId, s.serverId));
    if (known && !recheck) return { kind: 'ok', providerSlug: known.slug, providerId: known.id, registered: false };
    const parsed = await this.d.net.checkTarget(s.url);
    if (!parsed.ok) return { kind: 'refused_url', at: 'server', refusal: refusalOf(parsed) };
    // Two users at once must not register two clients: single flight per org and server.
    const key = `onbehalf:oauth:dcr:${orgId}:${s.serverId}`;
    const deadline = Date.now() + withDefaults(this.d.options).lockWaitMs;
    while (Date.now() < deadline) {
      const owner = await this.#lock.acquire(key, 30_000);
      if (!owner) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      try {
        const again = await this.#ready(orgId, s.serverId);
        if (again && !recheck) return { kind: 'ok', providerSlug: again.slug, providerId: again.id, registered: false };
        return await this.#discoverAndRegister(orgId, s, opts.pkce ?? true);
      } finally {
        await this.#lock.release(key, owner).catch(() => undefined);
      }
    }
    return discoveryFailed('busy');
  }

  /** True at most once a minute per org and server (Redis SET NX: across every process). */
  async #recheckDue(orgId: string, serverId: string): Promise<boolean> {
    const key = `onbehalf:oauth:mcp-recheck:${orgId}:${serverId}`;
    return (await this.d.redis.set(key, '1', 'PX', 60_000, 'NX')) === 'OK';
  }

  /** The server's `mcp` provider once discovered (a pre-registered client waits for its first discovery). */
  async #ready(orgId: string, serverId: string) {
    const p = await this.providers.forMcpServer(orgId, serverId);
    return p?.tokenUrl ? p : undefined;
  }

  async #discoverAndRegister(orgId: string, s: McpServerRef, pkce: boolean): Promise<McpProviderResult> {
    const fetchFn = this.d.net.fetch({ timeoutMs: this.d.options?.httpTimeoutMs ?? defaults.httpTimeoutMs });
    let answer: Probe;
    try {
      answer = await probe(s.url, fetchFn);
    } catch (err) {
      return refused(err) ?? discoveryFailed('no_answer', upstreamDetail(err));
    }
    if (answer.kind === 'open') return { kind: 'not_protected' };
    try {
      const found = await discover(this.d.net, s.url, answer, fetchFn, pkce);
      if (!('meta' in found)) return found;
      return await this.#register(orgId, s, found, fetchFn);
    } catch (err) {
      return refused(err) ?? discoveryFailed('failed', upstreamDetail(err));
    }
  }

  /** Registers onbehalf as a client (registration.ts: pre-registered, CIMD, same issuer, DCR) and records it. */
  async #register(orgId: string, s: McpServerRef, f: Found, fetchFn: FetchLike): Promise<McpProviderResult> {
    const r = await this.#registration.register(orgId, s, f, fetchFn);
    if ('kind' in r) return r;
    if (!r.registered) return { kind: 'ok', providerSlug: r.slug, providerId: r.id, registered: false };
    await this.d.audit.write({
      orgId,
      category: 'connection',
      action: 'mcp_client_registered',
      server: s.serverName,
      outcome: 'ok',
      detail: { provider: r.slug, issuer: f.meta.issuer },
    });
    this.d.log.info(
      { server: s.serverName, provider: r.slug },
      "registered an OAuth client with the MCP server's authorization server",
    );
    return { kind: 'ok', providerSlug: r.slug, providerId: r.id, registered: true };
  }
}
