import { identityKey, type JoinBlocker } from '../../../identity/index.js';
import type { CommandContext, CommandReply, CommandSpec } from '../spec.js';
import { say } from '../spec.js';
import { done, userRef, wrong } from './shared.js';
import type { AuditDetail } from '../../../audit/index.js';

const ROLE = 'role grant|revoke @user';
const ORG = 'org invite | org join <code>';

/** `admin role …`: make someone an admin, or a member again. */
export const roleCommand: CommandSpec = {
  word: 'role',
  usage: ROLE,
  summary: 'make someone an admin, or a member again',
  run: async (ctx, args) => {
    const [verb, who] = args;
    if (verb !== 'grant' && verb !== 'revoke') return wrong(ROLE);
    const u = await userRef(ctx, who);
    if (!u) return wrong(ROLE, who ? `No user "${who}" in this workspace.` : 'Which user?');
    if (verb === 'revoke' && u.id === ctx.user.id)
      return say('You cannot revoke your own admin role; ask another admin.');
    await ctx.services.identity.setRole(ctx.org.id, u.id, verb === 'grant' ? 'admin' : 'member');
    const line = `${u.displayName} is now ${verb === 'grant' ? 'an admin' : 'a member'}.`;
    return done(ctx, `role.${verb}`, { ok: true }, line, { user: u.id });
  },
};

/** `admin org …`: join this workspace to another org. */
export const orgCommand: CommandSpec = {
  word: 'org',
  usage: ORG,
  summary: 'join this workspace to another org (an admin on each side)',
  run: async (ctx, args) => {
    const [verb, code] = args;
    if (verb === 'invite' && !code) {
      const { code: fresh, expiresAt } = await ctx.services.orgJoins.invite(ctx.org.id, ctx.user.id);
      await done(ctx, 'org.invite', { ok: true }, '', { expiresAt });
      return say(
        `Invite code \`${fresh}\` for ${ctx.org.name}. An admin of the other workspace types \`/onbehalf admin org join ${fresh}\` within 10 minutes; it works once. Their people join as members; their org must hold no providers, servers, secrets, teams or connected accounts.`,
      );
    }
    if (verb === 'join' && code && args.length === 2) return orgJoin(ctx, code);
    return wrong(ORG);
  },
};

/** Words one blocker of an org join: "providers (github, jira)", "connected accounts (3)". */
function blockerText(b: JoinBlocker): string {
  return `${b.kind.replace('_', ' ')} (${b.names.length ? b.names.join(', ') + (b.count > b.names.length ? ', …' : '') : b.count})`;
}

/** `admin org join <code>`: this workspace's org moves into the inviting org. Audited in both orgs. */
async function orgJoin(ctx: CommandContext, code: string): Promise<CommandReply> {
  const r = await ctx.services.orgJoins.join(ctx.identity, ctx.org.id, code);
  const audit = (orgId: string, outcome: string, detail: AuditDetail) =>
    ctx.services.audit.write({
      orgId,
      category: 'admin',
      action: 'org.join',
      actorUserId: ctx.user.id,
      chatIdentity: identityKey(ctx.identity),
      decision: 'allowed',
      outcome,
      requestId: ctx.requestId,
      detail,
    });
  switch (r.kind) {
    case 'cooldown':
      await audit(ctx.org.id, 'cooldown', {});
      return say(`Too many wrong invite codes. Try again in ${Math.ceil(r.retryAfterMs / 60_000)} minute(s).`);
    case 'invalid':
      await audit(ctx.org.id, 'invalid_code', {});
      return say(
        'That invite code is wrong, expired or already used. Ask an admin of the other org for a fresh one with `/onbehalf admin org invite`.',
      );
    case 'same_org':
      await audit(ctx.org.id, 'same_org', {});
      return say('This workspace already belongs to that org; nothing to join.');
    case 'blocked': {
      const what = r.blockers.map(blockerText).join(', ');
      await audit(ctx.org.id, 'blocked', { intoOrg: r.intoOrgId, blockers: r.blockers.map((b) => b.kind) });
      await audit(r.intoOrgId, 'blocked', { fromOrg: ctx.org.id, blockers: r.blockers.map((b) => b.kind) });
      return say(
        `Not joined: this org still has its own ${what}; remove them first (\`admin provider remove\`, \`admin server remove\`, \`admin secret delete\`, each person's \`disconnect\`), then join again.`,
      );
    }
    case 'joined':
      await audit(r.fromOrgId, 'joined', { intoOrg: r.intoOrgId, workspaces: r.workspaces, users: r.users });
      await audit(r.intoOrgId, 'joined', {
        fromOrg: r.fromOrgId,
        invitedBy: r.invitedBy,
        workspaces: r.workspaces,
        users: r.users,
      });
      return say(
        `Joined: this workspace now belongs to ${r.intoOrgName} (${r.users} people moved, as members; an admin of ${r.intoOrgName} grants roles with \`/onbehalf admin role grant\`).`,
      );
  }
}
