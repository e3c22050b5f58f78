import { policyText } from '../../words/policy.js';
import type { CommandSpec } from '../spec.js';
import { say } from '../spec.js';
import { done, userRef, wrong } from './shared.js';

const TEAM = 'team create <name> | add <team> @user | remove <team> @user | channel <team> | delete <team> | list';

/** `admin team …`: teams for team secrets and rules. */
export const teamCommand: CommandSpec = {
  word: 'team',
  usage: TEAM,
  summary: 'teams for team secrets and rules',
  run: async (ctx, args) => {
    const [verb, name, who] = args;
    const { policy } = ctx.services;
    if (verb === 'list') return say(policyText(await policy.team(ctx.org.id, 'list', undefined)));
    if (!name) return wrong(TEAM, 'Which team?');
    if (verb === 'create') {
      const r = await policy.team(ctx.org.id, 'create', name);
      return done(ctx, 'team.create', r, policyText(r), { team: name });
    }
    if (verb === 'delete') {
      const r = await policy.team(ctx.org.id, 'delete', name);
      return done(ctx, 'team.delete', r, policyText(r), { team: name });
    }
    if (verb === 'channel') {
      const r = await policy.team(ctx.org.id, 'channel', name, `${ctx.target.platform}:${ctx.target.channelId}`);
      return done(ctx, 'team.channel', r, policyText(r), { team: name });
    }
    if (verb === 'add' || verb === 'remove') {
      const u = await userRef(ctx, who);
      if (!u) return wrong(TEAM, who ? `No user "${who}" in this workspace.` : 'Which user?');
      const r = await policy.team(ctx.org.id, verb, name, u.id);
      return done(ctx, `team.${verb}`, r, policyText(r), { team: name, user: u.id });
    }
    return wrong(TEAM);
  },
};
