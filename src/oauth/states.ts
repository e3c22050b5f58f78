import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, isNotNull, isNull, lt } from 'drizzle-orm';
import { SealError, Secret } from '../crypto/index.js';
import { newId } from '../db/index.js';
import type { oauthStates } from '../db/schema/index.js';
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
  /** The service identity the grant is for (an admin's service connect), else null. */
  serviceUserId?: string | null;
}

export const hash = (s: string) => createHash('sha256').update(s).digest('hex');
export const b64 = (n: number) => randomBytes(n).toString('base64url');

/** Server-side state of connect flows: stored hashed with a sealed PKCE verifier, claimed once by the callback. */
export class FlowStates {
  readonly #ttl: number;

  constructor(private readonly d: Pick<OAuthDeps, 'store' | 'keyring' | 'log' | 'options'>) {
    this.#ttl = d.options?.flowTtlSeconds ?? defaults.flowTtlSeconds;
  }

  /** Stores a fresh state (hash) and PKCE verifier (sealed) for one leg of the flow. */
  async create(f: StateFields, phase: string, browserHash: string): Promise<{ state: string; verifier: string }> {
    const state = b64(32);
    const verifier = b64(48);
    const id = newId();
    const now = Date.now();
    const s = this.d.store;
    const t = s.t.oauthStates;
    await s.changes(s.db.delete(t).where(lt(t.expiresAt, now - 86_400_000)));
    const owner = { id, orgId: f.orgId, userId: f.userId, providerId: f.providerId };
    await s.changes(
      s.db.insert(t).values({
        id,
        ...f,
        stateHash: hash(state),
        browserHash,
        phase,
        codeVerifierSealed: this.d.keyring.seal(verifier, sealedTables.oauthStates.ctx(owner, 'codeVerifierSealed')),
        expiresAt: now + this.#ttl * 1000,
      }),
    );
    return { state, verifier };
  }

  /**
   * The state a callback names, consumed atomically, if it is ours, from the browser that pressed
   * Continue, unspent and unexpired.
   */
  async claim(state: string | undefined, browser: string | undefined): Promise<StateRow | FlowError> {
    if (!state) return fail(400, { kind: 'state_missing' });
    const s = this.d.store;
    const t = s.t.oauthStates;
    const row = await s.first(
      s.db
        .select()
        .from(t)
        .where(eq(t.stateHash, hash(state))),
    );
    if (!row) return fail(400, { kind: 'state_unknown' });
    // Checked before consuming: another browser's replay must not spoil the real browser's sign-in.
    if (!browser || !row.browserHash || hash(browser) !== row.browserHash) {
      this.d.log.warn(
        { userId: row.userId },
        'callback from a browser other than the one that pressed Continue refused',
      );
      return fail(400, { kind: 'other_browser' });
    }
    // Consumed once by a conditional update (`consumed_at IS NULL`): of concurrent callbacks, one changes the row.
    const consumed = await s.changes(
      s.db
        .update(t)
        .set({ consumedAt: Date.now() })
        .where(and(eq(t.id, row.id), isNull(t.consumedAt))),
    );
    if (consumed !== 1) return fail(400, { kind: 'state_used' });
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
  async lastResumeCallId(orgId: string, userId: string, providerId: string): Promise<string | undefined> {
    const s = this.d.store;
    const t = s.t.oauthStates;
    const row = await s.first(
      s.db
        .select({ r: t.resumeCallId })
        .from(t)
        .where(and(eq(t.orgId, orgId), eq(t.userId, userId), eq(t.providerId, providerId), isNotNull(t.consumedAt)))
        .orderBy(desc(t.consumedAt))
        .limit(1),
    );
    return row?.r ?? undefined;
  }
}
