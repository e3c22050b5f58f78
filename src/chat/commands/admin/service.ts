import { options } from '../../parse.js';
import { serviceGrantText, serviceGrantsList } from '../../words/oauth.js';
import type { CommandContext, CommandReply, CommandSpec } from '../spec.js';
import { say } from '../spec.js';
import { done, wrong } from './shared.js';

const CONNECT = 'connect [confirm|reject] <provider> --service <name>';
const DISCONNECT = 'disconnect <provider> --service <name>';

/** The provider and service name of `<provider> --service <name>`, or undefined. */
function target(args: string[]): { slug: string; name: string } | undefined {
  const { positional, flags } = options(args);
  const name = flags['service'];
  const slug = positional[0];
  return slug && typeof name === 'string' && positional.length === 1 ? { slug, name } : undefined;
}

/** `admin connect <provider> --service <name>`: a connect link for this admin alone; the grant serves the org. */
async function connect(ctx: CommandContext, args: string[]): Promise<CommandReply> {
  if (args[0] === 'confirm' || args[0] === 'reject') return answerHeld(ctx, args[0], args.slice(1));
  const t = target(args);
  if (!t) return wrong(CONNECT, 'Which provider and service name?');
  const r = await ctx.services.oauth.services.connectLink(ctx.org.id, ctx.user.id, t.slug, t.name);
  const line = serviceGrantText(r);
  const reply = await done(ctx, 'service.connect', r, line, { provider: t.slug, service: t.name });
  if (!r.ok || r.value.kind !== 'service_link') return reply;
  // Private to this admin, like a person's own connect link: whoever opens it chooses the org's account.
  return { private: { text: line, link: { label: `Connect ${t.slug} for ${t.name}`, url: r.value.url } } };
}

/** `admin connect confirm|reject <provider> --service <name>`: a held service grant put to use, or revoked and removed. */
async function answerHeld(ctx: CommandContext, verb: 'confirm' | 'reject', args: string[]): Promise<CommandReply> {
  const t = target(args);
  if (!t) return wrong(CONNECT, 'Which provider and service name?');
  const svc = ctx.services.oauth.services;
  const r =
    verb === 'confirm'
      ? await svc.confirmHeld(ctx.org.id, ctx.user.id, t.slug, t.name)
      : await svc.rejectHeld(ctx.org.id, ctx.user.id, t.slug, t.name);
  return done(ctx, `service.${verb}`, r, serviceGrantText(r), { provider: t.slug, service: t.name });
}

/** `admin disconnect <provider> --service <name>`: revokes and removes a service grant. */
async function disconnect(ctx: CommandContext, args: string[]): Promise<CommandReply> {
  const t = target(args);
  if (!t) return wrong(DISCONNECT, 'Which provider and service name?');
  const r = await ctx.services.oauth.services.disconnect(ctx.org.id, ctx.user.id, t.slug, t.name);
  return done(ctx, 'service.disconnect', r, serviceGrantText(r), { provider: t.slug, service: t.name });
}

/** The org's service grants: `admin connect|disconnect <provider> --service <name>`, `admin services`. */
export const serviceCommands: CommandSpec[] = [
  {
    word: 'connect',
    usage: CONNECT,
    summary: "connect the org's service account at a provider (used by service:<provider>/<name> bindings)",
    run: (ctx, args) => connect(ctx, args),
  },
  {
    word: 'disconnect',
    usage: DISCONNECT,
    summary: "revoke and remove one of the org's service connections",
    run: (ctx, args) => disconnect(ctx, args),
  },
  {
    word: 'services',
    usage: 'services',
    summary: "the org's service connections and whether each works",
    run: async (ctx) => say(serviceGrantsList(await ctx.services.oauth.services.list(ctx.org.id))),
  },
];
