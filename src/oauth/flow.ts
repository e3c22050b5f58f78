import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, lt } from 'drizzle-orm';
import { z } from 'zod';
import { SealError, Secret } from '../crypto/index.js';
import { newId } from '../db/index.js';
import { oauthProviders, oauthStates, orgs, usedLinks, users } from '../db/schema.js';
import { sealedTables } from '../db/sealed.js';
import { defaults, type OAuthDeps } from './deps.js';
import { quirksOf } from './presets.js';
import type { ProviderRow, ProviderStore } from './providers.js';
import type { ConnectionStore } from './store.js';
import type { TokenClient } from './tokenclient.js';

const PURPOSE = 'oauth-start';
const startClaims = z.object({
  o: z.string().min(1),
  u: z.string().min(1),
  p: z.string().min(1),
  r: z.string().optional(),
  s: z.array(z.string()).max(50).optional(),
});

/** What `/oauth/start` does: send the browser to the provider, or explain why not. */
export type StartOutcome = { kind: 'redirect'; url: string } | FlowError;
/** What `/oauth/callback` shows. */
export type CallbackOutcome =
  | { kind: 'connected'; provider: string; providerSlug: string; vendorLogin: string | null; userName: string; orgName: string }
  | FlowError;
/** A page that says what happened and that nothing changed. */
export type FlowError = { kind: 'error'; status: 400 | 404 | 502; title: string; message: string };

/** Query of `/oauth/callback` once decoded. */
export interface CallbackParams {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
  iss?: string | undefined;
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex');
const b64 = (n: number) => randomBytes(n).toString('base64url');
const nothing = 'Nothing was changed.';
const fail = (status: FlowError['status'], title: string, message: string): FlowError => ({ kind: 'error', status, title, message: `${message} ${nothing}` });

/** The authorization-code + PKCE flow: signed start links, server-side state, callback. */
export class ConnectFlow {
  readonly #ttl: number;

  constructor(
    private readonly d: OAuthDeps,
    private readonly providers: ProviderStore,
    private readonly conns: ConnectionStore,
    private readonly client: TokenClient,
  ) {
    this.#ttl = d.options?.flowTtlSeconds ?? defaults.flowTtlSeconds;
  }

  /** `PUBLIC_URL + /oauth/callback`, exactly. */
  redirectUri(): string {
    return `${this.d.publicUrl}/oauth/callback`;
  }

  /** A single-use signed start link for this user and provider, valid 10 minutes. */
  async connectLink(orgId: string, userId: string, providerSlug: string, opts: { resumeCallId?: string | undefined; extraScopes?: string[] | undefined } = {}): Promise<string> {
    const claims: z.infer<typeof startClaims> = { o: orgId, u: userId, p: providerSlug };
    if (opts.resumeCallId) claims.r = opts.resumeCallId;
    if (opts.extraScopes?.length) claims.s = opts.extraScopes;
    const t = await this.d.links.sign(PURPOSE, claims, this.#ttl);
    return `${this.d.publicUrl}/oauth/start?t=${t}`;
  }

  /** Verifies and spends a start link, stores state + PKCE verifier, and returns the authorize URL. */
  async start(t: string): Promise<StartOutcome> {
    const check = await this.d.links.verify<unknown>(PURPOSE, t);
    if (check.kind === 'expired') return fail(400, 'This link has expired', 'Connect links work for 10 minutes. Ask again with `/onbehalf connect <provider>`.');
    if (check.kind !== 'ok') return fail(400, 'This link is not valid', 'The link was changed or is not one of ours.');
    const claims = startClaims.safeParse(check.claims);
    if (!claims.success) return fail(400, 'This link is not valid', 'The link was changed or is not one of ours.');
    const { o: orgId, u: userId, p: slug, r: resumeCallId, s: extra } = claims.data;
    const p = this.providers.get(orgId, slug);
    const user = this.d.db.select().from(users).where(and(eq(users.id, userId), eq(users.orgId, orgId))).get();
    if (!p || !user) return fail(404, 'Unknown provider', 'The provider of this link no longer exists.');
    const pkce = p.extra['pkceMethods'];
    if (Array.isArray(pkce) && !pkce.includes('S256')) return fail(400, 'Provider not supported', 'This authorization server does not support PKCE S256, so onbehalf will not use it.');
    // A row stored before the network guard, or since narrowed by the operator, is checked again here.
    if (!this.d.net.checkUrl(p.authorizeUrl).ok) return fail(400, 'Provider not supported', 'Its sign-in address is not a public https address; an admin must fix the provider.');

    const now = Date.now();
    this.d.db.delete(usedLinks).where(lt(usedLinks.expiresAt, now)).run();
    const spent = this.d.db.insert(usedLinks).values({ jti: check.jti, expiresAt: check.expiresAt }).onConflictDoNothing().run();
    if (spent.changes !== 1) return fail(400, 'This link was already used', 'Each connect link works once. Ask again with `/onbehalf connect <provider>`.');

    const existing = extra?.length ? this.conns.find(orgId, userId, p.id) : undefined;
    // Incremental consent: ask for the union of what the provider asks, what the grant has, and what is new.
    const scopes = [...new Set([...p.scopes, ...(existing?.scopes ?? []), ...(extra ?? [])])];
    const state = b64(32);
    const verifier = b64(48);
    const id = newId();
    this.d.db.delete(oauthStates).where(lt(oauthStates.expiresAt, now - 86_400_000)).run();
    this.d.db.insert(oauthStates).values({
      id, orgId, userId, providerId: p.id, stateHash: hash(state),
      codeVerifierSealed: this.d.keyring.seal(verifier, sealedTables.oauthStates.ctx({ id, orgId, userId, providerId: p.id }, 'codeVerifierSealed')),
      issuer: p.issuer, scopes, resumeCallId: resumeCallId ?? null, expiresAt: now + this.#ttl * 1000,
    }).run();
    return { kind: 'redirect', url: this.#authorizeUrl(p, scopes, state, verifier) };
  }

  #authorizeUrl(p: ProviderRow, scopes: string[], state: string, verifier: string): string {
    const q = quirksOf(p.kind);
    const url = new URL(p.authorizeUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', p.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri());
    if (scopes.length) url.searchParams.set(q.scopeParam ?? 'scope', scopes.join(q.scopeSeparator ?? ' '));
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
    if (p.resource) url.searchParams.set('resource', p.resource);
    for (const [k, v] of Object.entries(q.authorizeParams ?? {})) url.searchParams.set(k, v);
    return url.href;
  }

  /** The PKCE verifier of a state row, or undefined when it does not open for that row's user and provider. */
  #verifier(row: typeof oauthStates.$inferSelect): Secret | undefined {
    try {
      return new Secret(this.d.keyring.open(row.codeVerifierSealed, sealedTables.oauthStates.ctx(row, 'codeVerifierSealed')));
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      this.d.log.warn({ sealError: err.code, err: err.message }, 'a connect flow\'s stored verifier does not open; the sign-in is refused');
      return undefined;
    }
  }

  /** Consumes the state atomically, exchanges the code, fetches the vendor identity, stores the grant sealed. */
  async callback(q: CallbackParams): Promise<CallbackOutcome> {
    if (!q.state) return fail(400, 'Missing state', 'This address is missing its state, so it cannot be matched to a sign-in.');
    const h = hash(q.state);
    const row = this.d.db.select().from(oauthStates).where(eq(oauthStates.stateHash, h)).get();
    if (!row) return fail(400, 'Unknown sign-in', 'This sign-in is not one we started (or it was cleaned up).');
    const consumed = this.d.db.update(oauthStates).set({ consumedAt: Date.now() }).where(and(eq(oauthStates.id, row.id), isNull(oauthStates.consumedAt))).run();
    if (consumed.changes !== 1) return fail(400, 'Sign-in already used', 'This sign-in was already completed or abandoned; each works once.');
    if (row.expiresAt < Date.now()) return fail(400, 'Sign-in expired', 'This sign-in took longer than 10 minutes.');
    const p = this.d.db.select().from(oauthProviders).where(eq(oauthProviders.id, row.providerId)).get();
    if (!p) return fail(404, 'Unknown provider', 'The provider of this sign-in no longer exists.');
    // RFC 9207: a response from another issuer is discarded without showing its error fields.
    if (row.issuer && (q.iss !== undefined || p.extra['issParameterSupported'] === true)) {
      if (!q.iss || q.iss.replace(/\/+$/, '') !== row.issuer.replace(/\/+$/, '')) {
        this.d.log.warn({ provider: p.slug }, 'callback from an unexpected issuer discarded');
        return fail(400, 'Wrong authorization server', 'The answer came from a different authorization server than the one this sign-in started with.');
      }
    }
    const who = { orgId: row.orgId, userId: row.userId, providerId: p.id, providerSlug: p.slug };
    if (q.error) {
      const code = q.error.replace(/[^a-z0-9_]/gi, '').slice(0, 64);
      this.d.events.emit('connection.failed', { ...who, error: code });
      this.d.audit.write({ orgId: row.orgId, category: 'connection', action: 'connect', onBehalfOfUserId: row.userId, outcome: 'failed', detail: { provider: p.slug, error: code } });
      const text = code === 'access_denied' ? `You declined access at ${p.displayName}.` : `${p.displayName} reported "${code}"${q.error_description ? `: ${q.error_description.slice(0, 200)}` : ''}.`;
      return fail(400, 'Not connected', text);
    }
    if (!q.code) return fail(400, 'Missing code', 'The provider sent no authorization code.');
    const verifier = this.#verifier(row);
    if (!verifier) return fail(400, 'Sign-in could not be completed', 'This sign-in does not match what was stored for it. Start again with `/onbehalf connect`.');
    const ex = await this.client.exchange(p, q.code, verifier, this.redirectUri());
    if (ex.kind !== 'ok') {
      const reason = ex.kind === 'transient' ? ex.reason : ex.error;
      this.d.events.emit('connection.failed', { ...who, error: ex.kind === 'transient' ? 'provider_unavailable' : ex.kind === 'invalid_grant' ? 'invalid_grant' : ex.error });
      this.d.audit.write({ orgId: row.orgId, category: 'connection', action: 'connect', onBehalfOfUserId: row.userId, outcome: 'failed', detail: { provider: p.slug, reason } });
      this.d.log.warn({ provider: p.slug, reason }, 'code exchange failed');
      return fail(502, 'Not connected', `${p.displayName} did not accept the sign-in (${reason}).`);
    }
    const identity = await this.client.identity(p, ex.tokens);
    const conn = this.conns.saveGrant(row.orgId, row.userId, p.id, ex.tokens, ex.tokens.scopes ?? row.scopes, identity);
    const user = this.d.db.select().from(users).where(eq(users.id, row.userId)).get();
    const org = this.d.db.select().from(orgs).where(eq(orgs.id, row.orgId)).get();
    this.d.metrics?.oauthEvents.inc({ event: 'connect', result: 'ok' });
    this.d.audit.write({
      orgId: row.orgId, category: 'connection', action: 'connect', actorUserId: row.userId, onBehalfOfUserId: row.userId,
      connectionIds: [conn.id], vendorAccount: identity.login, outcome: 'connected', detail: { provider: p.slug, scopes: conn.scopes },
    });
    this.d.log.info({ provider: p.slug, connectionId: conn.id, userId: row.userId }, 'account connected');
    this.d.events.emit('connection.active', { ...who, connectionId: conn.id, vendorLogin: identity.login, resumeCallId: row.resumeCallId ?? undefined });
    return { kind: 'connected', provider: p.displayName, providerSlug: p.slug, vendorLogin: identity.login, userName: user?.displayName ?? 'you', orgName: org?.name ?? '' };
  }
}
