import { isSecretName } from '../../../names.js';
import { policyText, SECRET_NAME_RULE } from '../../words/policy.js';
import type { CommandContext, CommandReply, CommandSpec } from '../spec.js';
import { say } from '../spec.js';
import { done, userRef, wrong } from './shared.js';

const SECRET = 'secret set org|team|user <name> [team|@user] | list [scope] | delete org|team|user <name> [team|@user]';

/** Splits `scope name [owner]` of the secret commands into the owner id the policy stores. */
async function secretOwner(
  ctx: CommandContext,
  scope: string | undefined,
  name: string | undefined,
  ownerRef: string | undefined,
): Promise<{ error: string } | { scope: 'org' | 'team' | 'user'; name: string; owner: string }> {
  if (scope !== 'org' && scope !== 'team' && scope !== 'user') return { error: 'The scope must be org, team or user.' };
  if (!name || !isSecretName(name)) return { error: SECRET_NAME_RULE };
  if (scope === 'org') return { scope, name, owner: ctx.org.id };
  if (scope === 'team')
    return ownerRef ? { scope, name, owner: ownerRef } : { error: 'Name the team the secret belongs to.' };
  const u = ownerRef ? await userRef(ctx, ownerRef) : ctx.user;
  return u ? { scope, name, owner: u.id } : { error: `No user "${ownerRef}" in this workspace.` };
}

async function listSecrets(ctx: CommandContext, scope: string | undefined): Promise<CommandReply> {
  const s = scope === 'org' || scope === 'team' || scope === 'user' ? scope : undefined;
  const items = await ctx.services.policy.listSecrets(ctx.org.id, s);
  return say(
    items.length
      ? [
          'Secrets (values are never shown):',
          ...items.map((i) => `• ${i.scope} ${i.scope === 'org' ? '' : `${i.owner} `}${i.name}`),
        ].join('\n')
      : 'No secrets yet.',
  );
}

/** `admin secret …`: named secrets; a value is only ever entered in a private form. */
export const secretCommand: CommandSpec = {
  word: 'secret',
  usage: SECRET,
  summary: 'named secrets at org, team or user scope (values only in a private form)',
  run: async (ctx, args) => {
    const [verb, scope, name, ownerRef] = args;
    if (verb === 'list') return listSecrets(ctx, scope);
    if (verb !== 'set' && verb !== 'delete') return wrong(SECRET);
    if (args.length > 4) return wrong(SECRET, 'Never type a secret value in a command; `set` opens a private form.');
    const o = await secretOwner(ctx, scope, name, ownerRef);
    if ('error' in o) return wrong(SECRET, o.error);
    if (verb === 'delete') {
      const r = await ctx.services.policy.deleteSecret(ctx.org.id, o.scope, o.owner, o.name);
      return done(ctx, 'secret.delete', r, policyText(r), { scope: o.scope, name: o.name });
    }
    return {
      private: { text: `Enter the value of ${o.scope} secret "${o.name}" in the private form.` },
      form: {
        formId: `secret:${o.scope}:${o.owner}:${o.name}`,
        title: `Secret ${o.name}`,
        fields: [{ id: 'value', label: `Value of ${o.name}` }],
      },
    };
  },
};
