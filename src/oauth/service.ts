import type { Secret } from '../crypto/index.js';
import type { OAuthDeps } from './deps.js';
import { runHook } from './hooks.js';
import { ConnectFlow } from './flow.js';
import type { CallbackOutcome, CallbackParams, ConsentPage, ContinueOutcome } from './pages.js';
import { clientMetadataDocument } from './registration.js';
import { McpAuthorization, type McpProviderResult, type McpServerRef } from './mcp.js';
import { ProviderStore, type ProviderInput, type ProviderView } from './providers.js';
import type { ConnectionResult, ProviderResult } from './results.js';
import { revokeAndDelete } from './revoke.js';
import { ConnectionStore } from './store.js';
import { TokenClient } from './tokenclient.js';
import { TokenService } from './tokens.js';
import { KeepAlive } from './keepalive.js';
import { MyConnections } from './me.js';
import { algorithmOf, readPrivateKey } from './assertion.js';
import { MachineCredentials } from './machine.js';
import { MintedTokens } from './minted.js';
import { TokenExchange } from './exchange.js';
import { ServiceGrants } from './service-grants.js';
import type { AccessTokenOptions, TokenResult, TokenSource } from './types.js';

/** One connection as the user sees it: no token. */
export interface ConnectionView {
  providerSlug: string;
  providerId: string;
  connectionId: string;
  status: 'active' | 'held' | 'needs_reauth' | 'revoked';
  vendorLogin: string | null;
  scopes: string[];
  /** Epoch ms; null: does not expire. */
  expiresAt: number | null;
}

/** The OAuth engine's public face: providers, connect links, tokens, connections, MCP-spec OAuth. */
export class OAuthService implements TokenSource {
  readonly providers: ProviderStore;
  readonly #conns: ConnectionStore;
  readonly #client: TokenClient;
  readonly #tokens: TokenService;
  readonly #flow: ConnectFlow;
  readonly #mcp: McpAuthorization;
  /** Client credentials grants (`client_credentials:<server>`). */
  readonly machine: MachineCredentials;
  /** Token exchange per server (`exchange:<provider>`). */
  readonly exchange: TokenExchange;
  /** The scheduled refresh of idle grants; `start()` of a service process starts it. */
  readonly keepAlive: KeepAlive;
  /** "My connections" in the browser: its link, session and list. */
  readonly me: MyConnections;
  /** The org's service grants (`admin connect <provider> --service <name>`, source `service:<provider>/<name>`). */
  readonly services: ServiceGrants;

  constructor(private readonly d: OAuthDeps) {
    this.providers = new ProviderStore(d);
    this.#conns = new ConnectionStore(d);
    this.#client = new TokenClient(d, this.providers);
    this.#tokens = new TokenService(d, this.providers, this.#conns, this.#client);
    this.#flow = new ConnectFlow(d, this.providers, this.#conns, this.#client);
    this.#mcp = new McpAuthorization(d, this.providers);
    this.keepAlive = new KeepAlive(d, this.providers, this.#tokens, d.keepAlive);
    this.me = new MyConnections(d, this.providers, this.#conns);
    const minted = new MintedTokens(d.redis, d.keyring);
    this.machine = new MachineCredentials(d, this.providers, this.#mcp, this.#client, minted);
    this.exchange = new TokenExchange(this.providers, this.#conns, this.#tokens, this.#mcp, this.#client, minted);
    this.services = new ServiceGrants(d, this.providers, this.#conns, this.#client, this.#tokens, this.#flow);
  }

  /** A valid token of the org's service grant `<providerSlug>/<name>`, or a typed reason there is none. */
  serviceTokenFor(orgId: string, providerSlug: string, name: string, opts?: AccessTokenOptions): Promise<TokenResult> {
    return this.services.accessTokenFor(orgId, providerSlug, name, opts);
  }

  /** `PUBLIC_URL + /oauth/callback`: what the admin registers at the vendor. */
  redirectUri(): string {
    return this.#flow.redirectUri();
  }

  /** Registers a provider (preset, `oidc` by discovery, or `oauth2` with explicit endpoints). */
  addProvider(orgId: string, input: ProviderInput): Promise<ProviderResult> {
    return this.providers.add(orgId, input);
  }

  /** Sets or clears (undefined / empty) a provider's client secret. */
  async setClientSecret(orgId: string, slug: string, secret: Secret | undefined): Promise<ProviderResult> {
    return this.providers.setClientSecret(orgId, slug, secret);
  }

  /** Sets the private key a provider's client signs `private_key_jwt` assertions with (checked, then sealed). */
  async setClientKey(orgId: string, slug: string, key: Secret): Promise<ProviderResult> {
    const k = readPrivateKey(key.reveal());
    const alg = k && algorithmOf(k);
    if (!alg) return { ok: false, error: { kind: 'bad_private_key' } };
    const r = await this.providers.setClientSecret(orgId, slug, key);
    // A key is only ever used to sign: never sent as a client secret, whatever the row said before.
    if (r.ok) await this.providers.setExtra(orgId, slug, { tokenEndpointAuthMethod: 'private_key_jwt' });
    return r.ok ? { ok: true, value: { kind: 'private_key_saved', slug, alg } } : r;
  }

  /** Providers of an org, without secrets. */
  async listProviders(orgId: string): Promise<ProviderView[]> {
    return this.providers.list(orgId);
  }

  /** Removes a provider and every connection to it. */
  async removeProvider(orgId: string, slug: string): Promise<ProviderResult> {
    return this.providers.remove(orgId, slug);
  }

  /** `PUBLIC_URL/oauth/start?t=…`: single use, 10 minutes; `extraScopes` asks for more (incremental consent). */
  connectLink(
    orgId: string,
    userId: string,
    providerSlug: string,
    opts?: { resumeCallId?: string; extraScopes?: string[] },
  ): Promise<string> {
    return this.#flow.connectLink(orgId, userId, providerSlug, opts);
  }

  /** `PUBLIC_URL/me?t=…`: the user's private "Manage in browser" link; single use, 10 minutes. */
  manageLink(orgId: string, userId: string): Promise<string> {
    return this.me.link(orgId, userId);
  }

  /** A valid token for this user, or a typed reason there is none. */
  accessTokenFor(orgId: string, userId: string, providerSlug: string, opts?: AccessTokenOptions): Promise<TokenResult> {
    return this.#tokens.accessTokenFor(orgId, userId, providerSlug, opts);
  }

  /** The user's connections (status, vendor login, scopes, expiry), never a token. */
  async listConnections(orgId: string, userId: string): Promise<ConnectionView[]> {
    const byId = new Map((await this.providers.rowsOf(orgId)).map((p) => [p.id, p.slug]));
    return (await this.#conns.listFor(orgId, userId))
      .filter((c) => byId.has(c.providerId))
      .map((c) => ({
        providerSlug: byId.get(c.providerId)!,
        providerId: c.providerId,
        connectionId: c.id,
        status: c.status,
        vendorLogin: c.vendorLogin,
        scopes: c.scopes,
        expiresAt: c.expiresAt,
      }));
  }

  /** Revokes at the provider (best effort), deletes the sealed tokens, audits either way. */
  async disconnect(orgId: string, userId: string, providerSlug: string): Promise<ConnectionResult> {
    const p = await this.providers.get(orgId, providerSlug);
    if (!p) return { ok: false, error: { kind: 'not_found', slug: providerSlug } };
    const row = await this.#conns.find(orgId, userId, p.id);
    if (!row) return { ok: false, error: { kind: 'no_connection', slug: providerSlug } };
    const revoked = await revokeAndDelete(this.d, this.#conns, this.#client, p, row);
    await this.d.audit.write({
      orgId,
      category: 'connection',
      action: 'disconnect',
      actorUserId: userId,
      onBehalfOfUserId: userId,
      connectionIds: [row.id],
      vendorAccount: row.vendorLogin,
      outcome: revoked ? 'revoked' : 'deleted_locally',
      detail: { provider: p.slug },
    });
    return {
      ok: true,
      value: {
        kind: 'disconnected',
        slug: providerSlug,
        vendorLogin: row.vendorLogin,
        revoked,
        displayName: p.displayName,
      },
    };
  }

  /** onbehalf's client ID metadata document, served at `PUBLIC_URL/oauth/client.json`. */
  clientMetadata() {
    return clientMetadataDocument(this.d);
  }

  /** An admin's client id for an MCP server: used instead of registering once discovery finds its authorization server. */
  async preRegisterMcpClient(
    orgId: string,
    server: { serverId: string; serverName: string },
    clientId: string,
    opts?: { privateKey?: boolean },
  ): Promise<ProviderResult> {
    return this.#mcp.preRegister(orgId, server, clientId, opts);
  }

  /** MCP-spec OAuth: discover and register (once per org and server; again on `recheck`) and return the provider slug to use. */
  ensureMcpProvider(orgId: string, server: McpServerRef, opts?: { recheck?: boolean }): Promise<McpProviderResult> {
    return this.#mcp.ensure(orgId, server, opts);
  }

  /** The org's client credentials token for an MCP server (`client_credentials:<server>`), cached until expiry. */
  machineToken(orgId: string, userId: string, server: McpServerRef, fresh: boolean) {
    return this.machine.token(orgId, userId, server, fresh);
  }

  /** The caller's grant at `providerSlug` exchanged for a token for `server` alone (`exchange:<provider>`). */
  exchangeToken(orgId: string, userId: string, providerSlug: string, server: McpServerRef, fresh: boolean) {
    return this.exchange.token(orgId, userId, providerSlug, server, fresh);
  }

  /** `GET /oauth/start`: the consent page (reads only). */
  page(t: string): Promise<ConsentPage> {
    return this.#flow.page(t);
  }

  /** `POST /oauth/start`: Continue; `browser` is the binding cookie the request carried, if any. */
  continue(t: string, csrf: string | undefined, browser: string | undefined): Promise<ContinueOutcome> {
    return this.#flow.continue(t, csrf, browser);
  }

  /** `/oauth/callback` logic (for the web router); `browser` is the binding cookie. */
  callback(q: CallbackParams, browser: string | undefined): Promise<CallbackOutcome> {
    return this.#flow.callback(q, browser);
  }

  /** The user confirms a held grant is theirs: it becomes active and their parked calls resume. */
  async confirmHeld(orgId: string, userId: string, providerSlug: string): Promise<ConnectionResult> {
    const p = await this.providers.get(orgId, providerSlug);
    const row = p ? await this.#conns.find(orgId, userId, p.id) : undefined;
    if (!p || !row || row.status !== 'held' || !(await this.#conns.release(row.id)))
      return { ok: false, error: { kind: 'nothing_held', slug: providerSlug } };
    await this.d.audit.write({
      orgId,
      category: 'connection',
      action: 'connect',
      actorUserId: userId,
      onBehalfOfUserId: userId,
      connectionIds: [row.id],
      vendorAccount: row.vendorLogin,
      outcome: 'connected',
      detail: { provider: p.slug, confirmedInChat: true },
    });
    // The call named by the link that produced this grant resumes too (its state row remembers it).
    const resumeCallId = await this.#flow.lastResumeCallId(orgId, userId, p.id);
    await runHook(this.d.hooks, this.d.log, 'grantArrived', {
      orgId,
      userId,
      providerId: p.id,
      providerSlug: p.slug,
      connectionId: row.id,
      vendorLogin: row.vendorLogin,
      resumeCallId,
    });
    return { ok: true, value: { kind: 'confirmed', slug: p.slug, vendorLogin: row.vendorLogin } };
  }

  /** The user says a held grant is not theirs: revoked at the provider and deleted. */
  async rejectHeld(orgId: string, userId: string, providerSlug: string): Promise<ConnectionResult> {
    const p = await this.providers.get(orgId, providerSlug);
    const row = p ? await this.#conns.find(orgId, userId, p.id) : undefined;
    if (!p || !row || row.status !== 'held') return { ok: false, error: { kind: 'nothing_held', slug: providerSlug } };
    return this.disconnect(orgId, userId, providerSlug);
  }

  /** Admin: whether one vendor account may be connected for several users of the org at this provider. */
  async setSharing(orgId: string, providerSlug: string, shared: boolean): Promise<ProviderResult> {
    const p = await this.providers.get(orgId, providerSlug);
    if (!p) return { ok: false, error: { kind: 'not_found', slug: providerSlug } };
    await this.providers.setExtra(orgId, providerSlug, { shareVendorAccounts: shared });
    return { ok: true, value: { kind: 'sharing_set', slug: providerSlug, shared } };
  }
}
