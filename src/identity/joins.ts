import { and, count, eq, gte, isNull, type SQL } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { newId, type Db } from '../db/index.js';
import {
  connectedAccounts,
  linkCodes,
  linkedAccounts,
  mcpServers,
  oauthProviders,
  orgs,
  secrets,
  teams,
  users,
  workspaces,
} from '../db/schema/index.js';
import { CodeAttempts, freshCode, hashCode, normaliseCode } from './codes.js';
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
  kind: 'providers' | 'servers' | 'secrets' | 'teams' | 'connected accounts';
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
    private readonly db: Db,
    opts: OrgJoinOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.attempts = new CodeAttempts(db, opts.maxFailures ?? 5, opts.windowMs ?? 10 * 60_000);
  }

  /** A fresh invite into `orgId`, issued by admin `userId`; only its hash is stored. Shown as XXXX-XXXX-XXXX. */
  invite(orgId: string, userId: string): { code: string; expiresAt: number } {
    const raw = freshCode(INVITE_LENGTH);
    const expiresAt = Date.now() + this.ttlMs;
    this.db
      .insert(linkCodes)
      .values({ id: newId(), orgId, userId, kind: 'org_invite', codeHash: hashCode(raw), expiresAt })
      .run();
    return { code: raw.match(/.{4}/g)!.join('-'), expiresAt };
  }

  /** What keeps `orgId` from joining another org; empty when nothing does. */
  blockers(orgId: string, db: Pick<Db, 'select'> = this.db): JoinBlocker[] {
    const kinds: [JoinBlocker['kind'], SQLiteTable, SQLiteColumn, SQLiteColumn | undefined][] = [
      ['providers', oauthProviders, oauthProviders.orgId, oauthProviders.slug],
      ['servers', mcpServers, mcpServers.orgId, mcpServers.name],
      ['secrets', secrets, secrets.orgId, secrets.name],
      ['teams', teams, teams.orgId, teams.name],
      ['connected accounts', connectedAccounts, connectedAccounts.orgId, undefined],
    ];
    const found: JoinBlocker[] = [];
    for (const [kind, table, org, name] of kinds) {
      const where: SQL = eq(org, orgId);
      const n = db.select({ n: count() }).from(table).where(where).get()?.n ?? 0;
      if (n === 0) continue;
      const names = name
        ? db
            .select({ name })
            .from(table)
            .where(where)
            .limit(3)
            .all()
            .map((r) => String(r.name))
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
  join(identity: ChatIdentity, fromOrgId: string, code: string): JoinResult {
    const now = Date.now();
    const wait = this.attempts.coolingDown(identity, now);
    if (wait !== undefined) return { kind: 'cooldown', retryAfterMs: wait };
    const fail = (): JoinResult => {
      this.attempts.fail(identity, now);
      return { kind: 'invalid' };
    };
    const normalised = normaliseCode(code);
    if (!new RegExp(`^[A-Z0-9]{${INVITE_LENGTH}}$`).test(normalised)) return fail();

    return this.db.transaction((tx) => {
      const live = and(
        eq(linkCodes.codeHash, hashCode(normalised)),
        eq(linkCodes.kind, 'org_invite'),
        isNull(linkCodes.usedAt),
        gte(linkCodes.expiresAt, now),
      );
      const invite = tx.select().from(linkCodes).where(live).get();
      if (!invite) return fail();
      const issuer = tx
        .select()
        .from(users)
        .where(and(eq(users.id, invite.userId), eq(users.orgId, invite.orgId)))
        .get();
      if (issuer?.role !== 'admin') return fail();
      const into = tx.select().from(orgs).where(eq(orgs.id, invite.orgId)).get();
      if (!into) return fail();
      if (into.id === fromOrgId) return { kind: 'same_org' } as const;
      const blockers = this.blockers(fromOrgId, tx);
      if (blockers.length) return { kind: 'blocked', intoOrgId: into.id, blockers } as const;

      if (
        tx
          .update(linkCodes)
          .set({ usedAt: now })
          .where(and(eq(linkCodes.id, invite.id), live))
          .run().changes === 0
      )
        return fail();
      const moved = tx.update(workspaces).set({ orgId: into.id }).where(eq(workspaces.orgId, fromOrgId)).run().changes;
      const people = tx
        .update(users)
        .set({ orgId: into.id, role: 'member' })
        .where(eq(users.orgId, fromOrgId))
        .run().changes;
      tx.update(linkedAccounts).set({ orgId: into.id }).where(eq(linkedAccounts.orgId, fromOrgId)).run();
      // Codes issued in B are void: an invite of B's former admin must not open A to others.
      tx.update(linkCodes)
        .set({ usedAt: now })
        .where(and(eq(linkCodes.orgId, fromOrgId), isNull(linkCodes.usedAt)))
        .run();
      return {
        kind: 'joined',
        intoOrgId: into.id,
        intoOrgName: into.name,
        fromOrgId,
        invitedBy: invite.userId,
        workspaces: moved,
        users: people,
      } as const;
    });
  }
}
