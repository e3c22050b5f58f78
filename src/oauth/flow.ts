import { createHash } from 'node:crypto';
import { and, desc, eq, isNotNull, isNull } from 'drizzle-orm';
import type { z } from 'zod';
import { SealError, Secret } from '../crypto/index.js';
import { oauthProviders, oauthStates, orgs, users } from '../db/schema.js';
import { sealedTables } from '../db/sealed.js';
import {
  ConsentStep,
  fail,
  hash,
  START_PURPOSE,
  type ContinueOutcome,
  type ConsentPage,
  type FlowError,
  type startClaims,
} from './consent.js';
import { defaults, type OAuthDeps } from './deps.js';
import { runHook } from './hooks.js';
import { quirksOf } from './presets.js';
import type { ProviderRow, ProviderStore } from './providers.js';
import type { ConnectionStore } from './store.js';
import type { TokenClient, VendorIdentity } from './tokenclient.js';
import { ChatSignInStep } from './signin.js';

/** What `/oauth/callback` shows: connected (maybe held), sent on to the provider after chat sign-in, or why not. */
export type CallbackOutcome =
  | {
      kind: 'connected';
      held: boolean;
      provider: string;
      providerSlug: string;
      vendorLogin: string | null;
      userName: string;
      orgName: string;
    }
  | { kind: 'redirect'; url: string }
  | FlowError;

/** Query of `/oauth/callback` once decoded. */
export interface CallbackParams {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
  iss?: string | undefined;
}

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
    this.consent = new ConsentStep(
      d,
      providers,
      conns,
      (p, sc, st, v) => this.#authorizeUrl(p, sc, st, v),
      () => this.redirectUri(),
    );
    this.signIn = new ChatSignInStep(
      d,
      this.consent,
      (p, sc, st, v) => this.#authorizeUrl(p, sc, st, v),
      () => this.redirectUri(),
    );
  }

  readonly consent: ConsentStep;
  readonly signIn: ChatSignInStep;

  /** `GET /oauth/start`: the consent page; spends nothing. */
  page(t: string): Promise<ConsentPage> {
    return this.consent.page(t);
  }

  /** `POST /oauth/start` (Continue). */
  continue(t: string, csrf: string | undefined, browser: string | undefined): Promise<ContinueOutcome> {
    return this.consent.continue(t, csrf, browser);
  }

  /** `PUBLIC_URL + /oauth/callback`, exactly. */
  redirectUri(): string {
    return `${this.d.publicUrl}/oauth/callback`;
  }

  /** A single-use signed start link for this user and provider, valid 10 minutes. */
  async connectLink(
    orgId: string,
    userId: string,
    providerSlug: string,
    opts: { resumeCallId?: string | undefined; extraScopes?: string[] | undefined } = {},
  ): Promise<string> {
    const claims: z.infer<typeof startClaims> = { o: orgId, u: userId, p: providerSlug };
    if (opts.resumeCallId) claims.r = opts.resumeCallId;
    if (opts.extraScopes?.length) claims.s = opts.extraScopes;
    const t = await this.d.links.sign(START_PURPOSE, claims, this.#ttl);
    return `${this.d.publicUrl}/oauth/start?t=${t}`;
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
      return new Secret(
        this.d.keyring.open(row.codeVerifierSealed, sealedTables.oauthStates.ctx(row, 'codeVerifierSealed')),
      );
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      this.d.log.warn(
        { sealError: err.code, err: err.message },
        "a connect flow's stored verifier does not open; the sign-in is refused",
      );
      return undefined;
    }
  }

  /** The call to resume named by the user's latest completed connect at this provider, if any. */
  lastResumeCallId(orgId: string, userId: string, providerId: string): string | undefined {
    const row = this.d.db
      .select({ r: oauthStates.resumeCallId })
      .from(oauthStates)
      .where(
        and(
          eq(oauthStates.orgId, orgId),
          eq(oauthStates.userId, userId),
          eq(oauthStates.providerId, providerId),
          isNotNull(oauthStates.consumedAt),
        ),
      )
      .orderBy(desc(oauthStates.consumedAt))
      .limit(1)
      .get();
    return row?.r ?? undefined;
  }

  /**
   * Checks the browser cookie, consumes the state atomically, and then either verifies the chat
   * sign-in (and goes on to the provider) or exchanges the code and stores the grant sealed, held
   * when the vendor account is new to the user and the browser was not proven to be theirs.
   */
  async callback(q: CallbackParams, browser: string | undefined): Promise<CallbackOutcome> {
    if (!q.state)
      return fail(400, 'Missing state', 'This address is missing its state, so it cannot be matched to a sign-in.');
    const row = this.d.db
      .select()
      .from(oauthStates)
      .where(eq(oauthStates.stateHash, hash(q.state)))
      .get();
    if (!row) return fail(400, 'Unknown sign-in', 'This sign-in is not one we started (or it was cleaned up).');
    // Checked before consuming: another browser's replay must not spoil the real browser's sign-in.
    if (!browser || !row.browserHash || hash(browser) !== row.browserHash) {
      this.d.log.warn(
        { userId: row.userId },
        'callback from a browser other than the one that pressed Continue refused',
      );
      return fail(
        400,
        'Finish in the same browser',
        'This sign-in was started in another browser (or its cookie is gone). Open the connect link again in the browser you finish it in.',
      );
    }
    const consumed = this.d.db
      .update(oauthStates)
      .set({ consumedAt: Date.now() })
      .where(and(eq(oauthStates.id, row.id), isNull(oauthStates.consumedAt)))
      .run();
    if (consumed.changes !== 1)
      return fail(400, 'Sign-in already used', 'This sign-in was already completed or abandoned; each works once.');
    if (row.expiresAt < Date.now()) return fail(400, 'Sign-in expired', 'This sign-in took longer than 10 minutes.');
    if (row.phase.startsWith('signin:')) return this.signIn.finish(row, q, row.phase.slice('signin:'.length));
    const p = this.d.db.select().from(oauthProviders).where(eq(oauthProviders.id, row.providerId)).get();
    if (!p) return fail(404, 'Unknown provider', 'The provider of this sign-in no longer exists.');
    // RFC 9207: a response from another issuer is discarded without showing its error fields.
    if (row.issuer && (q.iss !== undefined || p.extra['issParameterSupported'] === true)) {
      if (!q.iss || q.iss.replace(/\/+$/, '') !== row.issuer.replace(/\/+$/, '')) {
        this.d.log.warn({ provider: p.slug }, 'callback from an unexpected issuer discarded');
        return fail(
          400,
          'Wrong authorization server',
          'The answer came from a different authorization server than the one this sign-in started with.',
        );
      }
    }
    const who = { orgId: row.orgId, userId: row.userId, providerId: p.id, providerSlug: p.slug };
    if (q.error) {
      const code = q.error.replace(/[^a-z0-9_]/gi, '').slice(0, 64);
      this.d.audit.write({
        orgId: row.orgId,
        category: 'connection',
        action: 'connect',
        onBehalfOfUserId: row.userId,
        outcome: 'failed',
        detail: { provider: p.slug, error: code },
      });
      const text =
        code === 'access_denied'
          ? `You declined access at ${p.displayName}.`
          : `${p.displayName} reported "${code}"${q.error_description ? `: ${q.error_description.slice(0, 200)}` : ''}.`;
      return fail(400, 'Not connected', text);
    }
    if (!q.code) return fail(400, 'Missing code', 'The provider sent no authorization code.');
    const verifier = this.#verifier(row);
    if (!verifier)
      return fail(
        400,
        'Sign-in could not be completed',
        'This sign-in does not match what was stored for it. Start again with `/onbehalf connect`.',
      );
    const ex = await this.client.exchange(p, q.code, verifier, this.redirectUri());
    if (ex.kind !== 'ok') {
      const reason = ex.kind === 'transient' ? ex.reason : ex.error;
      this.d.audit.write({
        orgId: row.orgId,
        category: 'connection',
        action: 'connect',
        onBehalfOfUserId: row.userId,
        outcome: 'failed',
        detail: { provider: p.slug, reason },
      });
      this.d.log.warn({ provider: p.slug, reason }, 'code exchange failed');
      return fail(502, 'Not connected', `${p.displayName} did not accept the sign-in (${reason}).`);
    }
    const identity = await this.client.identity(p, ex.tokens);
    const user = this.d.db.select().from(users).where(eq(users.id, row.userId)).get();
    const org = this.d.db.select().from(orgs).where(eq(orgs.id, row.orgId)).get();
    const userName = user?.displayName ?? 'you';
    // One vendor account, one person: unless an admin allowed sharing, another user's account is refused.
    const owner =
      p.extra['shareVendorAccounts'] === true
        ? undefined
        : this.conns.ownerOfVendorAccount(row.orgId, p.id, identity, row.userId);
    if (owner) {
      this.d.metrics?.oauthEvents.inc({ event: 'connect', result: 'refused' });
      this.d.audit.write({
        orgId: row.orgId,
        category: 'connection',
        action: 'connect',
        onBehalfOfUserId: row.userId,
        vendorAccount: identity.login,
        decision: 'denied',
        outcome: 'vendor_account_taken',
        detail: { provider: p.slug, connectedFor: owner.userId },
      });
      await runHook(this.d.hooks, this.d.log, 'grantRefused', {
        ...who,
        vendorLogin: identity.login,
        ownerUserId: owner.userId,
      });
      const ownerName =
        this.d.db.select().from(users).where(eq(users.id, owner.userId)).get()?.displayName ?? 'another person';
      return fail(
        409,
        'Already connected for someone else',
        `${p.displayName} ${identity.login ?? 'account'} is already connected for ${ownerName}${org ? ` in ${org.name}` : ''}, so it cannot also be connected for ${userName}. ` +
          `If this was not your own link, someone may have forwarded theirs; both of you were told in chat.`,
      );
    }
    const verified = row.phase === 'connect+signed_in';
    const previous = this.conns.find(row.orgId, row.userId, p.id);
    const known = previous !== undefined && previous.status !== 'held' && sameVendorAccount(previous, identity);
    const held = !verified && !known;
    const conn = this.conns.saveGrant(
      row.orgId,
      row.userId,
      p.id,
      ex.tokens,
      ex.tokens.scopes ?? row.scopes,
      identity,
      held ? 'held' : 'active',
    );
    this.d.metrics?.oauthEvents.inc({ event: 'connect', result: held ? 'held' : 'ok' });
    this.d.audit.write({
      orgId: row.orgId,
      category: 'connection',
      action: 'connect',
      actorUserId: row.userId,
      onBehalfOfUserId: row.userId,
      connectionIds: [conn.id],
      vendorAccount: identity.login,
      outcome: held ? 'held' : 'connected',
      detail: { provider: p.slug, scopes: conn.scopes, signedIn: verified },
    });
    this.d.log.info(
      { provider: p.slug, connectionId: conn.id, userId: row.userId, held },
      held ? 'account connected, held until the user confirms' : 'account connected',
    );
    const e = {
      ...who,
      connectionId: conn.id,
      vendorLogin: identity.login,
      resumeCallId: row.resumeCallId ?? undefined,
    };
    await runHook(this.d.hooks, this.d.log, held ? 'grantHeld' : 'grantArrived', e);
    return {
      kind: 'connected',
      held,
      provider: p.displayName,
      providerSlug: p.slug,
      vendorLogin: identity.login,
      userName,
      orgName: org?.name ?? '',
    };
  }
}

/** Whether a stored grant acts as the same vendor account (by id, else login; unknown on both sides counts as the same). */
export function sameVendorAccount(
  row: { vendorAccountId: string | null; vendorLogin: string | null },
  who: VendorIdentity,
): boolean {
  if (row.vendorAccountId && who.id) return row.vendorAccountId === who.id;
  if (row.vendorLogin && who.login) return row.vendorLogin === who.login;
  return !who.id && !who.login;
}
