import { and, count, eq, gte, isNull } from 'drizzle-orm';
import { newId, type Db } from '../db/index.js';
import { linkCodes, linkedAccounts, users } from '../db/schema/index.js';
import { CodeAttempts, freshCode, hashCode, normaliseCode } from './codes.js';
import type { ChatIdentity } from './identity.js';

/** Options for link codes; defaults beside each field. */
export interface LinkCodeOptions {
  /** How long a code is valid. Default 10 minutes. */
  ttlMs?: number;
  /** Wrong tries allowed per identity within `windowMs` before a cool-down. Default 5. */
  maxFailures?: number;
  /** Window (and cool-down) for wrong tries. Default 10 minutes. */
  windowMs?: number;
}

/** Result of redeeming a code. */
export type LinkResult =
  | { kind: 'linked'; userId: string; orgId: string; previousUserId: string }
  | { kind: 'already_linked'; userId: string }
  | { kind: 'invalid' }
  | { kind: 'cooldown'; retryAfterMs: number }
  /** The code's user is in another org: only an admin org join brings the two together. */
  | { kind: 'other_org' }
  /** The redeeming chat identity has never been seen (it must send something first). */
  | { kind: 'unknown_identity' };

/**
 * One-time codes that merge a second chat identity into an existing user **of the same org**.
 * A link never moves a workspace between orgs (that is an admin act on both sides: `OrgJoins`).
 */
export class LinkCodes {
  private readonly ttlMs: number;
  private readonly attempts: CodeAttempts;

  constructor(
    private readonly db: Db,
    opts: LinkCodeOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.attempts = new CodeAttempts(db, opts.maxFailures ?? 5, opts.windowMs ?? 10 * 60_000);
  }

  /** A fresh 8-character code for `userId`; only its hash is stored. */
  create(orgId: string, userId: string): { code: string; expiresAt: number } {
    const code = freshCode(8);
    const expiresAt = Date.now() + this.ttlMs;
    this.db
      .insert(linkCodes)
      .values({ id: newId(), orgId, userId, kind: 'link', codeHash: hashCode(code), expiresAt })
      .run();
    return { code, expiresAt };
  }

  /**
   * Redeems `code` for the chat identity that typed it: that identity becomes a linked account
   * of the code's user. Wrong, expired and reused codes count as failures. A code of another org
   * is refused and stays unused, so its owner can still use it once an admin has joined the orgs.
   */
  redeem(identity: ChatIdentity, code: string): LinkResult {
    const now = Date.now();
    const wait = this.attempts.coolingDown(identity, now);
    if (wait !== undefined) return { kind: 'cooldown', retryAfterMs: wait };
    const fail = (): LinkResult => {
      this.attempts.fail(identity, now);
      return { kind: 'invalid' };
    };
    const normalised = normaliseCode(code);
    if (!/^[A-Z0-9]{8}$/.test(normalised)) return fail();

    return this.db.transaction((tx) => {
      const live = and(
        eq(linkCodes.codeHash, hashCode(normalised)),
        eq(linkCodes.kind, 'link'),
        isNull(linkCodes.usedAt),
        gte(linkCodes.expiresAt, now),
      );
      const row = tx.select().from(linkCodes).where(live).get();
      if (!row) return fail();
      const target = tx.select().from(users).where(eq(users.id, row.userId)).get();
      if (!target) return fail();
      const la = tx
        .select()
        .from(linkedAccounts)
        .where(
          and(
            eq(linkedAccounts.platform, identity.platform),
            eq(linkedAccounts.workspaceId, identity.workspaceId),
            eq(linkedAccounts.platformUserId, identity.userId),
          ),
        )
        .get();
      if (!la) return { kind: 'unknown_identity' } as const;
      if (la.userId === target.id) return { kind: 'already_linked', userId: target.id } as const;
      if (la.orgId !== target.orgId) return { kind: 'other_org' } as const;

      // Consume atomically: only one redeemer of a code can flip used_at.
      if (
        tx
          .update(linkCodes)
          .set({ usedAt: now })
          .where(and(eq(linkCodes.id, row.id), live))
          .run().changes === 0
      )
        return fail();
      tx.update(linkedAccounts).set({ userId: target.id }).where(eq(linkedAccounts.id, la.id)).run();
      const remaining = tx
        .select({ n: count() })
        .from(linkedAccounts)
        .where(eq(linkedAccounts.userId, la.userId))
        .get()!.n;
      if (remaining === 0) tx.delete(users).where(eq(users.id, la.userId)).run();
      return { kind: 'linked', userId: target.id, orgId: target.orgId, previousUserId: la.userId } as const;
    });
  }
}
