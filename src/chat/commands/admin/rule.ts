import { options } from '../../parse.js';
import { policyText } from '../../words/policy.js';
import type { CommandContext, CommandSpec } from '../spec.js';
import { say } from '../spec.js';
import { done, list, userRef, wrong } from './shared.js';

const RULE = (effect: 'allow' | 'deny') =>
  `${effect} <server> <tool-glob> [--roles a,b] [--users @a,@b] [--teams t] [--arg name=glob] [--ignore-case] [--inject name={user.email}]`;
const APPROVE = 'approve <server> <tool-glob> ask|always|never | approve <server>';

/** Platforms whose people come with an email address (Slack `users.info`, scope `users:read.email`). */
const GIVES_EMAIL = new Set(['slack']);
const PLATFORM_NAMES: Record<string, string> = { slack: 'Slack', discord: 'Discord', shell: 'The shell' };

/** Why `{user.email}` cannot be injected in this org: a platform of its workspaces gives no email. */
async function noEmail(ctx: CommandContext, inject: Record<string, string> | undefined): Promise<string | undefined> {
  if (!inject || !Object.values(inject).some((t) => t.includes('{user.email}'))) return undefined;
  const without = (await ctx.services.identity.platformsOf(ctx.org.id)).filter((p) => !GIVES_EMAIL.has(p));
  if (!without.length) return undefined;
  return `${without.map((p) => PLATFORM_NAMES[p] ?? p).join(' and ')} ${without.length > 1 ? 'give' : 'gives'} no email address, so {user.email} would be empty for people here; nothing was changed (inject {user.id} or {user.name} instead).`;
}

const pairs = (v: string | true | undefined) => {
  if (typeof v !== 'string') return undefined;
  return Object.fromEntries(v.split(',').map((p) => p.split(/=(.*)/s, 2) as [string, string]));
};

/** `admin allow …` and `admin deny …`: access rules of a server's tools. */
export const ruleCommands: CommandSpec[] = (['allow', 'deny'] as const).map((effect) => ({
  word: effect,
  usage: RULE(effect),
  summary: effect === 'allow' ? 'let people use tools' : 'forbid tools',
  run: async (ctx, args) => {
    // `--ignore-case` takes no value: taken out first so it cannot swallow the next word.
    const ignoreCase = args.includes('--ignore-case');
    const { positional, flags } = options(args.filter((a) => a !== '--ignore-case'));
    const [server, tools] = positional;
    if (!server || !tools) return wrong(RULE(effect));
    const refs = list(flags['users']);
    const userIds = refs && (await Promise.all(refs.map(async (u) => (await userRef(ctx, u))?.id ?? `unknown:${u}`)));
    const unknown = userIds?.find((u) => u.startsWith('unknown:'));
    if (unknown) return say(`No user "${unknown.slice(8)}" in this workspace.`);
    const inject = pairs(flags['inject']);
    const refused = effect === 'allow' ? await noEmail(ctx, inject) : undefined;
    if (refused) return say(refused);
    const r = await ctx.services.policy.rule(ctx.org.id, effect, server, {
      tools,
      roles: list(flags['roles']),
      users: userIds,
      teams: list(flags['teams']),
      args: pairs(flags['arg']),
      inject,
      ...(ignoreCase ? { ignoreCase } : {}),
    });
    return done(ctx, `rule.${effect}`, r, policyText(r), { server, tools });
  },
}));

/** `admin approve …`: whether the assistant's calls of a server's tools ask first. */
export const approveCommand: CommandSpec = {
  word: 'approve',
  usage: APPROVE,
  summary:
    "whether the assistant's calls of a server's tools ask the caller first (ask), run (always) or are not offered (never)",
  run: async (ctx, args) => {
    const [server, glob, mode] = args;
    if (!server) return wrong(APPROVE, 'Which server?');
    if (!glob) return say(policyText(await ctx.services.policy.approvalRules(ctx.org.id, server)));
    if (!mode || args.length > 3) return wrong(APPROVE, 'Say ask, always or never after the tool glob.');
    const r = await ctx.services.policy.approve(ctx.org.id, server, glob, mode);
    return done(ctx, 'approve.set', r, policyText(r), { server, tools: glob, mode });
  },
};
