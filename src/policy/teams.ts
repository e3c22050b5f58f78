import { and, eq, or, sql } from 'drizzle-orm';
import { configCache, newId, prepared, type ConfigSeen, type Store } from '../db/index.js';
import type { teams } from '../db/schema/index.js';
import type { TeamProblem } from '../db/schema/shapes.js';

export type Team = typeof teams.$inferSelect;

/** A user's teams, read for every tool call (db/prepared.ts). */
const teamsOfUser = prepared('teams.ofUser', ({ db, t }) =>
  db
    .select({ team: t.teams })
    .from(t.teamMembers)
    .innerJoin(t.teams, eq(t.teams.id, t.teamMembers.teamId))
    .where(and(eq(t.teamMembers.orgId, sql.placeholder('orgId')), eq(t.teamMembers.userId, sql.placeholder('userId')))),
);

/** Which team a team secret comes from: the channel's team, else the caller's only team. */
export type TeamResolution = { kind: 'ok'; team: Team } | { kind: 'error'; problem: TeamProblem };

/** Teams, their members and the channels bound to them. */
export class Teams {
  constructor(private readonly store: Store) {}

  /** A team by name or id. */
  async find(orgId: string, ref: string): Promise<Team | undefined> {
    const { db, t } = this.store;
    return this.store.first(
      db
        .select()
        .from(t.teams)
        .where(and(eq(t.teams.orgId, orgId), or(eq(t.teams.name, ref), eq(t.teams.id, ref))))
        .limit(1),
    );
  }

  /** A new team, or undefined when the org has one of that name. */
  async create(orgId: string, name: string): Promise<Team | undefined> {
    if (await this.find(orgId, name)) return undefined;
    const { db, t } = this.store;
    // A conditional insert: of two concurrent creates of a name, the unique index lets one in.
    const added = await this.store.changes(
      db.insert(t.teams).values({ id: newId(), orgId, name }).onConflictDoNothing(),
    );
    return added ? this.find(orgId, name) : undefined;
  }

  async list(orgId: string): Promise<{ team: Team; members: number; channels: string[] }[]> {
    const { db, t } = this.store;
    const all = await this.store.rows(db.select().from(t.teams).where(eq(t.teams.orgId, orgId)));
    return Promise.all(
      all.map(async (team) => ({
        team,
        members: (await this.store.rows(db.select().from(t.teamMembers).where(eq(t.teamMembers.teamId, team.id))))
          .length,
        channels: (
          await this.store.rows(db.select().from(t.teamChannels).where(eq(t.teamChannels.teamId, team.id)))
        ).map((c) => `${c.platform}:${c.channelId}`),
      })),
    );
  }

  /** The user ids of a team's members. */
  async memberIds(teamId: string): Promise<string[]> {
    const { db, t } = this.store;
    const rows = await this.store.rows(
      db.select({ userId: t.teamMembers.userId }).from(t.teamMembers).where(eq(t.teamMembers.teamId, teamId)),
    );
    return rows.map((r) => r.userId);
  }

  /** How many access rules of the org name this team among their subjects. */
  async rulesNaming(orgId: string, teamId: string): Promise<number> {
    const { db, t } = this.store;
    const rules = await this.store.rows(
      db.select({ subjects: t.accessRules.subjects }).from(t.accessRules).where(eq(t.accessRules.orgId, orgId)),
    );
    return rules.filter((r) => r.subjects.teams?.includes(teamId)).length;
  }

  /** Deletes a team with its members, channels and team secrets (one transaction); how many secrets went with it. */
  async delete(orgId: string, teamId: string): Promise<number> {
    return this.store.tx(async (tx) => {
      const { teams, secrets } = tx.t;
      const ofTeam = and(eq(teams.orgId, orgId), eq(teams.id, teamId));
      // Row lock on the team first: a team secret being stored (SecretStore.set locks the same row)
      // either commits before and is deleted here, or waits and then finds no team.
      if (!(await tx.first(tx.forUpdate(tx.db.select({ id: teams.id }).from(teams).where(ofTeam))))) return 0;
      const gone = await tx.changes(
        tx.db
          .delete(secrets)
          .where(and(eq(secrets.orgId, orgId), eq(secrets.scope, 'team'), eq(secrets.scopeId, teamId))),
      );
      await tx.changes(tx.db.delete(teams).where(ofTeam));
      return gone;
    });
  }

  async addMember(orgId: string, teamId: string, userId: string): Promise<void> {
    const { db, t } = this.store;
    await this.store.changes(db.insert(t.teamMembers).values({ orgId, teamId, userId }).onConflictDoNothing());
  }

  async removeMember(orgId: string, teamId: string, userId: string): Promise<boolean> {
    const { db, t } = this.store;
    const m = t.teamMembers;
    return (
      (await this.store.changes(
        db.delete(m).where(and(eq(m.orgId, orgId), eq(m.teamId, teamId), eq(m.userId, userId))),
      )) > 0
    );
  }

  /** Binds a chat channel to a team (a channel belongs to at most one team). */
  async bindChannel(orgId: string, teamId: string, platform: string, channelId: string): Promise<void> {
    const { db, t } = this.store;
    const c = t.teamChannels;
    await this.store.changes(
      db
        .insert(c)
        .values({ orgId, teamId, platform, channelId })
        .onConflictDoUpdate({ target: [c.orgId, c.platform, c.channelId], set: { teamId } }),
    );
  }

  /** Teams a user belongs to (`seen`: a call's configuration version, a copy at least that new may answer). */
  async ofUser(orgId: string, userId: string, seen?: ConfigSeen): Promise<readonly Team[]> {
    return configCache(this.store).read(`teams:${orgId}:${userId}`, seen, async () =>
      (await this.store.rows(teamsOfUser, { orgId, userId })).map((r) => r.team),
    );
  }

  /** The team a channel is bound to (on `platform`, when given). */
  async #boundTo(orgId: string, chat: { platform?: string; channelId: string }) {
    const { db, t } = this.store;
    const c = t.teamChannels;
    const where = and(
      eq(c.orgId, orgId),
      eq(c.channelId, chat.channelId),
      chat.platform ? eq(c.platform, chat.platform) : undefined,
    );
    return this.store.first(db.select().from(c).where(where).limit(1));
  }

  /**
   * The team whose secrets a call uses: the team the channel is bound to (the caller must be a
   * member), else the caller's only team. No team or several: an error that says so.
   */
  async resolve(
    orgId: string,
    userId: string,
    chat?: { platform?: string; channelId: string },
  ): Promise<TeamResolution> {
    const mine = await this.ofUser(orgId, userId);
    if (chat) {
      const bound = await this.#boundTo(orgId, chat);
      if (bound) {
        const team = mine.find((t) => t.id === bound.teamId);
        if (team) return { kind: 'ok', team };
        const name = (await this.find(orgId, bound.teamId))?.name;
        return { kind: 'error', problem: { code: 'not_member', ...(name ? { team: name } : {}) } };
      }
    }
    if (mine.length === 1) return { kind: 'ok', team: mine[0]! };
    if (!mine.length) return { kind: 'error', problem: { code: 'no_team' } };
    return { kind: 'error', problem: { code: 'several_teams', teams: mine.map((t) => t.name) } };
  }
}
