// OAuth providers, connected accounts (grants), connect-flow states and spent links.
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, id, sealed } from './columns.js';
import { orgId, userId } from './identity.js';

/**
 * `oauth_providers.extra`: what discovery learnt and what an admin set. A field of the wrong type
 * (a row written by hand) reads as absent, as before it was typed.
 */
export const providerExtraSchema = z.looseObject({
  /** Endpoints came from discovery (OIDC or MCP authorization), not typed by an admin. */
  discovered: z.boolean().optional().catch(undefined),
  /** The authorization server's `code_challenge_methods_supported`; without `S256` it is not used. */
  pkceMethods: z.array(z.string()).optional().catch(undefined),
  /** How the client authenticates at the token endpoint (RFC 7591); default `client_secret_post`. */
  tokenEndpointAuthMethod: z.string().optional().catch(undefined),
  /** RFC 9207: the server sends `iss` on the callback, so one without it is refused. */
  issParameterSupported: z.boolean().optional().catch(undefined),
  /**
   * How an `mcp` provider's client came to be: `pre_registered` (an admin's credentials),
   * `metadata_document` (CIMD), `dcr`, or `same_issuer` (a DCR client of the same issuer, reused).
   */
  registration: z.enum(['pre_registered', 'metadata_document', 'dcr', 'same_issuer']).optional().catch(undefined),
  /** The authorization server's `token_endpoint_auth_signing_alg_values_supported`, for `private_key_jwt`. */
  signingAlgs: z.array(z.string()).optional().catch(undefined),
  /** The authorization server's `grant_types_supported` (a JWT bearer grant there takes an ID-JAG). */
  grantTypes: z.array(z.string()).optional().catch(undefined),
  /** Its `authorization_grant_profiles_supported` (`urn:ietf:params:oauth:grant-profile:id-jag`). */
  grantProfiles: z.array(z.string()).optional().catch(undefined),
  /** An admin allowed one vendor account to be connected for several people. */
  shareVendorAccounts: z.boolean().optional().catch(undefined),
});
export type ProviderExtra = z.infer<typeof providerExtraSchema>;

/** The `extra` settings of a provider row, parsed. */
export const providerExtra = (row: { extra: unknown }): ProviderExtra => providerExtraSchema.parse(row.extra ?? {});

/** Owner fields of a grant's sealed values (and of a connect flow's verifier). */
const grantOwner = ['orgId', 'userId', 'providerId'];

/** An OAuth 2 / OIDC client registration for a vendor, or a DCR client of an MCP server. */
export const oauthProviders = sqliteTable(
  'oauth_providers',
  {
    id: id(),
    orgId: orgId(),
    slug: text('slug').notNull(),
    /** Preset name (`github`, `google`, …), `oidc`, `oauth2`, or `mcp` (registered by DCR). */
    kind: text('kind').notNull(),
    displayName: text('display_name').notNull(),
    clientId: text('client_id').notNull(),
    /** Owner: its org and provider slug. */
    clientSecretSealed: sealed('client_secret_sealed', ['orgId', 'slug']),
    scopes: text('scopes', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    issuer: text('issuer'),
    authorizeUrl: text('authorize_url').notNull(),
    tokenUrl: text('token_url').notNull(),
    revokeUrl: text('revoke_url'),
    userinfoUrl: text('userinfo_url'),
    /** RFC 8707 resource indicator, for MCP authorization servers. */
    resource: text('resource'),
    /** The MCP server this registration belongs to (kind `mcp`). */
    mcpServerId: text('mcp_server_id'),
    /** See `providerExtraSchema`; read it with `providerExtra(row)`. */
    extra: text('extra', { mode: 'json' })
      .$type<ProviderExtra>()
      .notNull()
      .default(sql`'{}'`),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('oauth_providers_org_slug').on(t.orgId, t.slug)],
);

/** The provider a row belongs to; the row goes with it. */
const providerId = () =>
  text('provider_id')
    .notNull()
    .references(() => oauthProviders.id, { onDelete: 'cascade' });

/** One user's grant at one provider. */
export const connectedAccounts = sqliteTable(
  'connected_accounts',
  {
    id: id(),
    orgId: orgId(),
    userId: userId(),
    providerId: providerId(),
    /** `held`: a vendor account new to this user, from a browser not proven to be theirs; unusable until they confirm in chat. */
    status: text('status', { enum: ['active', 'held', 'needs_reauth', 'revoked'] }).notNull(),
    /** Owner of both tokens: the grant's org, user and provider. */
    accessTokenSealed: sealed('access_token_sealed', grantOwner),
    refreshTokenSealed: sealed('refresh_token_sealed', grantOwner),
    /** The OIDC ID token the provider issued with the grant: the subject of a token exchange for an ID-JAG. */
    idTokenSealed: sealed('id_token_sealed', grantOwner),
    /** Null: the token does not expire. */
    expiresAt: integer('expires_at'),
    scopes: text('scopes', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    vendorAccountId: text('vendor_account_id'),
    vendorLogin: text('vendor_login'),
    /** Bumped on every token write; a writer holding an older version loses. */
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('connected_accounts_user_provider').on(t.userId, t.providerId),
    index('connected_accounts_org').on(t.orgId),
  ],
);

/** Server-side state of one authorization-code flow. */
export const oauthStates = sqliteTable(
  'oauth_states',
  {
    id: id(),
    orgId: orgId(),
    userId: userId(),
    providerId: providerId(),
    stateHash: text('state_hash').notNull(),
    /** The PKCE verifier. Owner: the flow's org, user and provider. */
    codeVerifierSealed: sealed('code_verifier_sealed', grantOwner).notNull(),
    issuer: text('issuer'),
    scopes: text('scopes', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    resumeCallId: text('resume_call_id'),
    /**
     * The org's service identity (a `users` row with `service_name`) the grant is for, when an admin
     * connects a service grant; null: the grant is the flow's own user's.
     */
    serviceUserId: text('service_user_id'),
    /** sha256 of the browser-binding cookie set by Continue; the callback must bring the same cookie. */
    browserHash: text('browser_hash'),
    /** `connect`: the provider's authorization; `signin:slack` / `signin:discord`: the chat sign-in before it; `connect+signed_in`: after a matching sign-in. */
    phase: text('phase').notNull().default('connect'),
    expiresAt: integer('expires_at').notNull(),
    consumedAt: integer('consumed_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('oauth_states_hash').on(t.stateHash)],
);

/** jti of signed single-use links already spent. */
export const usedLinks = sqliteTable('used_links', {
  jti: text('jti').primaryKey(),
  expiresAt: integer('expires_at').notNull(),
});
