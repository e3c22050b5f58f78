import { and, eq, sql } from 'drizzle-orm';
import { Secret } from '../crypto/index.js';
import { configCache, newId, prepared, type ConfigSeen } from '../db/index.js';
import { providerExtra, type oauthProviders, type ProviderExtra } from '../db/schema/index.js';
import { sealedTables } from '../db/sealed.js';
import type { OAuthDeps } from './deps.js';
import { discoverOidc, urlRefusal } from './oidc.js';
import type { ProviderRefusal, ProviderResult, ProviderView } from './results.js';
import { presets, quirksOf } from './presets.js';
import { slugSchema } from '../names.js';

export type { ProviderView } from './results.js';

/** A provider by slug, read for every call that uses a grant (db/prepared.ts). */
const bySlug = prepared('providers.bySlug', ({ db, t }) =>
  db
    .select()
    .from(t.oauthProviders)
    .where(
      and(eq(t.oauthProviders.orgId, sql.placeholder('orgId')), eq(t.oauthProviders.slug, sql.placeholder('slug'))),
    ),
);

const refuse = (error: ProviderRefusal) => ({ ok: false as const, error });

/** What the provider store needs of the OAuth engine's dependencies (a `cli` process has no Redis). */
export type ProviderDeps = Pick<OAuthDeps, 'store' | 'keyring' | 'net' | 'publicUrl' | 'options'>;

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

const view = (p: ProviderRow): ProviderView => ({
  slug: p.slug,
  kind: p.kind,
  displayName: p.displayName,
  clientId: p.clientId,
  scopes: p.scopes,
  hasClientSecret: p.clientSecretSealed != null,
  authorizeUrl: p.authorizeUrl,
  tokenUrl: p.tokenUrl,
  namesAccount: p.userinfoUrl != null || quirksOf(p.kind).identity === 'slack',
  revokes: p.revokeUrl != null,
});

/** OAuth client registrations of each org; client secrets sealed. */
export class ProviderStore {
  constructor(private readonly d: ProviderDeps) {}

  get #t() {
    return this.d.store.t.oauthProviders;
  }

  /** The provider `slug` of `orgId`, or undefined (`seen`: a call's configuration version, a copy at least that new may answer). */
  get(orgId: string, slug: string, seen?: ConfigSeen): Promise<ProviderRow | undefined> {
    return configCache(this.d.store).read(`provider:${orgId}:${slug}`, seen, () =>
      this.d.store.first(bySlug, { orgId, slug }),
    );
  }

  /** A provider by id (a connection names its provider so). */
  byId(id: string): Promise<ProviderRow | undefined> {
    const s = this.d.store;
    return s.first(s.db.select().from(this.#t).where(eq(this.#t.id, id)));
  }

  /** The provider registered by DCR for an MCP server, or undefined. */
  forMcpServer(orgId: string, serverId: string): Promise<ProviderRow | undefined> {
    const s = this.d.store;
    return s.first(
      s.db
        .select()
        .from(this.#t)
        .where(and(eq(this.#t.orgId, orgId), eq(this.#t.mcpServerId, serverId)))
        .limit(1),
    );
  }

  /** Every provider row of an org, by slug. */
  rowsOf(orgId: string): Promise<ProviderRow[]> {
    const s = this.d.store;
    return s.rows(s.db.select().from(this.#t).where(eq(this.#t.orgId, orgId)).orderBy(this.#t.slug));
  }

  /** Every provider of an org, by slug. */
  async list(orgId: string): Promise<ProviderView[]> {
    return (await this.rowsOf(orgId)).map(view);
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
    if (await this.get(orgId, input.slug)) return refuse({ kind: 'exists', slug: input.slug });
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
    const s = this.d.store;
    // The unique (org, slug) index decides between two adds at once: the second inserts nothing.
    const [p] = await s.rows(s.db.insert(this.#t).values(row).onConflictDoNothing().returning());
    if (!p) return refuse({ kind: 'exists', slug: input.slug });
    return {
      ok: true,
      value: { kind: 'provider_added', provider: view(p), redirectUri: `${this.d.publicUrl}/oauth/callback` },
    };
  }

  /**
   * Changes a provider to `input` (the operator's config file): endpoints, client, scopes and, when
   * given, the secret. Its connections stay (a remove and add would drop them).
   */
  async update(orgId: string, input: ProviderInput): Promise<ProviderResult> {
    const p = await this.get(orgId, input.slug);
    if (!p) return refuse({ kind: 'not_found', slug: input.slug });
    if (!input.clientId || input.clientId.length > 512) return refuse({ kind: 'missing_endpoint', need: 'client_id' });
    const ep = await this.#endpoints(input);
    if (!ep.ok) return ep;
    const s = this.d.store;
    const set = {
      kind: input.kind,
      displayName: ep.displayName,
      clientId: input.clientId,
      clientSecretSealed: input.clientSecret ? this.sealSecret(p, input.clientSecret) : null,
      scopes: input.scopes?.length ? input.scopes : ep.scopes,
      issuer: ep.issuer ?? null,
      authorizeUrl: ep.authorizeUrl,
      tokenUrl: ep.tokenUrl,
      revokeUrl: input.revokeUrl ?? ep.revokeUrl ?? null,
      userinfoUrl: input.userinfoUrl ?? ep.userinfoUrl ?? null,
      extra: { ...providerExtra(p), ...ep.extra },
    };
    await s.changes(s.db.update(this.#t).set(set).where(eq(this.#t.id, p.id)));
    return { ok: true, value: { kind: 'provider_changed', slug: input.slug } };
  }

  /** Every URL the admin typed goes through the network guard first. */
  async #checkUrls(input: ProviderInput): Promise<{ ok: false; error: ProviderRefusal } | undefined> {
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
    return undefined;
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
        extra: ProviderExtra;
      }
    | { ok: false; error: ProviderRefusal }
  > {
    const refused = await this.#checkUrls(input);
    if (refused) return refused;
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
      return discoverOidc(this.d, input.issuer);
    }
    return refuse({ kind: 'unknown_preset', given: input.kind, known: [...Object.keys(presets), 'oidc', 'oauth2'] });
  }

  /** Replaces the client secret (entered in a private form, never a command line). */
  async setClientSecret(orgId: string, slug: string, secret: Secret | undefined): Promise<ProviderResult> {
    const p = await this.get(orgId, slug);
    if (!p) return refuse({ kind: 'not_found', slug });
    const sealed = secret && secret.reveal() ? this.sealSecret(p, secret) : null;
    const s = this.d.store;
    await s.changes(s.db.update(this.#t).set({ clientSecretSealed: sealed }).where(eq(this.#t.id, p.id)));
    return { ok: true, value: { kind: sealed ? 'client_secret_saved' : 'public_client', slug } };
  }

  /** Merges keys into a provider's `extra` settings. */
  async setExtra(orgId: string, slug: string, patch: ProviderExtra): Promise<void> {
    await this.d.store.tx(async (tx) => {
      const t = tx.t.oauthProviders;
      // Row lock: two patches at once each merge into the other's result, none is lost.
      const p = await tx.first(
        tx.forUpdate(
          tx.db
            .select()
            .from(t)
            .where(and(eq(t.orgId, orgId), eq(t.slug, slug))),
        ),
      );
      if (p)
        await tx.changes(
          tx.db
            .update(t)
            .set({ extra: { ...providerExtra(p), ...patch } })
            .where(eq(t.id, p.id)),
        );
    });
  }

  /** Removes a provider and, by cascade, every connection to it. */
  async remove(orgId: string, slug: string): Promise<ProviderResult> {
    const p = await this.get(orgId, slug);
    if (!p) return refuse({ kind: 'not_found', slug });
    const s = this.d.store;
    await s.changes(s.db.delete(this.#t).where(eq(this.#t.id, p.id)));
    return { ok: true, value: { kind: 'provider_removed', slug } };
  }
}
