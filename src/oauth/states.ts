import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, isNotNull, isNull, lt } from 'drizzle-orm';
import { SealError, Secret } from '../crypto/index.js';
import { newId } from '../db/index.js';
import { oauthStates } from '../db/schema/index.js';
import { sealedTables } from '../db/sealed.js';
import { defaults, type OAuthDeps } from './deps.js';
import { fail, type FlowError } from './pages.js';

/** A state row: one leg (chat sign-in or provider) of one connect flow. */
export type StateRow = typeof oauthStates.$inferSelect;

/** Fields a state row carries from the link to the callback. */
export interface StateFields {
  orgId: string;
  userId: string;
  providerId: string;
  issuer: string | null;
  scopes: string[];
  resumeCallId: string | null;
}

export const hash = (s: string) => createHash('sha256').update(s).digest('hex');
export const b64 = (n: number) => randomBytes(n).toString('base64url');

/** Server-side state of connect flows: stored hashed with a sealed PKCE verifier, claimed once by the callback. */
export class FlowStates {
  readonly #ttl: number;

  constructor(private readonly d: OAuthDeps) {
    this.#ttl = d.options?.flowTtlSeconds ?? defaults.flowTtlSeconds;
  }

  /** Stores a fresh state (hash) and PKCE verifier (sealed) for one leg of the flow. */
  create(f: StateFields, phase: string, browserHash: string): { state: string; verifier: string } {
    const state = b64(32);
    const verifier = b64(48);
    const id = newId();
    const now = Date.now();
    this.d.db
      .delete(oauthStates)
      .where(lt(oauthStates.expiresAt, now - 86_400_000))
      .run();
    const owner = { id, orgId: f.orgId, userId: f.userId, providerId: f.providerId };
    this.d.db
      .insert(oauthStates)
      .values({
        id,
        ...f,
        stateHash: hash(state),
        browserHash,
        phase,
        codeVerifierSealed: this.d.keyring.seal(verifier, sealedTables.oauthStates.ctx(owner, 'codeVerifierSealed')),
        expiresAt: now + this.#ttl * 1000,
      })
      .run();
    return { state, verifier };
  }

  /**
   * The state a callback names, consumed atomically, if it is ours, from the browser that pressed
   * Continue, unspent and unexpired.
   */
  claim(state: string | undefined, browser: string | undefined): StateRow | FlowError {
    if (!state) return fail(400, { kind: 'state_missing' });
    const row = this.d.db
      .select()
      .from(oauthStates)
      .where(eq(oauthStates.stateHash, hash(state)))
      .get();
    if (!row) return fail(400, { kind: 'state_unknown' });
    // Checked before consuming: another browser's replay must not spoil the real browser's sign-in.
    if (!browser || !row.browserHash || hash(browser) !== row.browserHash) {
      this.d.log.warn(
        { userId: row.userId },
        'callback from a browser other than the one that pressed Continue refused',
      );
      return fail(400, { kind: 'other_browser' });
    }
    const consumed = this.d.db
      .update(oauthStates)
      .set({ consumedAt: Date.now() })
      .where(and(eq(oauthStates.id, row.id), isNull(oauthStates.consumedAt)))
      .run();
    if (consumed.changes !== 1) return fail(400, { kind: 'state_used' });
    if (row.expiresAt < Date.now()) return fail(400, { kind: 'state_expired' });
    return row;
  }

  /** The PKCE verifier of a state row, or undefined (logged) when it does not open for that row's user and provider. */
  verifier(row: StateRow, leg: 'connect' | 'signin'): Secret | undefined {
    try {
      return new Secret(
        this.d.keyring.open(row.codeVerifierSealed, sealedTables.oauthStates.ctx(row, 'codeVerifierSealed')),
      );
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      if (leg === 'connect')
        this.d.log.warn(
          { sealError: err.code, err: err.message },
          "a connect flow's stored verifier does not open; the sign-in is refused",
        );
      else
        this.d.log.warn(
          { sealError: err.code },
          "a chat sign-in's stored verifier does not open; the sign-in is refused",
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
}
