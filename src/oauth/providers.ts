import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { Secret } from '../crypto/index.js';
import { newId } from '../db/index.js';
import { oauthProviders } from '../db/schema.js';
import { sealedTables } from '../db/sealed.js';
import { defaults, type OAuthDeps } from './deps.js';
import type { UrlCheck } from '../net/index.js';
import { presets } from './presets.js';
import type { DiscoveryFailure, ProviderRefusal, ProviderResult, ProviderView } from './results.js';

export type { ProviderView } from './results.js';

/** A provider row as stored. */
export type ProviderRow = typeof oauthProviders.$inferSelect;

/** What an admin gives to register a provider. */
export interface ProviderInput {
  slug: string;
  /** A preset name (`github`, `google`, `slack`, `atlassian`, `microsoft`, `gitlab`), `oidc` or `oauth2`. */
  kind: string;
  clientId: string;
  clientSecret?: Secret | undefined;
  scopes?: string[] | undefined;
  issuer?: string | undefined;
  authorizeUrl?: string | undefined;
  tokenUrl?: string | undefined;
  revokeUrl?: string | undefined;
  userinfoUrl?: string | undefined;
}

const refuse = (error: ProviderRefusal) => ({ ok: false as const, error });

const slugSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/);
const oidcConfig = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  userinfo_endpoint: z.string().optional(),
  revocation_endpoint: z.string().optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
});

/** A refused URL; `private`: the operator can allow it. */
const urlRefusal = (option: string | null, c: Extract<UrlCheck, { ok: false }>): ProviderRefusal => ({
  kind: 'bad_url',
  option,
  reason: c.reason,
  private: c.code === 'private',
});

const view = (p: ProviderRow): ProviderView => ({
  slug: p.slug,
  kind: p.kind,
  displayName: p.displayName,
  clientId: p.clientId,
  scopes: p.scopes,
  hasClientSecret: p.clientSecretSealed != null,
  authorizeUrl: p.authorizeUrl,
  tokenUrl: p.tokenUrl,
});

/** OAuth client registrations of each org; client secrets sealed. */
export class ProviderStore {
  readonly #bySlug;
  readonly #byMcpServer;

  constructor(private readonly d: OAuthDeps) {
    this.#bySlug = d.db
      .select()
      .from(oauthProviders)
      .where(and(eq(oauthProviders.orgId, sql.placeholder('orgId')), eq(oauthProviders.slug, sql.placeholder('slug'))))
      .prepare();
    this.#byMcpServer = d.db
      .select()
      .from(oauthProviders)
      .where(
        and(
          eq(oauthProviders.orgId, sql.placeholder('orgId')),
          eq(oauthProviders.mcpServerId, sql.placeholder('serverId')),
        ),
      )
      .prepare();
  }

  /** The provider `slug` of `orgId`, or undefined. */
  get(orgId: string, slug: string): ProviderRow | undefined {
    return this.#bySlug.get({ orgId, slug });
  }

  /** The provider registered by DCR for an MCP server, or undefined. */
  forMcpServer(orgId: string, serverId: string): ProviderRow | undefined {
    return this.#byMcpServer.get({ orgId, serverId });
  }

  /** Every provider of an org, by slug. */
  list(orgId: string): ProviderView[] {
    return this.d.db
      .select()
      .from(oauthProviders)
      .where(eq(oauthProviders.orgId, orgId))
      .orderBy(oauthProviders.slug)
      .all()
      .map(view);
  }

  /** The client secret of a provider, unsealed into a Secret; undefined for a public client. */
  clientSecret(p: ProviderRow): Secret | undefined {
    if (!p.clientSecretSealed) return undefined;
    return new Secret(
      this.d.keyring.open(p.clientSecretSealed, sealedTables.oauthProviders.ctx(p, 'clientSecretSealed')),
    );
  }

  /** Seals a client secret for a provider row (its id, org and slug are bound in). */
  sealSecret(row: Pick<ProviderRow, 'id' | 'orgId' | 'slug'>, secret: Secret): string {
    return this.d.keyring.seal(secret.reveal(), sealedTables.oauthProviders.ctx(row, 'clientSecretSealed'));
  }

  /** Registers a provider from a preset, OIDC discovery, or explicit endpoints. */
  async add(orgId: string, input: ProviderInput): Promise<ProviderResult> {
    if (!slugSchema.safeParse(input.slug).success) return refuse({ kind: 'bad_slug' });
    if (!input.clientId || input.clientId.length > 512) return refuse({ kind: 'missing_endpoint', need: 'client_id' });
    if (this.get(orgId, input.slug)) return refuse({ kind: 'exists', slug: input.slug });
    const ep = await this.#endpoints(input);
    if (!ep.ok) return ep;
    const id = newId();
    const row = {
      id,
      orgId,
      slug: input.slug,
      kind: input.kind,
      displayName: ep.displayName,
      clientId: input.clientId,
      clientSecretSealed: input.clientSecret
        ? this.sealSecret({ id, orgId, slug: input.slug }, input.clientSecret)
        : null,
      scopes: input.scopes?.length ? input.scopes : ep.scopes,
      issuer: ep.issuer ?? null,
      authorizeUrl: ep.authorizeUrl,
      tokenUrl: ep.tokenUrl,
      revokeUrl: input.revokeUrl ?? ep.revokeUrl ?? null,
      userinfoUrl: input.userinfoUrl ?? ep.userinfoUrl ?? null,
      extra: ep.extra,
    };
    this.d.db.insert(oauthProviders).values(row).run();
    const p = this.get(orgId, input.slug)!;
    return {
      ok: true,
      value: { kind: 'provider_added', provider: view(p), redirectUri: `${this.d.publicUrl}/oauth/callback` },
    };
  }

  async #endpoints(input: ProviderInput): Promise<
    | {
        ok: true;
        displayName: string;
        authorizeUrl: string;
        tokenUrl: string;
        revokeUrl?: string | undefined;
        userinfoUrl?: string | undefined;
        issuer?: string | undefined;
        scopes: string[];
        extra: Record<string, unknown>;
      }
    | { ok: false; error: ProviderRefusal }
  > {
    for (const [name, raw] of [
      ['--authorize', input.authorizeUrl],
      ['--token', input.tokenUrl],
      ['--revoke', input.revokeUrl],
      ['--userinfo', input.userinfoUrl],
      ['--issuer', input.issuer],
    ] as const) {
      if (raw === undefined) continue;
      const c = await this.d.net.checkTarget(raw);
      if (!c.ok) return refuse(urlRefusal(name, c));
    }
    const preset = presets[input.kind];
    if (preset)
      return {
        ok: true,
        ...preset,
        authorizeUrl: input.authorizeUrl ?? preset.authorizeUrl,
        tokenUrl: input.tokenUrl ?? preset.tokenUrl,
        extra: {},
      };
    if (input.kind === 'oauth2') {
      if (!input.authorizeUrl || !input.tokenUrl) return refuse({ kind: 'missing_endpoint', need: 'oauth2_endpoints' });
      return {
        ok: true,
        displayName: input.slug,
        authorizeUrl: input.authorizeUrl,
        tokenUrl: input.tokenUrl,
        issuer: input.issuer,
        scopes: [],
        extra: {},
      };
    }
    if (input.kind === 'oidc') {
      if (!input.issuer) return refuse({ kind: 'missing_endpoint', need: 'oidc_issuer' });
      return this.#discoverOidc(input.issuer);
    }
    return refuse({ kind: 'unknown_preset', given: input.kind, known: [...Object.keys(presets), 'oidc', 'oauth2'] });
  }

  /** OpenID discovery from the issuer, through the SSRF guard; the issuer in the document must match. */
  async #discoverOidc(issuer: string) {
    const base = issuer.replace(/\/+$/, '');
    const fail = (why: DiscoveryFailure) => refuse({ kind: 'discovery_failed', ...why });
    let doc: z.infer<typeof oidcConfig>;
    try {
      const res = await this.d.net.fetch({ timeoutMs: this.d.options?.httpTimeoutMs ?? defaults.httpTimeoutMs })(
        `${base}/.well-known/openid-configuration`,
        { headers: { accept: 'application/json' } },
      );
      if (!res.ok) return fail({ cause: 'status', host: new URL(base).host, status: res.status });
      const parsed = oidcConfig.safeParse(await res.json());
      if (!parsed.success) return fail({ cause: 'no_endpoints' });
      doc = parsed.data;
    } catch (err) {
      return fail({ cause: 'fetch', detail: (err as Error).message });
    }
    if (doc.issuer.replace(/\/+$/, '') !== base) return fail({ cause: 'other_issuer' });
    // RFC 7636 / MCP authorization: without S256 listed we cannot know PKCE is enforced, so refuse.
    if (!doc.code_challenge_methods_supported?.includes('S256'))
      return refuse({ kind: 'no_pkce', listed: doc.code_challenge_methods_supported ?? [] });
    for (const u of [doc.authorization_endpoint, doc.token_endpoint, doc.userinfo_endpoint, doc.revocation_endpoint]) {
      if (u === undefined) continue;
      const c = await this.d.net.checkTarget(u);
      if (!c.ok) return refuse(urlRefusal(null, c));
    }
    return {
      ok: true as const,
      displayName: new URL(base).host,
      issuer: doc.issuer,
      authorizeUrl: doc.authorization_endpoint,
      tokenUrl: doc.token_endpoint,
      userinfoUrl: doc.userinfo_endpoint,
      revokeUrl: doc.revocation_endpoint,
      scopes: ['openid', 'profile', 'email'],
      extra: { discovered: true, issParameterSupported: doc.authorization_response_iss_parameter_supported ?? false },
    };
  }

  /** Replaces the client secret (entered in a private form, never a command line). */
  setClientSecret(orgId: string, slug: string, secret: Secret | undefined): ProviderResult {
    const p = this.get(orgId, slug);
    if (!p) return refuse({ kind: 'not_found', slug });
    const sealed = secret && secret.reveal() ? this.sealSecret(p, secret) : null;
    this.d.db.update(oauthProviders).set({ clientSecretSealed: sealed }).where(eq(oauthProviders.id, p.id)).run();
    return { ok: true, value: { kind: sealed ? 'client_secret_saved' : 'public_client', slug } };
  }

  /** Merges keys into a provider's `extra` settings. */
  setExtra(orgId: string, slug: string, patch: Record<string, unknown>): void {
    const p = this.get(orgId, slug);
    if (p)
      this.d.db
        .update(oauthProviders)
        .set({ extra: { ...p.extra, ...patch } })
        .where(eq(oauthProviders.id, p.id))
        .run();
  }

  /** Removes a provider and, by cascade, every connection to it. */
  remove(orgId: string, slug: string): ProviderResult {
    const p = this.get(orgId, slug);
    if (!p) return refuse({ kind: 'not_found', slug });
    this.d.db.delete(oauthProviders).where(eq(oauthProviders.id, p.id)).run();
    return { ok: true, value: { kind: 'provider_removed', slug } };
  }
}
