import { and, eq, inArray } from 'drizzle-orm';
import { newId, type Queries, type Store } from '../db/index.js';
import type { linkedAccounts, orgs, users, workspaces } from '../db/schema/index.js';

export type Platform = 'slack' | 'discord' | 'shell';

/** A chat identity as a verified platform payload names it. */
export interface ChatIdentity {
  platform: Platform;
  /** Slack team id, Discord guild id, or `local` for the shell. */
  workspaceId: string;
  /** Platform user id (Slack `U…`, Discord snowflake, shell user name). */
  userId: string;
  displayName?: string;
  /** The address the platform gives for the user (Slack `users.info` with `users:read.email`); Discord and the shell give none. */
  email?: string;
  workspaceName?: string;
  /**
   * The user's own workspace when the payload names one (Slack `user_team`, `user.team_id`).
   * It differs from `workspaceId` for an external member of a shared channel (Slack Connect).
   */
  homeWorkspaceId?: string;
}

export type User = typeof users.$inferSelect;
export type Org = typeof orgs.$inferSelect;

/** `platform:workspace:user`, the form of ONBEHALF_ADMINS and audit records. */
export const identityKey = (c: Pick<ChatIdentity, 'platform' | 'workspaceId' | 'userId'>): string =>
  `${c.platform}:${c.workspaceId}:${c.userId}`;

/**
 * Whether the identity is a member of another workspace than the one it wrote in (an external
 * member of a Slack Connect channel). Such identities are never provisioned into the host's org.
 */
export const isExternalMember = (c: Pick<ChatIdentity, 'workspaceId' | 'homeWorkspaceId'>): boolean =>
  c.homeWorkspaceId !== undefined && c.homeWorkspaceId !== c.workspaceId;

type Workspace = typeof workspaces.$inferSelect;
type LinkedAccount = typeof linkedAccounts.$inferSelect;

/** Orgs, users and linked accounts, found or created from chat identities. */
export class Identity {
  readonly #admins: Set<string>;

  /** `admins`: ONBEHALF_ADMINS entries; those identities start as admins. */
  constructor(
    private readonly store: Store,
    admins: string[] = [],
  ) {
    this.#admins = new Set(admins);
  }

  #workspace(q: Queries, platform: Platform, workspaceId: string): Promise<Workspace | undefined> {
    const { workspaces } = q.t;
    return q.first(
      q.db
        .select()
        .from(workspaces)
        .where(and(eq(workspaces.platform, platform), eq(workspaces.workspaceId, workspaceId))),
    );
  }

  #org(q: Queries, id: string): Promise<Org | undefined> {
    return q.first(q.db.select().from(q.t.orgs).where(eq(q.t.orgs.id, id)));
  }

  /** The org a workspace belongs to, without creating one. */
  async orgOf(platform: Platform, workspaceId: string): Promise<Org | undefined> {
    const ws = await this.#workspace(this.store, platform, workspaceId);
    return ws ? this.#org(this.store, ws.orgId) : undefined;
  }

  /** The org of a workspace, created on first contact. */
  async orgFor(platform: Platform, workspaceId: string, name?: string): Promise<Org> {
    const ws = await this.#workspace(this.store, platform, workspaceId);
    if (ws) {
      if (name && name !== ws.name) await this.#renameWorkspace(ws, name);
      return (await this.#org(this.store, ws.orgId))!;
    }
    return this.store.tx(async (tx) => {
      const org = { id: newId(), name: name ?? `${platform} ${workspaceId}` };
      await tx.changes(tx.db.insert(tx.t.orgs).values(org));
      // Two first contacts of one workspace: ON CONFLICT DO NOTHING on its unique index keeps one; the other's org goes.
      const won = await tx.changes(
        tx.db
          .insert(tx.t.workspaces)
          .values({ id: newId(), orgId: org.id, platform, workspaceId, name: name ?? null })
          .onConflictDoNothing(),
      );
      if (won === 0) await tx.changes(tx.db.delete(tx.t.orgs).where(eq(tx.t.orgs.id, org.id)));
      const owner = (await this.#workspace(tx, platform, workspaceId))!;
      return (await this.#org(tx, owner.orgId))!;
    });
  }

  /**
   * The org and user behind a verified chat identity, auto-provisioned on first contact.
   * This is the only way a caller's identity is established (never from tool arguments).
   */
  async resolve(chat: ChatIdentity): Promise<{ org: Org; user: User; linkedAccountId: string }> {
    // A bug guard: callers refuse external members before resolving (the chat core words it).
    if (isExternalMember(chat))
      throw new Error('an external member of a shared channel is never provisioned into the host org');
    const org = await this.orgFor(chat.platform, chat.workspaceId, chat.workspaceName);
    const found = await this.#linked(this.store, chat);
    if (found)
      return {
        org: (await this.#org(this.store, found.user.orgId))!,
        user: await this.#keepCurrent(found.user, found.la, chat),
        linkedAccountId: found.la.id,
      };
    return this.store.tx(async (tx) => {
      const user: User = {
        id: newId(),
        orgId: org.id,
        displayName: chat.displayName ?? chat.userId,
        email: chat.email ?? null,
        role: this.#admins.has(identityKey(chat)) ? 'admin' : 'member',
        serviceName: null,
        createdAt: Date.now(),
      };
      await tx.changes(tx.db.insert(tx.t.users).values(user));
      const linkedAccountId = newId();
      // Two first messages of one new identity: ON CONFLICT DO NOTHING on the unique identity index
      // keeps one linked account; the other drops the user it made and answers with the winner's.
      const won = await tx.changes(
        tx.db
          .insert(tx.t.linkedAccounts)
          .values({
            id: linkedAccountId,
            orgId: org.id,
            userId: user.id,
            platform: chat.platform,
            workspaceId: chat.workspaceId,
            platformUserId: chat.userId,
            displayName: chat.displayName ?? null,
          })
          .onConflictDoNothing(),
      );
      if (won) return { org, user, linkedAccountId };
      await tx.changes(tx.db.delete(tx.t.users).where(eq(tx.t.users.id, user.id)));
      const winner = (await this.#linked(tx, chat))!;
      return { org: (await this.#org(tx, winner.user.orgId))!, user: winner.user, linkedAccountId: winner.la.id };
    });
  }

  /**
   * The names the platform gives now, stored: a renamed workspace renames its org (unless the org
   * was named after another workspace it joined), a renamed person their user, a new address the email.
   */
  async #renameWorkspace(ws: Workspace, name: string): Promise<void> {
    await this.store.tx(async (tx) => {
      const { orgs, workspaces } = tx.t;
      await tx.changes(tx.db.update(workspaces).set({ name }).where(eq(workspaces.id, ws.id)));
      // The org follows while it is still named after this workspace: one conditional update.
      const namedAfter = [ws.name, `${ws.platform} ${ws.workspaceId}`].filter((n): n is string => n !== null);
      await tx.changes(
        tx.db
          .update(orgs)
          .set({ name })
          .where(and(eq(orgs.id, ws.orgId), inArray(orgs.name, namedAfter))),
      );
    });
  }

  async #keepCurrent(user: User, la: LinkedAccount, chat: ChatIdentity): Promise<User> {
    const { linkedAccounts, users } = this.store.t;
    const name = chat.displayName;
    // The user's name follows this account's when it was taken from it (or from the bare platform id).
    const rename = name && name !== la.displayName && [la.displayName, la.platformUserId].includes(user.displayName);
    if (name && name !== la.displayName)
      await this.store.changes(
        this.store.db.update(linkedAccounts).set({ displayName: name }).where(eq(linkedAccounts.id, la.id)),
      );
    const next = { ...user, ...(rename ? { displayName: name } : {}), ...(chat.email ? { email: chat.email } : {}) };
    if (next.displayName !== user.displayName || next.email !== user.email)
      await this.store.changes(
        this.store.db
          .update(users)
          .set({ displayName: next.displayName, email: next.email })
          .where(eq(users.id, user.id)),
      );
    return next;
  }

  /** The user and linked account of a chat identity seen before. */
  #linked(q: Queries, chat: ChatIdentity): Promise<{ user: User; la: LinkedAccount } | undefined> {
    const { linkedAccounts, users } = q.t;
    return q.first(
      q.db
        .select({ user: users, la: linkedAccounts })
        .from(linkedAccounts)
        .innerJoin(users, eq(users.id, linkedAccounts.userId))
        .where(
          and(
            eq(linkedAccounts.platform, chat.platform),
            eq(linkedAccounts.workspaceId, chat.workspaceId),
            eq(linkedAccounts.platformUserId, chat.userId),
          ),
        ),
    );
  }

  /** Stores the names a platform event reports for a known chat identity (nothing for one never seen). */
  async rename(chat: ChatIdentity): Promise<void> {
    const found = await this.#linked(this.store, chat);
    if (found) await this.#keepCurrent(found.user, found.la, chat);
  }

  /** Renames a known workspace (and its org when named after it). */
  async renameWorkspace(platform: Platform, workspaceId: string, name: string): Promise<void> {
    const ws = await this.#workspace(this.store, platform, workspaceId);
    if (ws && ws.name !== name) await this.#renameWorkspace(ws, name);
  }

  /** The platforms an org's workspaces are on. */
  async platformsOf(orgId: string): Promise<Platform[]> {
    const { workspaces } = this.store.t;
    const rows = await this.store.rows(
      this.store.db.select({ p: workspaces.platform }).from(workspaces).where(eq(workspaces.orgId, orgId)),
    );
    return [...new Set(rows.map((r) => r.p as Platform))];
  }

  /** A user of an org, or undefined. Scoped by org: a user id from another org is not found. */
  user(orgId: string, userId: string): Promise<User | undefined> {
    const { users } = this.store.t;
    return this.store.first(
      this.store.db
        .select()
        .from(users)
        .where(and(eq(users.orgId, orgId), eq(users.id, userId))),
    );
  }

  /** The chat identities linked to a user. */
  linkedIdentities(orgId: string, userId: string): Promise<LinkedAccount[]> {
    const { linkedAccounts } = this.store.t;
    return this.store.rows(
      this.store.db
        .select()
        .from(linkedAccounts)
        .where(and(eq(linkedAccounts.orgId, orgId), eq(linkedAccounts.userId, userId))),
    );
  }

  /** Sets a user's role; returns false when the user is not in this org. */
  async setRole(orgId: string, userId: string, role: 'admin' | 'member'): Promise<boolean> {
    const { users } = this.store.t;
    const changed = await this.store.changes(
      this.store.db
        .update(users)
        .set({ role })
        .where(and(eq(users.orgId, orgId), eq(users.id, userId))),
    );
    return changed > 0;
  }

  /**
   * The user a chat reference names, in the caller's workspace: a Slack/Discord mention
   * (`<@U123>`, `<@!123>`), a platform user id, or a shell user name.
   */
  async userByRef(orgId: string, platform: Platform, workspaceId: string, ref: string): Promise<User | undefined> {
    const { linkedAccounts, users } = this.store.t;
    const id = ref.replace(/^<@!?([^>|]+)(\|[^>]*)?>$/, '$1').replace(/^@/, '');
    const row = await this.store.first(
      this.store.db
        .select({ user: users })
        .from(linkedAccounts)
        .innerJoin(users, eq(users.id, linkedAccounts.userId))
        .where(
          and(
            eq(linkedAccounts.orgId, orgId),
            eq(linkedAccounts.platform, platform),
            eq(linkedAccounts.workspaceId, workspaceId),
            eq(linkedAccounts.platformUserId, id),
          ),
        ),
    );
    return row?.user ?? this.user(orgId, id);
  }
}
