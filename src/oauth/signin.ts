import { and, eq } from 'drizzle-orm';
import { SealError, Secret } from '../crypto/index.js';
import { linkedAccounts, oauthProviders, oauthStates } from '../db/schema.js';
import { sealedTables } from '../db/sealed.js';
import { fail, type ConsentStep } from './consent.js';
import type { OAuthDeps } from './deps.js';
import { runHook } from './hooks.js';
import type { CallbackOutcome, CallbackParams } from './flow.js';
import type { ProviderRow } from './providers.js';

type StateRow = typeof oauthStates.$inferSelect;

/**
 * The chat sign-in leg: the platform says who the browser is; only the link's own chat identity
 * (same user, and same workspace/guild where the platform names one) goes on to the provider.
 */
export class ChatSignInStep {
  constructor(
    private readonly d: OAuthDeps,
    private readonly consent: ConsentStep,
    private readonly authorizeUrl: (p: ProviderRow, scopes: string[], state: string, verifier: string) => string,
    private readonly redirectUri: () => string,
  ) {}

  /** Verifies the platform's answer; on a match stores the provider leg's state (same browser) and sends the browser on. */
  async finish(row: StateRow, q: CallbackParams, platform: string): Promise<CallbackOutcome> {
    const s = this.d.signIn;
    const p = this.d.db.select().from(oauthProviders).where(eq(oauthProviders.id, row.providerId)).get();
    if (!s || !p) return fail(404, 'Unknown provider', 'The provider of this sign-in no longer exists.');
    const name = platform === 'slack' ? 'Slack' : 'Discord';
    if (q.error || !q.code)
      return fail(
        400,
        'Not signed in',
        `${name} sign-in was not completed${q.error ? ` (${q.error.replace(/[^a-z0-9_]/gi, '').slice(0, 64)})` : ''}.`,
      );
    let verifier: string;
    try {
      verifier = this.d.keyring.open(row.codeVerifierSealed, sealedTables.oauthStates.ctx(row, 'codeVerifierSealed'));
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      this.d.log.warn(
        { sealError: err.code },
        "a chat sign-in's stored verifier does not open; the sign-in is refused",
      );
      return fail(
        400,
        'Sign-in could not be completed',
        'This sign-in does not match what was stored for it. Start again with `/onbehalf connect`.',
      );
    }
    const who = await s.verify(platform, q.code, new Secret(verifier).reveal(), this.redirectUri());
    if (!who.ok) {
      this.d.log.warn({ platform, reason: who.reason }, 'chat sign-in failed');
      return fail(502, 'Not signed in', `${name} did not confirm who you are (${who.reason}).`);
    }
    const mine = this.d.db
      .select()
      .from(linkedAccounts)
      .where(
        and(
          eq(linkedAccounts.orgId, row.orgId),
          eq(linkedAccounts.userId, row.userId),
          eq(linkedAccounts.platform, platform as 'slack' | 'discord'),
        ),
      )
      .all();
    const match = mine.find(
      (la) => la.platformUserId === who.userId && (who.workspaceId === null || la.workspaceId === who.workspaceId),
    );
    if (!match) {
      const owner = mine[0]?.displayName ?? mine[0]?.platformUserId ?? 'someone else';
      const signedIn = who.name ?? who.userId;
      this.d.audit.write({
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
      return fail(
        403,
        'This link is not yours',
        `This link belongs to @${owner}; you are signed in as @${signedIn}. Ask for your own link with \`/onbehalf connect ${p.slug}\`.`,
      );
    }
    const { state, verifier: v } = this.consent.newState(
      {
        orgId: row.orgId,
        userId: row.userId,
        providerId: row.providerId,
        issuer: row.issuer,
        scopes: row.scopes,
        resumeCallId: row.resumeCallId,
      },
      'connect+signed_in',
      row.browserHash!,
    );
    return { kind: 'redirect', url: this.authorizeUrl(p, row.scopes, state, v) };
  }
}
