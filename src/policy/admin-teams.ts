import { isTeamName } from '../names.js';
import { orgUser, type PolicyParts } from './parts.js';
import { changed, refused, type PolicyResult } from './results.js';

/** Team administration: create, add/remove a member (user id), bind a channel (`platform:channel`), delete, list. */
export async function teamAction(
  p: PolicyParts,
  orgId: string,
  action: 'create' | 'add' | 'remove' | 'channel' | 'delete' | 'list',
  name: string | undefined,
  arg?: string,
): Promise<PolicyResult> {
  if (action === 'list') {
    const teams = (await p.teams.list(orgId)).map((t) => ({
      name: t.team.name,
      members: t.members,
      channels: t.channels,
    }));
    return changed({ kind: 'teams', teams });
  }
  if (!name) return refused({ kind: 'which_team' });
  if (action === 'create') {
    if (!isTeamName(name)) return refused({ kind: 'bad_team_name' });
    return (await p.teams.create(orgId, name))
      ? changed({ kind: 'team_created', team: name })
      : refused({ kind: 'team_exists', name });
  }
  const team = await p.teams.find(orgId, name);
  if (!team) return refused({ kind: 'unknown_team', name });
  if (action === 'delete') {
    // Rules name teams by id: one naming this team matches no one through it from now on, and a new
    // team of the same name is another id (it inherits no rule). Its subjects are left as they are:
    // dropping the team from a rule that named only it would widen that rule to everyone.
    const rules = await p.teams.rulesNaming(orgId, team.id);
    return changed({ kind: 'team_deleted', team: name, secrets: await p.teams.delete(orgId, team.id), rules });
  }
  if (action === 'channel') {
    const m = arg?.match(/^(slack|discord|shell):(.+)$/);
    if (!m) return refused({ kind: 'which_channel' });
    await p.teams.bindChannel(orgId, team.id, m[1]!, m[2]!);
    return changed({ kind: 'team_channel_bound', team: name });
  }
  const u = arg ? await orgUser(p.store, orgId, arg) : undefined;
  if (!u) return refused({ kind: 'which_user' });
  if (action === 'add') {
    await p.teams.addMember(orgId, team.id, u.id);
    return changed({ kind: 'team_member_added', team: name, user: u.displayName });
  }
  return (await p.teams.removeMember(orgId, team.id, u.id))
    ? changed({ kind: 'team_member_removed', team: name, user: u.displayName })
    : refused({ kind: 'not_team_member', team: name, user: u.displayName });
}
