import { randomUUID } from 'node:crypto';
import { fingerprint } from './mcp-servers/index.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Response } from 'express';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { createOAuthMetadata, mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthClientInformationFull, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

/** Options of the protected MCP server; defaults beside each. */
export interface McpAuthServerOptions {
  /** `resource` its protected resource metadata names. Default: the server's own `/mcp` URL. */
  metadataResource?: string;
  /** Advertise PKCE S256 in the authorization server metadata. Default true. */
  s256?: boolean;
  /**
   * A server of the 2025-03-26 spec: no protected resource metadata, the authorization server at
   * the MCP server's own origin, with its metadata (`metadata`) or only the default `/authorize`,
   * `/token` and `/register` endpoints (`defaults`). Default: none (RFC 9728, a separate server).
   */
  legacy?: 'metadata' | 'defaults';
  /** `initialize` and notifications pass without a token; later requests need one. Default false. */
  openInitialize?: boolean;
  /** Scopes listed in the authorization server metadata. Default `['mcp:tools']`. */
  asScopes?: string[];
  /** `scopes_supported` of the protected resource metadata; null leaves it out. Default `['mcp:tools']`. */
  prmScopes?: string[] | null;
  /** `iss` the authorization server puts in its authorization response (RFC 9207, then advertised). Default: none. */
  iss?: string;
  /**
   * Fields laid over the authorization server metadata; `null` removes one (e.g.
   * `registration_endpoint: null`: no DCR offered). Default none.
   */
  metadata?: Record<string, unknown>;
  /** Clients registered out of band (pre-registration). Default none. */
  clients?: OAuthClientInformationFull[];
  /** Resolves a URL `client_id` (CIMD) to the client its document describes. Default: URL ids are unknown. */
  metadataDocument?: (clientId: string) => Promise<OAuthClientInformationFull | undefined>;
}

interface Grant {
  subject: string;
  clientId: string;
  resource: string | undefined;
  scopes: string[];
}

/** In-memory authorization server logic for `mcpAuthRouter`: DCR, codes for the current `login`, refresh. */
class MemoryProvider implements OAuthServerProvider {
  registrations = 0;
  login = 'vendor-alice';
  /** Scopes never granted, whatever is asked for. */
  withheld: string[] = [];
  /** `iss` of authorization responses; undefined: none. */
  iss: string | undefined;
  readonly codes = new Map<string, { grant: Grant; challenge: string }>();
  readonly access = new Map<string, Grant & { expiresAt: number }>();
  readonly refresh = new Map<string, Grant>();
  readonly #clients = new Map<string, OAuthClientInformationFull>();
  metadataDocument: McpAuthServerOptions['metadataDocument'];
  readonly clientsStore: OAuthRegisteredClientsStore = {
    getClient: async (id) =>
      this.#clients.get(id) ?? (/^https:/.test(id) ? await this.metadataDocument?.(id) : undefined),
    registerClient: async (c) => {
      this.registrations++;
      const full = c as OAuthClientInformationFull;
      this.#clients.set(full.client_id, full);
      return full;
    },
  };

  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    const code = randomUUID();
    this.codes.set(code, {
      challenge: params.codeChallenge,
      grant: {
        subject: this.login,
        clientId: client.client_id,
        resource: params.resource?.href,
        scopes: (params.scopes ?? []).filter((s) => !this.withheld.includes(s)),
      },
    });
    const to = new URL(params.redirectUri);
    to.searchParams.set('code', code);
    if (this.iss !== undefined) to.searchParams.set('iss', this.iss);
    if (params.state) to.searchParams.set('state', params.state);
    res.redirect(to.href);
  }
  async challengeForAuthorizationCode(_c: OAuthClientInformationFull, code: string): Promise<string> {
    const c = this.codes.get(code);
    if (!c) throw new Error('unknown code');
    return c.challenge;
  }
  #issue(grant: Grant): OAuthTokens {
    const access = `mcp-at-${randomUUID()}`;
    const refresh = `mcp-rt-${randomUUID()}`;
    this.access.set(access, { ...grant, expiresAt: Date.now() + 3_600_000 });
    this.refresh.set(refresh, grant);
    return {
      access_token: access,
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: refresh,
      scope: grant.scopes.join(' '),
    };
  }
  async exchangeAuthorizationCode(
    client: OAuthClientInformationFull,
    code: string,
    _v?: string,
    _r?: string,
    resource?: URL,
  ): Promise<OAuthTokens> {
    const c = this.codes.get(code);
    if (!c || c.grant.clientId !== client.client_id) throw new Error('invalid code');
    if (c.grant.resource !== resource?.href) throw new Error('resource differs from the authorization request');
    this.codes.delete(code);
    return this.#issue(c.grant);
  }
  async exchangeRefreshToken(
    client: OAuthClientInformationFull,
    token: string,
    _s?: string[],
    resource?: URL,
  ): Promise<OAuthTokens> {
    const g = this.refresh.get(token);
    if (!g || g.clientId !== client.client_id || g.resource !== resource?.href)
      throw new Error('invalid refresh token');
    this.refresh.delete(token);
    return this.#issue(g);
  }
  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const g = this.access.get(token);
    if (!g || g.expiresAt < Date.now()) throw new Error('invalid token');
    return {
      token,
      clientId: g.clientId,
      scopes: g.scopes,
      expiresAt: Math.floor(g.expiresAt / 1000),
      ...(g.resource ? { resource: new URL(g.resource) } : {}),
      extra: { subject: g.subject },
    };
  }
}

/**
 * A loopback MCP server (Streamable HTTP, SDK) protected by `requireBearerAuth` with RFC 9728
 * metadata, and a separate loopback authorization server (SDK `mcpAuthRouter`) with dynamic
 * client registration, PKCE and `resource` checks. Its `whoami` tool answers with the subject,
 * client and token it saw. `registrations` counts DCR calls; `login` picks who signs in next.
 */
export class McpAuthServer {
  readonly provider = new MemoryProvider();
  /** Every request each side saw: `as` (authorization server) and `rs` (MCP server). */
  readonly seen: {
    side: 'as' | 'rs';
    method: string;
    path: string;
    query: Record<string, string>;
    body: Record<string, string>;
    /** The `Authorization` header, if any. */
    authorization: string | undefined;
  }[] = [];
  #as!: http.Server;
  #rs!: http.Server;
  asUrl = '';
  /** `http://127.0.0.1:PORT/mcp` */
  url = '';

  static async start(opts: McpAuthServerOptions = {}): Promise<McpAuthServer> {
    const s = new McpAuthServer();
    await s.#start(opts);
    return s;
  }

  get registrations(): number {
    return this.provider.registrations;
  }

  set login(v: string) {
    this.provider.login = v;
  }

  /** Scopes every MCP request needs (its 401 and 403 name them). Default none. */
  requiredScopes: string[] = [];
  /** Scopes a `tools/call` needs on top of `requiredScopes` (a step-up per operation). Default none. */
  callScopes: string[] = [];

  async #start(opts: McpAuthServerOptions): Promise<void> {
    const listen = async (app: express.Express) => {
      const server = http.createServer(app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    };
    const record =
      (side: 'as' | 'rs') => (req: express.Request, _res: express.Response, next: express.NextFunction) => {
        this.seen.push({
          side: opts.legacy && req.path !== '/mcp' ? 'as' : side,
          method: req.method,
          path: req.path,
          query: req.query as Record<string, string>,
          body: (req.body ?? {}) as Record<string, string>,
          authorization: req.headers.authorization,
        });
        next();
      };
    // Ports first, so each side can name the other.
    const asApp = express();
    const rsApp = express();
    const as = await listen(asApp);
    const rs = await listen(rsApp);
    this.#as = as.server;
    this.#rs = rs.server;
    this.url = `${rs.base}/mcp`;
    // A 2025-03-26 server is its own authorization server.
    const authApp = opts.legacy ? rsApp : asApp;
    const authBase = opts.legacy ? rs.base : as.base;
    this.asUrl = authBase;
    this.provider.iss = opts.iss;
    authApp.use(express.urlencoded({ extended: false }), express.json(), record('as'));
    for (const c of opts.clients ?? []) await this.provider.clientsStore.registerClient!(c);
    this.provider.registrations = 0;
    this.provider.metadataDocument = opts.metadataDocument;
    // RFC 6749 §2.3.1 client_secret_basic, which the SDK's token handler does not read: moved into the body.
    authApp.use('/token', (req, _res, next) => {
      const basic = req.headers.authorization?.match(/^Basic (.+)$/)?.[1];
      if (basic) {
        const [id, secret] = Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent);
        Object.assign(req.body as object, { client_id: id, client_secret: secret });
      }
      next();
    });
    if (opts.metadata) {
      const over = opts.metadata;
      authApp.get('/.well-known/oauth-authorization-server', (_req, res) => {
        const base = createOAuthMetadata({
          provider: this.provider,
          issuerUrl: new URL(`${authBase}/`),
          scopesSupported: opts.asScopes ?? ['mcp:tools'],
        }) as Record<string, unknown>;
        for (const [k, v] of Object.entries(over)) base[k] = v ?? undefined;
        res.json(base);
      });
    }
    this.#authorizationServer(authApp, authBase, opts);

    const metadataUrl = `${rs.base}/.well-known/oauth-protected-resource/mcp`;
    if (!opts.legacy) {
      rsApp.use(express.json(), record('rs'));
      rsApp.get('/.well-known/oauth-protected-resource/mcp', (_req, res) => {
        res.json({
          resource: opts.metadataResource ?? this.url,
          authorization_servers: [`${as.base}/`],
          ...(opts.prmScopes === null ? {} : { scopes_supported: opts.prmScopes ?? ['mcp:tools'] }),
          bearer_methods_supported: ['header'],
        });
      });
    }
    rsApp.post(
      '/mcp',
      (req, res, next) => {
        const method = (req.body as { method?: string } | undefined)?.method ?? '';
        if (opts.openInitialize && !req.headers.authorization && /^(initialize$|notifications\/)/.test(method))
          return next();
        const scopes = method === 'tools/call' ? [...this.requiredScopes, ...this.callScopes] : this.requiredScopes;
        return requireBearerAuth({
          verifier: this.provider,
          requiredScopes: scopes,
          ...(opts.legacy ? {} : { resourceMetadataUrl: metadataUrl, expectedResource: new URL(this.url) }),
        })(req, res, next);
      },
      async (req, res) => {
        const mcp = new McpServer({ name: 'protected-test', version: '1.0.0' });
        const auth = req.auth;
        mcp.registerTool('whoami', { description: 'Who the server thinks is calling' }, async () => ({
          content: [
            {
              type: 'text',
              text: JSON.stringify({
                subject: auth?.extra?.['subject'],
                clientId: auth?.clientId,
                token: auth ? fingerprint(auth.token) : null,
                scopes: auth?.scopes,
              }),
            },
          ],
        }));
        const transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: undefined,
          enableJsonResponse: true,
        });
        res.on('close', () => void transport.close());
        await mcp.connect(transport);
        await transport.handleRequest(req, res, req.body);
      },
    );
  }

  /** The SDK's authorization server on `app`, its metadata shaped by `opts`. */
  #authorizationServer(app: express.Express, base: string, opts: McpAuthServerOptions): void {
    if (opts.s256 === false) {
      app.get('/.well-known/oauth-authorization-server', (_req, res) => {
        res.json({
          issuer: `${base}/`,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          registration_endpoint: `${base}/register`,
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['plain'],
        });
      });
    }
    // A 2025-03-26 server publishes no resource metadata (the SDK's router would), nor, with `defaults`, any metadata.
    const hidden =
      opts.legacy === 'defaults'
        ? 'oauth-protected-resource|oauth-authorization-server|openid-configuration'
        : 'oauth-protected-resource';
    if (opts.legacy)
      app.get(new RegExp(`^/\\.well-known/(${hidden})`), (_req, res) => {
        res.status(404).end();
      });
    if (opts.iss !== undefined)
      app.use('/.well-known/oauth-authorization-server', (_req, res, next) => {
        const json = res.json.bind(res);
        res.json = (body: Record<string, unknown>) =>
          json({ ...body, authorization_response_iss_parameter_supported: true });
        next();
      });
    const limits = { rateLimit: false as const };
    app.use(
      mcpAuthRouter({
        provider: this.provider,
        issuerUrl: new URL(`${base}/`),
        scopesSupported: opts.asScopes ?? ['mcp:tools'],
        authorizationOptions: limits,
        tokenOptions: limits,
        clientRegistrationOptions: limits,
        revocationOptions: limits,
      }),
    );
  }

  async stop(): Promise<void> {
    for (const s of [this.#as, this.#rs]) {
      await new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      });
    }
  }
}

/** Calls the server's `whoami` with `token`, as another MCP client would: the subject, client, token and scopes it saw. */
export async function whoami(
  url: string,
  token: string,
): Promise<{ subject: string; clientId: string; token: string; scopes?: string[] }> {
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  try {
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    return JSON.parse((r.content as { text: string }[])[0]!.text);
  } finally {
    await client.close();
  }
}
