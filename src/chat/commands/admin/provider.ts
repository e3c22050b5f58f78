import { options } from '../../parse.js';
import { providerText } from '../../words/oauth.js';
import type { CommandContext, CommandReply, CommandSpec } from '../spec.js';
import { say } from '../spec.js';
import { done, list, wrong } from './shared.js';

const PROVIDER =
  'provider add <slug> <preset|oidc|oauth2> <client_id> [--scopes a,b] [--issuer URL] [--authorize URL --token URL] [--userinfo URL] [--revoke URL] | list | remove <slug> | share <slug> on|off';

const flag = (flags: Record<string, string | true>, name: string) =>
  typeof flags[name] === 'string' ? flags[name] : undefined;

/** `admin provider add …`: registers the provider, then opens the private form for its client secret. */
async function add(ctx: CommandContext, positional: string[], flags: Record<string, string | true>) {
  const { oauth } = ctx.services;
  const [slug, kind, clientId] = positional;
  if (!slug || !kind || !clientId) return wrong(PROVIDER, 'A provider needs a slug, a kind and a client id.');
  const r = await oauth.addProvider(ctx.org.id, {
    slug,
    kind,
    clientId,
    scopes: list(flags['scopes']) ?? [],
    issuer: flag(flags, 'issuer'),
    authorizeUrl: flag(flags, 'authorize'),
    tokenUrl: flag(flags, 'token'),
    revokeUrl: flag(flags, 'revoke'),
    userinfoUrl: flag(flags, 'userinfo'),
  });
  const reply = await done(ctx, 'provider.add', r, providerText(r), { slug, kind });
  if (!r.ok) return reply;
  return {
    private: {
      text:
        `${providerText(r)}\nRegister this redirect URI at the vendor: ${oauth.redirectUri()}\n` +
        'Enter the client secret in the private form (leave it empty for a public client).',
    },
    form: {
      formId: `provider-secret:${slug}`,
      title: `Client secret for ${slug}`,
      fields: [{ id: 'value', label: 'Client secret' }],
    },
  };
}

async function listProviders(ctx: CommandContext): Promise<CommandReply> {
  const { oauth } = ctx.services;
  const ps = await oauth.listProviders(ctx.org.id);
  return say(
    ps.length
      ? ['Providers:', ...ps.map((p) => `• ${p.slug} (${p.kind}) scopes: ${p.scopes.join(' ') || '-'}`)].join('\n') +
          `\nRedirect URI: ${oauth.redirectUri()}`
      : `No providers yet. Redirect URI to register at the vendor: ${oauth.redirectUri()}`,
  );
}

/** `admin provider …`: OAuth providers people connect to. */
export const providerCommand: CommandSpec = {
  word: 'provider',
  usage: PROVIDER,
  summary: 'OAuth providers people connect to',
  run: async (ctx, args) => {
    const { oauth } = ctx.services;
    const [verb, ...rest] = args;
    const { positional, flags } = options(rest);
    if (verb === 'list') return listProviders(ctx);
    if (verb === 'remove') {
      const slug = positional[0];
      if (!slug) return wrong(PROVIDER, 'Which provider?');
      const r = await oauth.removeProvider(ctx.org.id, slug);
      return done(ctx, 'provider.remove', r, providerText(r), { slug });
    }
    if (verb === 'share') {
      const [slug, onOff] = positional;
      if (!slug || (onOff !== 'on' && onOff !== 'off'))
        return wrong(
          PROVIDER,
          'Use: `provider share <slug> on|off` (on: one vendor account may serve several people).',
        );
      const r = await oauth.setSharing(ctx.org.id, slug, onOff === 'on');
      return done(ctx, 'provider.share', r, providerText(r), { slug, shared: onOff === 'on' });
    }
    if (verb !== 'add') return wrong(PROVIDER);
    return add(ctx, positional, flags);
  },
};
