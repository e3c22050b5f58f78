import type { DeclaredKind } from '../../../policy/index.js';
import { options } from '../../parse.js';
import type { CommandContext, CommandReply } from '../spec.js';
import { say } from '../spec.js';
import { userRef } from './shared.js';

type Target = { kind: DeclaredKind; key: string; label: string } | undefined;

const CHANGING_PROVIDER = new Set(['add', 'remove', 'share']);
const CHANGING_SERVER = new Set(['add', 'remove', 'set', 'auth']);
const CHANGING_TEAM = new Set(['create', 'delete', 'channel', 'add', 'remove']);

/** The object an admin command would change, when a config file could own it. */
async function targetOf(ctx: CommandContext, word: string, args: string[]): Promise<Target> {
  const { positional } = options(args.slice(1));
  const [verb] = args;
  const first = positional[0];
  if (word === 'provider' && CHANGING_PROVIDER.has(verb ?? '') && first)
    return { kind: 'provider', key: first, label: `provider ${first}` };
  if (word === 'server' && CHANGING_SERVER.has(verb ?? '') && first)
    return { kind: 'server', key: first, label: `server ${first}` };
  if (word === 'bind' && verb) return { kind: 'server', key: verb, label: `server ${verb} (with its bindings)` };
  if (word === 'team' && CHANGING_TEAM.has(verb ?? '') && args[1])
    return { kind: 'team', key: args[1], label: `team ${args[1]}` };
  if (word === 'approve' && args.length === 3)
    return { kind: 'approval', key: `${args[0]} ${args[1]}`, label: `the approval rule of ${args[0]} ${args[1]}` };
  if (word === 'role' && args[1]) {
    const u = await userRef(ctx, args[1]);
    const pid = args[1].replace(/^<@!?([^>|]+)(\|[^>]*)?>$/, '$1').replace(/^@/, '');
    return u ? { kind: 'admin', key: pid, label: `the admin role of ${u.displayName}` } : undefined;
  }
  return undefined;
}

/**
 * A refusal in one line when the command would change an object a config file owns: the file is
 * the source of truth for it, so a change in chat would be undone at the next start.
 */
export async function fileOwned(ctx: CommandContext, word: string, args: string[]): Promise<CommandReply | undefined> {
  const t = await targetOf(ctx, word, args);
  const file = t && (await ctx.services.policy.ownerOf(ctx.org.id, t.kind, t.key));
  if (!t || !file) return undefined;
  return say(
    `${t.label.charAt(0).toUpperCase()}${t.label.slice(1)} is managed by the config file ${file}; change it there (nothing was changed).`,
  );
}
