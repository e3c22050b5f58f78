import { and, eq, or, sql } from 'drizzle-orm';
import { newId, type Db } from '../db/index.js';
import { accessRules, secrets, teamChannels, teamMembers, teams } from '../db/schema/index.js';
import type { TeamProblem } from '../db/schema/shapes.js';

export type Team = typeof teams.$inferSelect;

/** Which team a team secret comes from: the channel's team, else the caller's only team. */
export type TeamResolution = { kind: 'ok'; team: Team } | { kind: 'error'; problem: TeamProblem };

/** Teams, their members and the channels bound to them. */
export class Teams {
  // The tool-call path's lookups, prepared once.
  readonly #find;
  readonly #ofUser;
  readonly #channel;
  readonly #channelOnPlatform;

  constructor(private readonly db: Db) {
    const ph = sql.placeholder;
    this.#find = db
      .select()
      .from(teams)
      .where(and(eq(teams.orgId, ph('orgId')), or(eq(teams.name, ph('ref')), eq(teams.id, ph('ref')))))
      .prepare();
    this.#ofUser = db
      .select({ team: teams })
      .from(teamMembers)
      .innerJoin(teams, eq(teams.id, teamMembers.teamId))
      .where(and(eq(teamMembers.orgId, ph('orgId')), eq(teamMembers.userId, ph('userId'))))
      .prepare();
    this.#channel = db
      .select()
      .from(teamChannels)
      .where(and(eq(teamChannels.orgId, ph('orgId')), eq(teamChannels.channelId, ph('channelId'))))
      .prepare();
    this.#channelOnPlatform = db
      .select()
      .from(teamChannels)
      .where(
        and(
          eq(teamChannels.orgId, ph('orgId')),
          eq(teamChannels.channelId, ph('channelId')),
          eq(teamChannels.platform, ph('platform')),
        ),
      )
      .prepare();
  }

  /** A team by name or id. */
  find(orgId: string, ref: string): Team | undefined {
    return this.#find.get({ orgId, ref });
  }

  create(orgId: string, name: string): Team | undefined {
    if (this.find(orgId, name)) return undefined;
    const t = { id: newId(), orgId, name };
    this.db.insert(teams).values(t).run();
    return this.find(orgId, name);
  }

  list(orgId: string): { team: Team; members: number; channels: string[] }[] {
    return this.db
      .select()
      .from(teams)
      .where(eq(teams.orgId, orgId))
      .all()
      .map((team) => ({
        team,
        members: this.db.select().from(teamMembers).where(eq(teamMembers.teamId, team.id)).all().length,
        channels: this.db
          .select()
          .from(teamChannels)
          .where(eq(teamChannels.teamId, team.id))
          .all()
          .map((c) => `${c.platform}:${c.channelId}`),
      }));
  }

  /** How many access rules of the org name this team among their subjects. */
  rulesNaming(orgId: string, teamId: string): number {
    return this.db
      .select({ subjects: accessRules.subjects })
      .from(accessRules)
      .where(eq(accessRules.orgId, orgId))
      .all()
      .filter((r) => r.subjects.teams?.includes(teamId)).length;
  }

  /** Deletes a team with its members, channels and team secrets (one transaction); how many secrets went with it. */
  delete(orgId: string, teamId: string): number {
    return this.db.transaction((tx) => {
      const gone = tx
        .delete(secrets)
        .where(and(eq(secrets.orgId, orgId), eq(secrets.scope, 'team'), eq(secrets.scopeId, teamId)))
        .run().changes;
      tx.delete(teams)
        .where(and(eq(teams.orgId, orgId), eq(teams.id, teamId)))
        .run();
      return gone;
    });
  }

  addMember(orgId: string, teamId: string, userId: string): void {
    this.db.insert(teamMembers).values({ orgId, teamId, userId }).onConflictDoNothing().run();
  }

  removeMember(orgId: string, teamId: string, userId: string): boolean {
    return (
      this.db
        .delete(teamMembers)
        .where(and(eq(teamMembers.orgId, orgId), eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)))
        .run().changes > 0
    );
  }

  /** Binds a chat channel to a team (a channel belongs to at most one team). */
  bindChannel(orgId: string, teamId: string, platform: string, channelId: string): void {
    this.db
      .insert(teamChannels)
      .values({ orgId, teamId, platform, channelId })
      .onConflictDoUpdate({
        target: [teamChannels.orgId, teamChannels.platform, teamChannels.channelId],
        set: { teamId },
      })
      .run();
  }

  /** Teams a user belongs to. */
  ofUser(orgId: string, userId: string): Team[] {
    return this.#ofUser.all({ orgId, userId }).map((r) => r.team);
  }

  /**
   * The team whose secrets a call uses: the team the channel is bound to (the caller must be a
   * member), else the caller's only team. No team or several: an error that says so.
   */
  resolve(orgId: string, userId: string, chat?: { platform?: string; channelId: string }): TeamResolution {
    const mine = this.ofUser(orgId, userId);
    if (chat) {
      const bound = chat.platform
        ? this.#channelOnPlatform.get({ orgId, channelId: chat.channelId, platform: chat.platform })
        : this.#channel.get({ orgId, channelId: chat.channelId });
      if (bound) {
        const team = mine.find((t) => t.id === bound.teamId);
        if (team) return { kind: 'ok', team };
        const name = this.find(orgId, bound.teamId)?.name ?? 'another team';
        return { kind: 'error', problem: { code: 'not_member', team: name } };
      }
    }
    if (mine.length === 1) return { kind: 'ok', team: mine[0]! };
    if (!mine.length) return { kind: 'error', problem: { code: 'no_team' } };
    return { kind: 'error', problem: { code: 'several_teams', teams: mine.map((t) => t.name) } };
  }
}
