import { and, eq, sql } from 'drizzle-orm';
import { newId, type Db } from '../db/index.js';
import { linkedAccounts, orgs, users, workspaces } from '../db/schema/index.js';

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

/** Orgs, users and linked accounts, found or created from chat identities. */
export class Identity {
  readonly #admins: Set<string>;
  readonly #user;

  /** `admins`: ONBEHALF_ADMINS entries; those identities start as admins. */
  constructor(
    private readonly db: Db,
    admins: string[] = [],
  ) {
    this.#admins = new Set(admins);
    this.#user = db
      .select()
      .from(users)
      .where(and(eq(users.orgId, sql.placeholder('orgId')), eq(users.id, sql.placeholder('userId'))))
      .prepare();
  }

  /** The org a workspace belongs to, without creating one. */
  orgOf(platform: Platform, workspaceId: string): Org | undefined {
    const ws = this.db
      .select()
      .from(workspaces)
      .where(and(eq(workspaces.platform, platform), eq(workspaces.workspaceId, workspaceId)))
      .get();
    return ws ? this.db.select().from(orgs).where(eq(orgs.id, ws.orgId)).get() : undefined;
  }

  /** The org of a workspace, created on first contact. */
  orgFor(platform: Platform, workspaceId: string, name?: string): Org {
    const ws = this.db
      .select()
      .from(workspaces)
      .where(and(eq(workspaces.platform, platform), eq(workspaces.workspaceId, workspaceId)))
      .get();
    if (ws) {
      if (name && name !== ws.name) this.#renameWorkspace(ws, name);
      return this.db.select().from(orgs).where(eq(orgs.id, ws.orgId)).get()!;
    }
    return this.db.transaction((tx) => {
      const org = { id: newId(), name: name ?? `${platform} ${workspaceId}` };
      tx.insert(orgs).values(org).run();
      tx.insert(workspaces)
        .values({ id: newId(), orgId: org.id, platform, workspaceId, name: name ?? null })
        .onConflictDoNothing()
        .run();
      const owner = tx
        .select()
        .from(workspaces)
        .where(and(eq(workspaces.platform, platform), eq(workspaces.workspaceId, workspaceId)))
        .get()!;
      return tx.select().from(orgs).where(eq(orgs.id, owner.orgId)).get()!;
    });
  }

  /**
   * The org and user behind a verified chat identity, auto-provisioned on first contact.
   * This is the only way a caller's identity is established (never from tool arguments).
   */
  resolve(chat: ChatIdentity): { org: Org; user: User; linkedAccountId: string } {
    // A bug guard: callers refuse external members before resolving (the chat core words it).
    if (isExternalMember(chat))
      throw new Error('an external member of a shared channel is never provisioned into the host org');
    const org = this.orgFor(chat.platform, chat.workspaceId, chat.workspaceName);
    const found = this.#linked(chat);
    if (found)
      return {
        org: this.db.select().from(orgs).where(eq(orgs.id, found.user.orgId)).get()!,
        user: this.#keepCurrent(found.user, found.la, chat),
        linkedAccountId: found.la.id,
      };
    return this.db.transaction((tx) => {
      const user: User = {
        id: newId(),
        orgId: org.id,
        displayName: chat.displayName ?? chat.userId,
        email: chat.email ?? null,
        role: this.#admins.has(identityKey(chat)) ? 'admin' : 'member',
        createdAt: Date.now(),
      };
      tx.insert(users).values(user).run();
      const linkedAccountId = newId();
      tx.insert(linkedAccounts)
        .values({
          id: linkedAccountId,
          orgId: org.id,
          userId: user.id,
          platform: chat.platform,
          workspaceId: chat.workspaceId,
          platformUserId: chat.userId,
          displayName: chat.displayName ?? null,
        })
        .run();
      return { org, user, linkedAccountId };
    });
  }

  /**
   * The names the platform gives now, stored: a renamed workspace renames its org (unless the org
   * was named after another workspace it joined), a renamed person their user, a new address the email.
   */
  #renameWorkspace(ws: typeof workspaces.$inferSelect, name: string): void {
    this.db.transaction((tx) => {
      tx.update(workspaces).set({ name }).where(eq(workspaces.id, ws.id)).run();
      const org = tx.select().from(orgs).where(eq(orgs.id, ws.orgId)).get();
      if (org && (org.name === ws.name || org.name === `${ws.platform} ${ws.workspaceId}`))
        tx.update(orgs).set({ name }).where(eq(orgs.id, org.id)).run();
    });
  }

  #keepCurrent(user: User, la: typeof linkedAccounts.$inferSelect, chat: ChatIdentity): User {
    const name = chat.displayName;
    // The user's name follows this account's when it was taken from it (or from the bare platform id).
    const rename = name && name !== la.displayName && [la.displayName, la.platformUserId].includes(user.displayName);
    if (name && name !== la.displayName)
      this.db.update(linkedAccounts).set({ displayName: name }).where(eq(linkedAccounts.id, la.id)).run();
    const next = { ...user, ...(rename ? { displayName: name } : {}), ...(chat.email ? { email: chat.email } : {}) };
    if (next.displayName !== user.displayName || next.email !== user.email)
      this.db
        .update(users)
        .set({ displayName: next.displayName, email: next.email })
        .where(eq(users.id, user.id))
        .run();
    return next;
  }

  /** The user and linked account of a chat identity seen before. */
  #linked(chat: ChatIdentity) {
    return this.db
      .select({ user: users, la: linkedAccounts })
      .from(linkedAccounts)
      .innerJoin(users, eq(users.id, linkedAccounts.userId))
      .where(
        and(
          eq(linkedAccounts.platform, chat.platform),
          eq(linkedAccounts.workspaceId, chat.workspaceId),
          eq(linkedAccounts.platformUserId, chat.userId),
        ),
      )
      .get();
  }

  /** Stores the names a platform event reports for a known chat identity (nothing for one never seen). */
  rename(chat: ChatIdentity): void {
    const found = this.#linked(chat);
    if (found) this.#keepCurrent(found.user, found.la, chat);
  }

  /** Renames a known workspace (and its org when named after it). */
  renameWorkspace(platform: Platform, workspaceId: string, name: string): void {
    const ws = this.db
      .select()
      .from(workspaces)
      .where(and(eq(workspaces.platform, platform), eq(workspaces.workspaceId, workspaceId)))
      .get();
    if (ws && ws.name !== name) this.#renameWorkspace(ws, name);
  }

  /** The platforms an org's workspaces are on. */
  platformsOf(orgId: string): Platform[] {
    const rows = this.db.select({ p: workspaces.platform }).from(workspaces).where(eq(workspaces.orgId, orgId)).all();
    return [...new Set(rows.map((r) => r.p as Platform))];
  }

  /** A user of an org, or undefined. Scoped by org: a user id from another org is not found. */
  user(orgId: string, userId: string): User | undefined {
    return this.#user.get({ orgId, userId });
  }

  /** The chat identities linked to a user. */
  linkedIdentities(orgId: string, userId: string) {
    return this.db
      .select()
      .from(linkedAccounts)
      .where(and(eq(linkedAccounts.orgId, orgId), eq(linkedAccounts.userId, userId)))
      .all();
  }

  /** Sets a user's role; returns false when the user is not in this org. */
  setRole(orgId: string, userId: string, role: 'admin' | 'member'): boolean {
    return (
      this.db
        .update(users)
        .set({ role })
        .where(and(eq(users.orgId, orgId), eq(users.id, userId)))
        .run().changes > 0
    );
  }

  /**
   * The user a chat reference names, in the caller's workspace: a Slack/Discord mention
   * (`<@U123>`, `<@!123>`), a platform user id, or a shell user name.
   */
  userByRef(orgId: string, platform: Platform, workspaceId: string, ref: string): User | undefined {
    const id = ref.replace(/^<@!?([^>|]+)(\|[^>]*)?>$/, '$1').replace(/^@/, '');
    const row = this.db
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
      )
      .get();
    return (
      row?.user ??
      this.db
        .select()
        .from(users)
        .where(and(eq(users.orgId, orgId), eq(users.id, id)))
        .get()
    );
  }
}
