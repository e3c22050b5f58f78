import { options } from '../../parse.js';
import { policyText } from '../../words/policy.js';
import type { CommandContext, CommandReply, CommandSpec } from '../spec.js';
import { say } from '../spec.js';
import { SERVER_AUTH, serverAuth } from './server-auth.js';
import { done, wrong } from './shared.js';

const SERVER = `server add <name> http <url> [--timeout ms] | add <name> stdio <command> [args…] | list | remove <name> | test <name> | set <name> --private-results [on|off] | ${SERVER_AUTH}`;
const BIND = 'bind <server> env|header <NAME> <source> [--template "Bearer {token}"]';

async function listServers(ctx: CommandContext): Promise<CommandReply> {
  const ss = await ctx.services.policy.listServers(ctx.org.id);
  return say(
    ss.length
      ? [
          'MCP servers:',
          ...ss.map(
            (s) =>
              `• ${s.name} (${s.transport} ${s.target})${s.privateResults ? ' private results' : ''}${s.bindings.length ? ` bindings: ${s.bindings.join(', ')}` : ''}`,
          ),
        ].join('\n')
      : 'No MCP servers yet.',
  );
}

/** `admin server add <name> http|stdio …`. */
async function add(ctx: CommandContext, name: string, positional: string[], flags: Record<string, string | true>) {
  const transport = positional[1];
  const timeoutMs = typeof flags['timeout'] === 'string' ? Number(flags['timeout']) : undefined;
  if (timeoutMs !== undefined && !(timeoutMs > 0))
    return wrong(SERVER, '--timeout must be a positive number of milliseconds.');
  if (transport !== 'http' && transport !== 'stdio') return wrong(SERVER, 'The transport must be http or stdio.');
  if (!positional[2])
    return wrong(SERVER, transport === 'http' ? 'An http server needs its URL.' : 'A stdio server needs its command.');
  const input =
    transport === 'http'
      ? { name, transport: 'http' as const, url: positional[2], timeoutMs }
      : { name, transport: 'stdio' as const, command: positional[2], args: positional.slice(3), timeoutMs };
  const r = await ctx.services.policy.addServer(ctx.org.id, input);
  return done(ctx, 'server.add', r, policyText(r), { server: name, transport });
}

/** `admin server set <name> --private-results [on|off]`: where results obtained with the caller's own grant go. */
async function set(ctx: CommandContext, name: string, flags: Record<string, string | true>) {
  const v = flags['private-results'];
  if (v === undefined) return wrong(SERVER, 'What to set? `--private-results` (or `--private-results off`).');
  if (v !== true && v !== 'on' && v !== 'off') return wrong(SERVER, '--private-results takes on or off.');
  const privateResults = v !== 'off';
  const r = await ctx.services.policy.setServer(ctx.org.id, name, { privateResults });
  return done(ctx, 'server.set', r, policyText(r), { server: name, privateResults });
}

/** `admin server …`: MCP tool servers. */
export const serverCommand: CommandSpec = {
  word: 'server',
  usage: SERVER,
  summary: 'MCP tool servers',
  run: async (ctx, args) => {
    const { policy } = ctx.services;
    const [verb, ...rest] = args;
    const { positional, flags } = options(rest);
    const name = positional[0];
    if (verb === 'list') return listServers(ctx);
    if (!name) return wrong(SERVER, 'Which server?');
    if (verb === 'remove') {
      const r = await policy.removeServer(ctx.org.id, name);
      return done(ctx, 'server.remove', r, policyText(r), { server: name });
    }
    if (verb === 'test') {
      const t = await policy.testServer(ctx.org.id, name, ctx.user);
      return say(t.ok ? t.message : t.error);
    }
    if (verb === 'set') return set(ctx, name, flags);
    if (verb === 'auth') return serverAuth(ctx, name, flags);
    if (verb !== 'add') return wrong(SERVER);
    return add(ctx, name, positional, flags);
  },
};

/** `admin bind …`: where a server gets each env var or header. */
export const bindCommand: CommandSpec = {
  word: 'bind',
  usage: BIND,
  summary: 'where a server gets each env var or header',
  run: async (ctx, args) => {
    const { positional, flags } = options(args);
    const [server, target, name, source] = positional;
    if (!server || (target !== 'env' && target !== 'header') || !name || !source) return wrong(BIND);
    const template = typeof flags['template'] === 'string' ? flags['template'] : undefined;
    const r = await ctx.services.policy.bind(ctx.org.id, server, target, name, source, template);
    return done(ctx, 'bind', r, policyText(r), {
      server,
      target,
      name,
      source: source.replace(/^static:.*/, 'static'),
    });
  },
};
