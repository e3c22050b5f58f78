import { createHash, randomInt } from 'node:crypto';
import { and, count, eq, gte } from 'drizzle-orm';
import { newId, type Db } from '../db/index.js';
import { linkAttempts } from '../db/schema/index.js';
import type { ChatIdentity } from './identity.js';

// No 0/O, 1/I/L: codes are read off one screen and typed on another.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** A fresh random code of `length` characters from the unambiguous alphabet. */
export const freshCode = (length: number): string =>
  Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
/** Only this is stored. */
export const hashCode = (code: string): string => createHash('sha256').update(code).digest('hex');
/** Case, spaces and dashes do not matter when a code is typed. */
export const normaliseCode = (code: string): string => code.toUpperCase().replace(/[\s-]/g, '');

/**
 * Wrong tries per chat identity, shared by link codes and org invites: `maxFailures` within
 * `windowMs` start a cool-down in which even the right code is refused.
 */
export class CodeAttempts {
  constructor(
    private readonly db: Db,
    private readonly maxFailures: number,
    private readonly windowMs: number,
  ) {}

  #who(identity: ChatIdentity) {
    return and(
      eq(linkAttempts.platform, identity.platform),
      eq(linkAttempts.workspaceId, identity.workspaceId),
      eq(linkAttempts.platformUserId, identity.userId),
    );
  }

  /** Milliseconds until this identity may try again, or undefined when it may try now. */
  coolingDown(identity: ChatIdentity, now = Date.now()): number | undefined {
    const recent = and(this.#who(identity), gte(linkAttempts.at, now - this.windowMs));
    const n = this.db.select({ n: count() }).from(linkAttempts).where(recent).get()?.n ?? 0;
    if (n < this.maxFailures) return undefined;
    const oldest = this.db
      .select({ at: linkAttempts.at })
      .from(linkAttempts)
      .where(recent)
      .orderBy(linkAttempts.at)
      .get();
    return (oldest?.at ?? now) + this.windowMs - now;
  }

  /** Records one wrong, expired or reused code. */
  fail(identity: ChatIdentity, now = Date.now()): void {
    this.db
      .insert(linkAttempts)
      .values({
        id: newId(),
        platform: identity.platform,
        workspaceId: identity.workspaceId,
        platformUserId: identity.userId,
        at: now,
      })
      .run();
  }
}
