import { identityKey } from '../../../identity/index.js';
import type { CommandContext, CommandReply } from '../spec.js';
import { say } from '../spec.js';
import type { AuditDetail } from '../../../audit/index.js';

/** `a,b, c` → `['a', 'b', 'c']`; undefined when the option was not given a value. */
export const list = (v: string | true | undefined) =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

/** Audits an admin change and answers the caller its one line. */
export async function done(
  ctx: CommandContext,
  action: string,
  r: { ok: boolean },
  line: string,
  detail: AuditDetail = {},
): Promise<CommandReply> {
  await ctx.services.audit.write({
    orgId: ctx.org.id,
    category: 'admin',
    action,
    actorUserId: ctx.user.id,
    chatIdentity: identityKey(ctx.identity),
    decision: 'allowed',
    outcome: r.ok ? 'ok' : 'refused',
    requestId: ctx.requestId,
    detail,
  });
  return say(line);
}

/** A refusal naming the command's right form. */
export const wrong = (usage: string, what?: string) =>
  say(`${what ? `${what} ` : ''}Use: \`/onbehalf admin ${usage}\`.`);

/** Resolves `@user` in the caller's workspace to a user id, or says who was not found. */
export async function userRef(ctx: CommandContext, ref: string | undefined) {
  return ref
    ? ctx.services.identity.userByRef(ctx.org.id, ctx.identity.platform, ctx.identity.workspaceId, ref)
    : undefined;
}
