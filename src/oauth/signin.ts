import { and, eq } from 'drizzle-orm';
import type { linkedAccounts } from '../db/schema/index.js';
import { authorizeUrl, redirectUriOf } from './authorize.js';
import type { OAuthDeps, SignedIn } from './deps.js';
import { runHook } from './hooks.js';
import { fail, type CallbackOutcome, type CallbackParams, type FlowError } from './pages.js';
import type { ProviderRow } from './providers.js';
import type { FlowStates, StateRow } from './states.js';

type LinkedAccount = typeof linkedAccounts.$inferSelect;
type Confirmed = Extract<SignedIn, { ok: true }>;

/**
 * The chat sign-in leg: the platform says who the browser is; only the link's own chat identity
 * (same user, and same workspace/guild where the platform names one) goes on to the provider.
 */
export class ChatSignInStep {
  constructor(
    private readonly d: OAuthDeps,
    private readonly states: FlowStates,
  ) {}

  /** Verifies the platform's answer; on a match stores the provider leg's state (same browser) and sends the browser on. */
  async finish(row: StateRow, q: CallbackParams, platform: string): Promise<CallbackOutcome> {
    const s = this.d.store;
    const { oauthProviders, linkedAccounts } = s.t;
    const p = await s.first(s.db.select().from(oauthProviders).where(eq(oauthProviders.id, row.providerId)));
    if (!this.d.signIn || !p) return fail(404, { kind: 'state_provider_gone' });
    const who = await this.#verify(row, q, platform);
    if (who.kind === 'error') return who;
    const mine = await s.rows(
      s.db
        .select()
        .from(linkedAccounts)
        .where(
          and(
            eq(linkedAccounts.orgId, row.orgId),
            eq(linkedAccounts.userId, row.userId),
            eq(linkedAccounts.platform, platform as 'slack' | 'discord'),
          ),
        ),
    );
    const match = mine.find(
      (la) => la.platformUserId === who.userId && (who.workspaceId === null || la.workspaceId === who.workspaceId),
    );
    if (!match) return this.#mismatch(row, p, platform, who, mine);
    const { state, verifier } = await this.states.create(
      {
        orgId: row.orgId,
        userId: row.userId,
        providerId: row.providerId,
        issuer: row.issuer,
        scopes: row.scopes,
        resumeCallId: row.resumeCallId,
        serviceUserId: row.serviceUserId,
      },
      'connect+signed_in',
      row.browserHash!,
    );
    return { kind: 'redirect', url: authorizeUrl(p, redirectUriOf(this.d.publicUrl), row.scopes, state, verifier) };
  }

  /** Who the platform says the browser is, or why it said nothing usable. */
  async #verify(row: StateRow, q: CallbackParams, platform: string): Promise<(Confirmed & { kind: 'ok' }) | FlowError> {
    if (q.error || !q.code)
      return fail(400, {
        kind: 'signin_incomplete',
        platform,
        error: q.error ? q.error.replace(/[^a-z0-9_]/gi, '').slice(0, 64) : undefined,
      });
    const verifier = this.states.verifier(row, 'signin');
    if (!verifier) return fail(400, { kind: 'verifier_mismatch' });
    const who = await this.d.signIn!.verify(platform, q.code, verifier.reveal(), redirectUriOf(this.d.publicUrl));
    if (!who.ok) {
      this.d.log.warn({ platform, reason: who.reason }, 'chat sign-in failed');
      return fail(502, { kind: 'signin_unconfirmed', platform, reason: who.reason });
    }
    return { ...who, kind: 'ok' };
  }

  /** The browser is someone else's: refused, audited, and both people told in chat (by the event). */
  async #mismatch(
    row: StateRow,
    p: ProviderRow,
    platform: string,
    who: Confirmed,
    mine: LinkedAccount[],
  ): Promise<FlowError> {
    const owner = mine[0]?.displayName ?? mine[0]?.platformUserId ?? null;
    const signedIn = who.name ?? who.userId;
    await this.d.audit.write({
      orgId: row.orgId,
      category: 'connection',
      action: 'connect',
      onBehalfOfUserId: row.userId,
      decision: 'denied',
      outcome: 'signin_mismatch',
      detail: { provider: p.slug, platform, signedInAs: `${who.workspaceId ?? ''}:${who.userId}` },
    });
    await runHook(this.d.hooks, this.d.log, 'signInMismatch', {
      orgId: row.orgId,
      userId: row.userId,
      providerId: p.id,
      providerSlug: p.slug,
      platform,
      signedInAs: signedIn,
    });
    return fail(403, { kind: 'signin_mismatch', owner, signedIn, providerSlug: p.slug });
  }
}
