import { createHash, randomInt } from 'node:crypto';
import { and, count, eq, gte, isNull, type SQL } from 'drizzle-orm';
import { newId, type Queries, type Store, type Tx } from '../db/index.js';
import type { linkCodes } from '../db/schema/index.js';
import { identityKey, type ChatIdentity } from './identity.js';

// No 0/O, 1/I/L: codes are read off one screen and typed on another.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** A fresh random code of `length` characters from the unambiguous alphabet. */
export const freshCode = (length: number): string =>
  Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
/** Only this is stored. */
export const hashCode = (code: string): string => createHash('sha256').update(code).digest('hex');
/** Case, spaces and dashes do not matter when a code is typed. */
export const normaliseCode = (code: string): string => code.toUpperCase().replace(/[\s-]/g, '');

/** How a try of a code ends when the code does not decide it. */
export type CodeRefusal = { kind: 'cooldown'; retryAfterMs: number } | { kind: 'invalid' };

/** A live code as `CodeAttempts.attempt` hands it on: its row and the condition that it is still live. */
export interface LiveCode {
  row: typeof linkCodes.$inferSelect;
  live: SQL | undefined;
  now: number;
}

/**
 * Wrong tries per chat identity, shared by link codes and org invites: `maxFailures` within
 * `windowMs` start a cool-down in which even the right code is refused.
 */
export class CodeAttempts {
  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
  ) {}

  #who(q: Queries, identity: ChatIdentity) {
    const { linkAttempts } = q.t;
    return and(
      eq(linkAttempts.platform, identity.platform),
      eq(linkAttempts.workspaceId, identity.workspaceId),
      eq(linkAttempts.platformUserId, identity.userId),
    );
  }

  /**
   * Milliseconds until this identity may try again, or undefined when it may try now. Called first
   * in the redeeming transaction, so the count and the failure it may record are one step.
   */
  async coolingDown(q: Tx, identity: ChatIdentity, now = Date.now()): Promise<number | undefined> {
    // Count then insert: an advisory lock per identity (Postgres; SQLite has one writer), so
    // concurrent wrong codes cannot all pass the count before any of them is recorded.
    await q.lock(`code-attempts:${identityKey(identity)}`);
    const { linkAttempts } = q.t;
    const recent = and(this.#who(q, identity), gte(linkAttempts.at, now - this.windowMs));
    const n = (await q.first(q.db.select({ n: count() }).from(linkAttempts).where(recent)))?.n ?? 0;
    if (n < this.maxFailures) return undefined;
    const oldest = await q.first(
      q.db.select({ at: linkAttempts.at }).from(linkAttempts).where(recent).orderBy(linkAttempts.at).limit(1),
    );
    return (oldest?.at ?? now) + this.windowMs - now;
  }

  /**
   * One try of a `length`-character code of `kind` typed by `identity`, as one transaction: refused
   * in a cool-down; `use` gets the live code and answers undefined when the try counts as a failure.
   */
  attempt<R>(
    store: Store,
    identity: ChatIdentity,
    typed: string,
    code: { kind: 'link' | 'org_invite'; length: number },
    use: (tx: Tx, c: LiveCode) => Promise<R | undefined>,
  ): Promise<R | CodeRefusal> {
    const now = Date.now();
    return store.tx(async (tx): Promise<R | CodeRefusal> => {
      const wait = await this.coolingDown(tx, identity, now);
      if (wait !== undefined) return { kind: 'cooldown', retryAfterMs: wait };
      const normalised = normaliseCode(typed);
      const { linkCodes } = tx.t;
      const live = and(
        eq(linkCodes.codeHash, hashCode(normalised)),
        eq(linkCodes.kind, code.kind),
        isNull(linkCodes.usedAt),
        gte(linkCodes.expiresAt, now),
      );
      const ok = new RegExp(`^[A-Z0-9]{${code.length}}$`).test(normalised);
      const row = ok ? await tx.first(tx.db.select().from(linkCodes).where(live)) : undefined;
      const result = row ? await use(tx, { row, live, now }) : undefined;
      if (result !== undefined) return result;
      await this.fail(tx, identity, now);
      return { kind: 'invalid' };
    });
  }

  /** Records one wrong, expired or reused code. */
  async fail(q: Queries, identity: ChatIdentity, now = Date.now()): Promise<void> {
    await q.changes(
      q.db.insert(q.t.linkAttempts).values({
        id: newId(),
        platform: identity.platform,
        workspaceId: identity.workspaceId,
        platformUserId: identity.userId,
        at: now,
      }),
    );
  }
}
