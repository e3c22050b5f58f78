import { and, asc, count, eq, inArray } from 'drizzle-orm';
import { newId, type Store, type Tx } from '../db/index.js';
import { CodeAttempts, freshCode, hashCode, type LiveCode } from './codes.js';
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
    private readonly store: Store,
    opts: LinkCodeOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.attempts = new CodeAttempts(opts.maxFailures ?? 5, opts.windowMs ?? 10 * 60_000);
  }

  /** A fresh 8-character code for `userId`; only its hash is stored. */
  async create(orgId: string, userId: string): Promise<{ code: string; expiresAt: number }> {
    const code = freshCode(8);
    const expiresAt = Date.now() + this.ttlMs;
    await this.store.changes(
      this.store.db
        .insert(this.store.t.linkCodes)
        .values({ id: newId(), orgId, userId, kind: 'link', codeHash: hashCode(code), expiresAt }),
    );
    return { code, expiresAt };
  }

  /**
   * Redeems `code` for the chat identity that typed it: that identity becomes a linked account
   * of the code's user. Wrong, expired and reused codes count as failures. A code of another org
   * is refused and stays unused, so its owner can still use it once an admin has joined the orgs.
   */
  redeem(identity: ChatIdentity, code: string): Promise<LinkResult> {
    return this.attempts.attempt(this.store, identity, code, { kind: 'link', length: 8 }, (tx, c) =>
      this.#redeem(tx, identity, c),
    );
  }

  /** The redemption proper; undefined for a code that counts as a failure. */
  async #redeem(tx: Tx, identity: ChatIdentity, { row, live, now }: LiveCode): Promise<LinkResult | undefined> {
    const { linkCodes, linkedAccounts, users } = tx.t;
    // The moved row: a row lock on this identity's linked account, so its redemptions run one after another.
    const la = await tx.first(
      tx.forUpdate(
        tx.db
          .select()
          .from(linkedAccounts)
          .where(
            and(
              eq(linkedAccounts.platform, identity.platform),
              eq(linkedAccounts.workspaceId, identity.workspaceId),
              eq(linkedAccounts.platformUserId, identity.userId),
            ),
          ),
      ),
    );
    // Row locks on both users, taken in id order by one statement: neither is deleted or emptied under us.
    const ids = la ? [la.userId, row.userId] : [row.userId];
    const both = await tx.rows(
      tx.forUpdate(tx.db.select().from(users).where(inArray(users.id, ids)).orderBy(asc(users.id))),
    );
    const target = both.find((u) => u.id === row.userId);
    if (!target) return undefined;
    if (!la) return { kind: 'unknown_identity' };
    if (la.userId === target.id) return { kind: 'already_linked', userId: target.id };
    if (la.orgId !== target.orgId) return { kind: 'other_org' };

    // One code redeemed once: a conditional update (used_at still null), so only one redeemer flips it.
    if (
      (await tx.changes(
        tx.db
          .update(linkCodes)
          .set({ usedAt: now })
          .where(and(eq(linkCodes.id, row.id), live)),
      )) === 0
    )
      return undefined;
    await tx.changes(tx.db.update(linkedAccounts).set({ userId: target.id }).where(eq(linkedAccounts.id, la.id)));
    const remaining = await tx.first(
      tx.db.select({ n: count() }).from(linkedAccounts).where(eq(linkedAccounts.userId, la.userId)),
    );
    if (remaining?.n === 0) await tx.changes(tx.db.delete(users).where(eq(users.id, la.userId)));
    return { kind: 'linked', userId: target.id, orgId: target.orgId, previousUserId: la.userId };
  }
}
