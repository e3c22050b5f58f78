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
        scopes: params.scopes ?? [],
      },
    });
    const to = new URL(params.redirectUri);
    to.searchParams.set('code', code);
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

  async #start(opts: McpAuthServerOptions): Promise<void> {
    const listen = async (app: express.Express) => {
      const server = http.createServer(app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    };
    const record =
      (side: 'as' | 'rs') => (req: express.Request, _res: express.Response, next: express.NextFunction) => {
        this.seen.push({
          side,
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
    this.asUrl = as.base;
    this.url = `${rs.base}/mcp`;

    asApp.use(express.urlencoded({ extended: false }), express.json(), record('as'));
    for (const c of opts.clients ?? []) await this.provider.clientsStore.registerClient!(c);
    this.provider.registrations = 0;
    this.provider.metadataDocument = opts.metadataDocument;
    // RFC 6749 §2.3.1 client_secret_basic, which the SDK's token handler does not read: moved into the body.
    asApp.use('/token', (req, _res, next) => {
      const basic = req.headers.authorization?.match(/^Basic (.+)$/)?.[1];
      if (basic) {
        const [id, secret] = Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent);
        Object.assign(req.body as object, { client_id: id, client_secret: secret });
      }
      next();
    });
    if (opts.metadata) {
      const over = opts.metadata;
      asApp.get('/.well-known/oauth-authorization-server', (_req, res) => {
        const base = createOAuthMetadata({
          provider: this.provider,
          issuerUrl: new URL(`${as.base}/`),
          scopesSupported: ['mcp:tools'],
        }) as Record<string, unknown>;
        for (const [k, v] of Object.entries(over)) base[k] = v ?? undefined;
        res.json(base);
      });
    }
    if (opts.s256 === false) {
      asApp.get('/.well-known/oauth-authorization-server', (_req, res) => {
        res.json({
          issuer: `${as.base}/`,
          authorization_endpoint: `${as.base}/authorize`,
          token_endpoint: `${as.base}/token`,
          registration_endpoint: `${as.base}/register`,
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['plain'],
        });
      });
    }
    const limits = { rateLimit: false as const };
    asApp.use(
      mcpAuthRouter({
        provider: this.provider,
        issuerUrl: new URL(`${as.base}/`),
        scopesSupported: ['mcp:tools'],
        authorizationOptions: limits,
        tokenOptions: limits,
        clientRegistrationOptions: limits,
        revocationOptions: limits,
      }),
    );

    const metadataUrl = `${rs.base}/.well-known/oauth-protected-resource/mcp`;
    rsApp.use(express.json(), record('rs'));
    rsApp.get('/.well-known/oauth-protected-resource/mcp', (_req, res) => {
      res.json({
        resource: opts.metadataResource ?? this.url,
        authorization_servers: [`${as.base}/`],
        scopes_supported: ['mcp:tools'],
        bearer_methods_supported: ['header'],
      });
    });
    rsApp.post(
      '/mcp',
      requireBearerAuth({
        verifier: this.provider,
        resourceMetadataUrl: metadataUrl,
        expectedResource: new URL(this.url),
      }),
      async (req, res) => {
        const mcp = new McpServer({ name: 'protected-test', version: '1.0.0' });
        const auth = req.auth!;
        mcp.registerTool('whoami', { description: 'Who the server thinks is calling' }, async () => ({
          content: [
            {
              type: 'text',
              text: JSON.stringify({
                subject: auth.extra?.['subject'],
                clientId: auth.clientId,
                token: fingerprint(auth.token),
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

  async stop(): Promise<void> {
    for (const s of [this.#as, this.#rs]) {
      await new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      });
    }
  }
}

/** Calls the protected server's `whoami` with a bearer token: the subject, client and token it saw. */
export async function whoami(
  url: string,
  token: string,
): Promise<{ subject: string; clientId: string; token: string }> {
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
