import { randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { jwtVerify } from 'jose';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** One client credentials request the server answered: how the client authenticated, and for what. */
export interface MachineRequest {
  auth: 'basic' | 'private_key_jwt' | 'none';
  /** Set for a JWT bearer grant. */
  grant?: string;
  clientId: string | undefined;
  resource: string | undefined;
  /** Claims of a verified client assertion. */
  claims?: Record<string, unknown>;
  issued?: string;
  error?: string;
}

/**
 * A loopback authorization server that issues tokens to machine clients only (client credentials
 * grant, no PKCE): `client_secret_basic` for clients with a secret, `private_key_jwt` (RFC 7523,
 * verified with the client's public key, audience its issuer) for clients with a key. A token's
 * audience is the `resource` it was asked for (`audienceOf`). `revoke` makes a token unknown.
 */
export class MachineAuthServer {
  readonly requests: MachineRequest[] = [];
  readonly #audience = new Map<string, string>();
  #server!: http.Server;
  issuer = '';

  /** Checks an ID-JAG presented in the JWT bearer grant: the resource it was issued for, or undefined. */
  verifyJag: (assertion: string) => { audience: string; resource: string } | undefined = () => undefined;

  private constructor(private readonly clients: Record<string, { secret?: string; key?: KeyObject }>) {}

  static async start(clients: Record<string, { secret?: string; key?: KeyObject }>): Promise<MachineAuthServer> {
    const s = new MachineAuthServer(clients);
    const app = express();
    s.#server = http.createServer(app);
    await new Promise<void>((r) => s.#server.listen(0, '127.0.0.1', r));
    s.issuer = `http://127.0.0.1:${(s.#server.address() as AddressInfo).port}`;
    app.get('/.well-known/oauth-authorization-server', (_req, res) => {
      res.json({
        issuer: s.issuer,
        token_endpoint: `${s.issuer}/token`,
        grant_types_supported: ['client_credentials', JWT_BEARER],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['ES256', 'RS256'],
        response_types_supported: ['token'],
      });
    });
    app.post('/token', express.urlencoded({ extended: false }), async (req, res) => {
      const r = await s.#authenticate(req.body as Record<string, string>, req.headers.authorization);
      s.requests.push(r);
      if (r.error) return void res.status(401).json({ error: 'invalid_client', error_description: r.error });
      const token = `mt-${randomUUID()}`;
      r.issued = token;
      if (r.resource) s.#audience.set(token, r.resource);
      res.json({ access_token: token, token_type: 'Bearer', expires_in: 3600 });
    });
    return s;
  }

  async #authenticate(body: Record<string, string>, authorization: string | undefined): Promise<MachineRequest> {
    const resource = body['resource'];
    const grant = body['grant_type'];
    if (grant !== 'client_credentials' && grant !== JWT_BEARER)
      return { auth: 'none', clientId: undefined, resource, error: 'client credentials or JWT bearer only' };
    const basic = authorization?.match(/^Basic (.+)$/)?.[1];
    if (basic) {
      const [id, secret] = Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent);
      const ok = id !== undefined && this.clients[id]?.secret === secret;
      if (!ok || grant === 'client_credentials')
        return { auth: 'basic', clientId: id, resource, ...(ok ? {} : { error: 'bad secret' }) };
      // RFC 7523 §2.1 with an ID-JAG: it must be meant for this issuer and name the resource asked for.
      const jag = this.verifyJag(body['assertion'] ?? '');
      const good = jag && jag.audience === this.issuer && jag.resource === resource;
      return { auth: 'basic', clientId: id, resource, grant, ...(good ? {} : { error: 'bad assertion' }) };
    }
    const id = body['client_id'];
    const key = id ? this.clients[id]?.key : undefined;
    if (!key || !body['client_assertion']) return { auth: 'none', clientId: id, resource, error: 'no client auth' };
    try {
      const { payload } = await jwtVerify(body['client_assertion'], key, { audience: this.issuer, issuer: id });
      const ok = payload.sub === id;
      return { auth: 'private_key_jwt', clientId: id, resource, claims: payload, ...(ok ? {} : { error: 'sub' }) };
    } catch (err) {
      return { auth: 'private_key_jwt', clientId: id, resource, error: (err as Error).message };
    }
  }

  /** The resource a token was issued for (undefined: not issued here, or revoked). */
  audienceOf(token: string): string | undefined {
    return this.#audience.get(token);
  }

  /** Forgets a token: servers reject it from now on. */
  revoke(token: string): void {
    this.#audience.delete(token);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => {
      this.#server.close(() => r());
      this.#server.closeAllConnections();
    });
  }
}
