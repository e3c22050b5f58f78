import { and, asc, count, eq, inArray, isNull, type SQL } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { newId, type Queries, type Store, type Tx } from '../db/index.js';
import { CodeAttempts, freshCode, hashCode, type LiveCode } from './codes.js';
import type { ChatIdentity } from './identity.js';

/** Options for org invites; defaults beside each field. */
export interface OrgJoinOptions {
  /** How long an invite code is valid. Default 10 minutes. */
  ttlMs?: number;
  /** Wrong codes allowed per identity within `windowMs` before a cool-down. Default 5. */
  maxFailures?: number;
  /** Window (and cool-down) for wrong codes. Default 10 minutes. */
  windowMs?: number;
}

/** Data of its own that keeps an org from joining another (each kind with a few names or a count). */
export interface JoinBlocker {
  kind: 'providers' | 'servers' | 'secrets' | 'teams' | 'connected_accounts';
  count: number;
  names: string[];
}

/** Result of `admin org join <code>`. */
export type JoinResult =
  | {
      kind: 'joined';
      intoOrgId: string;
      intoOrgName: string;
      fromOrgId: string;
      invitedBy: string;
      workspaces: number;
      users: number;
    }
  | { kind: 'invalid' }
  | { kind: 'cooldown'; retryAfterMs: number }
  | { kind: 'same_org' }
  /** The code is right but this org still holds data of its own; the code stays usable. */
  | { kind: 'blocked'; intoOrgId: string; blockers: JoinBlocker[] };

/** Invite codes are longer than link codes: they move whole workspaces. */
const INVITE_LENGTH = 12;

/**
 * Org joins: an admin of org A issues a one-time invite code; an admin of org B redeems it and
 * every workspace of B, with B's users and their linked chat identities, moves into A. Refused
 * while B holds providers, servers, secrets, teams or connected accounts of its own (moving them
 * would hand B's credentials to A's admins). B's users arrive as members: A's admins did not
 * choose B's admins, and can grant roles with `admin role grant`. B's org row stays, with its
 * audit history.
 */
export class OrgJoins {
  private readonly ttlMs: number;
  private readonly attempts: CodeAttempts;

  constructor(
    private readonly store: Store,
    opts: OrgJoinOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.attempts = new CodeAttempts(opts.maxFailures ?? 5, opts.windowMs ?? 10 * 60_000);
  }

  /** A fresh invite into `orgId`, issued by admin `userId`; only its hash is stored. Shown as XXXX-XXXX-XXXX. */
  async invite(orgId: string, userId: string): Promise<{ code: string; expiresAt: number }> {
    const raw = freshCode(INVITE_LENGTH);
    const expiresAt = Date.now() + this.ttlMs;
    await this.store.changes(
      this.store.db
        .insert(this.store.t.linkCodes)
        .values({ id: newId(), orgId, userId, kind: 'org_invite', codeHash: hashCode(raw), expiresAt }),
    );
    return { code: raw.match(/.{4}/g)!.join('-'), expiresAt };
  }

  /** What keeps `orgId` from joining another org; empty when nothing does. */
  async blockers(orgId: string, q: Queries = this.store): Promise<JoinBlocker[]> {
    const { oauthProviders, mcpServers, secrets, teams, connectedAccounts } = q.t;
    const kinds: [JoinBlocker['kind'], SQLiteTable, SQLiteColumn, SQLiteColumn | undefined][] = [
      ['providers', oauthProviders, oauthProviders.orgId, oauthProviders.slug],
      ['servers', mcpServers, mcpServers.orgId, mcpServers.name],
      ['secrets', secrets, secrets.orgId, secrets.name],
      ['teams', teams, teams.orgId, teams.name],
      ['connected_accounts', connectedAccounts, connectedAccounts.orgId, undefined],
    ];
    const found: JoinBlocker[] = [];
    for (const [kind, table, org, name] of kinds) {
      const where: SQL = eq(org, orgId);
      const n = (await q.first(q.db.select({ n: count() }).from(table).where(where)))?.n ?? 0;
      if (n === 0) continue;
      const names = name
        ? (await q.rows(q.db.select({ name }).from(table).where(where).limit(3))).map((r) => String(r.name))
        : [];
      found.push({ kind, count: n, names });
    }
    return found;
  }

  /**
   * Redeems an invite for `fromOrgId`, the org of the admin who typed it (the router has checked
   * that role). The invite's issuer must still be an admin of its org. Atomic: the checks and the
   * move are one transaction, so data added meanwhile cannot slip through.
   */
  join(identity: ChatIdentity, fromOrgId: string, code: string): Promise<JoinResult> {
    return this.attempts.attempt(this.store, identity, code, { kind: 'org_invite', length: INVITE_LENGTH }, (tx, c) =>
      this.#join(tx, fromOrgId, c),
    );
  }

  /** The join proper; undefined for a code that counts as a failure. */
  async #join(tx: Tx, fromOrgId: string, { row: invite, live, now }: LiveCode): Promise<JoinResult | undefined> {
    const { linkCodes, orgs, users } = tx.t;
    // Row locks on both orgs, in id order by one statement: they conflict with the key-share lock every
    // insert of a row naming either org takes, so the checks below and the move see one state of both.
    const locked = await tx.rows(
      tx.forUpdate(
        tx.db
          .select()
          .from(orgs)
          .where(inArray(orgs.id, [invite.orgId, fromOrgId]))
          .orderBy(asc(orgs.id)),
      ),
    );
    // A row lock on the issuer: a demotion waits for the join (or the join sees it).
    const issuer = await tx.first(
      tx.forUpdate(
        tx.db
          .select()
          .from(users)
          .where(and(eq(users.id, invite.userId), eq(users.orgId, invite.orgId))),
      ),
    );
    if (issuer?.role !== 'admin') return undefined;
    const into = locked.find((o) => o.id === invite.orgId);
    if (!into) return undefined;
    if (into.id === fromOrgId) return { kind: 'same_org' };
    const blockers = await this.blockers(fromOrgId, tx);
    if (blockers.length) return { kind: 'blocked', intoOrgId: into.id, blockers };

    // One invite redeemed once: a conditional update (used_at still null).
    if (
      (await tx.changes(
        tx.db
          .update(linkCodes)
          .set({ usedAt: now })
          .where(and(eq(linkCodes.id, invite.id), live)),
      )) === 0
    )
      return undefined;
    const { moved, people } = await this.#move(tx, fromOrgId, into.id, now);
    return {
      kind: 'joined',
      intoOrgId: into.id,
      intoOrgName: into.name,
      fromOrgId,
      invitedBy: invite.userId,
      workspaces: moved,
      users: people,
    };
  }

  /** Moves B's workspaces, people (as members) and chat identities into A, and voids B's open codes. */
  async #move(tx: Tx, fromOrgId: string, intoOrgId: string, now: number): Promise<{ moved: number; people: number }> {
    const { linkCodes, linkedAccounts, users, workspaces } = tx.t;
    const moved = await tx.changes(
      tx.db.update(workspaces).set({ orgId: intoOrgId }).where(eq(workspaces.orgId, fromOrgId)),
    );
    // Linked accounts before users: the order a link redemption locks them in, so the two never deadlock.
    await tx.changes(tx.db.update(linkedAccounts).set({ orgId: intoOrgId }).where(eq(linkedAccounts.orgId, fromOrgId)));
    const people = await tx.changes(
      tx.db.update(users).set({ orgId: intoOrgId, role: 'member' }).where(eq(users.orgId, fromOrgId)),
    );
    // Codes issued in B are void: an invite of B's former admin must not open A to others.
    await tx.changes(
      tx.db
        .update(linkCodes)
        .set({ usedAt: now })
        .where(and(eq(linkCodes.orgId, fromOrgId), isNull(linkCodes.usedAt))),
    );
    return { moved, people };
  }
}
