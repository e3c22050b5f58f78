import { createHash, randomInt } from 'node:crypto';
import { and, count, eq, gte, isNull } from 'drizzle-orm';
import { newId, type Db } from '../db/index.js';
import { linkAttempts, linkCodes, linkedAccounts, orgs, users, workspaces } from '../db/schema.js';
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

// No 0/O, 1/I/L: codes are read off one screen and typed on another.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const hash = (code: string) => createHash('sha256').update(code).digest('hex');
const normalise = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');

/** Result of redeeming a code. */
export type LinkResult =
  | { kind: 'linked'; userId: string; orgId: string; previousUserId: string }
  | { kind: 'already_linked'; userId: string }
  | { kind: 'invalid' }
  | { kind: 'cooldown'; retryAfterMs: number }
  | { kind: 'conflict'; reason: string };

/** One-time codes that merge a second chat identity into an existing user. */
export class LinkCodes {
  private readonly ttlMs: number;
  private readonly maxFailures: number;
  private readonly windowMs: number;

  constructor(private readonly db: Db, opts: LinkCodeOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.maxFailures = opts.maxFailures ?? 5;
    this.windowMs = opts.windowMs ?? 10 * 60_000;
  }

  /** A fresh 8-character code for `userId`; only its hash is stored. */
  create(orgId: string, userId: string): { code: string; expiresAt: number } {
    const code = Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    const expiresAt = Date.now() + this.ttlMs;
    this.db.insert(linkCodes).values({ id: newId(), orgId, userId, codeHash: hash(code), expiresAt }).run();
    return { code, expiresAt };
  }

  /**
   * Redeems `code` for the chat identity that typed it: that identity becomes a linked account
   * of the code's user. Wrong, expired and reused codes count as failures.
   */
  redeem(identity: ChatIdentity, code: string): LinkResult {
    const now = Date.now();
    const who = and(
      eq(linkAttempts.platform, identity.platform),
      eq(linkAttempts.workspaceId, identity.workspaceId),
      eq(linkAttempts.platformUserId, identity.userId),
    );
    const recent = this.db.select({ n: count(), first: linkAttempts.at }).from(linkAttempts).where(and(who, gte(linkAttempts.at, now - this.windowMs))).get();
    if ((recent?.n ?? 0) >= this.maxFailures) {
      const oldest = this.db.select({ at: linkAttempts.at }).from(linkAttempts).where(and(who, gte(linkAttempts.at, now - this.windowMs))).orderBy(linkAttempts.at).get();
      return { kind: 'cooldown', retryAfterMs: (oldest?.at ?? now) + this.windowMs - now };
    }
    const fail = (): LinkResult => {
      this.db.insert(linkAttempts).values({ id: newId(), platform: identity.platform, workspaceId: identity.workspaceId, platformUserId: identity.userId, at: now }).run();
      return { kind: 'invalid' };
    };
    const normalised = normalise(code);
    if (!/^[A-Z0-9]{8}$/.test(normalised)) return fail();

    return this.db.transaction((tx) => {
      // Consume atomically: only one redeemer of a code can flip used_at.
      const row = tx
        .update(linkCodes)
        .set({ usedAt: now })
        .where(and(eq(linkCodes.codeHash, hash(normalised)), isNull(linkCodes.usedAt), gte(linkCodes.expiresAt, now)))
        .returning()
        .get();
      if (!row) return fail();
      const target = tx.select().from(users).where(eq(users.id, row.userId)).get();
      if (!target) return fail();
      const la = tx
        .select()
        .from(linkedAccounts)
        .where(and(eq(linkedAccounts.platform, identity.platform), eq(linkedAccounts.workspaceId, identity.workspaceId), eq(linkedAccounts.platformUserId, identity.userId)))
        .get();
      if (!la) return { kind: 'conflict', reason: 'this chat identity is not known yet; send any message first' } as const;
      if (la.userId === target.id) return { kind: 'already_linked', userId: target.id } as const;

      if (la.orgId !== target.orgId) {
        // The identity's workspace joins the code owner's org only if it holds nobody else yet.
        const others = tx.select({ n: count() }).from(users).where(eq(users.orgId, la.orgId)).get()!.n;
        if (others > 1) {
          return { kind: 'conflict', reason: 'this workspace already belongs to another org with other members; an admin must merge them' } as const;
        }
        tx.update(workspaces).set({ orgId: target.orgId }).where(and(eq(workspaces.platform, identity.platform), eq(workspaces.workspaceId, identity.workspaceId))).run();
        tx.update(linkedAccounts).set({ userId: target.id, orgId: target.orgId }).where(eq(linkedAccounts.id, la.id)).run();
        tx.delete(users).where(eq(users.id, la.userId)).run();
        const left = tx.select({ n: count() }).from(workspaces).where(eq(workspaces.orgId, la.orgId)).get()!.n;
        if (left === 0) tx.delete(orgs).where(eq(orgs.id, la.orgId)).run();
      } else {
        tx.update(linkedAccounts).set({ userId: target.id }).where(eq(linkedAccounts.id, la.id)).run();
        const remaining = tx.select({ n: count() }).from(linkedAccounts).where(eq(linkedAccounts.userId, la.userId)).get()!.n;
        if (remaining === 0) tx.delete(users).where(eq(users.id, la.userId)).run();
      }
      return { kind: 'linked', userId: target.id, orgId: target.orgId, previousUserId: la.userId } as const;
    });
  }
}
