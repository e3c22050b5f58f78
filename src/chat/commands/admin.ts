import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { identityKey } from '../../identity/index.js';
import { options } from '../parse.js';
import type { JoinBlocker } from '../../identity/index.js';
import type { CommandContext, CommandReply, CommandSpec } from '../router.js';
import type { Done } from '../services.js';
import { isSecretName } from '../../names.js';

const say = (text: string): CommandReply => ({ private: { text } });
const text = (r: Done): CommandReply => say(r.ok ? r.message : r.error);
const list = (v: string | true | undefined) =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

/** Audits an admin change and turns its outcome into the caller's one line. */
function done(ctx: CommandContext, action: string, r: Done, detail: Record<string, unknown> = {}): CommandReply {
  ctx.services.audit.write({
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
  return say(r.ok ? r.message : r.error);
}

const wrong = (usage: string, what?: string) => say(`${what ? `${what} ` : ''}Use: \`/onbehalf admin ${usage}\`.`);

/** Parses `1h`, `30m`, `7d` or an ISO date into epoch ms. */
function since(v: string): number | undefined {
  const m = v.match(/^(\d+)([mhd])$/);
  if (m) return Date.now() - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** Resolves `@user` in the caller's workspace to a user id, or says who was not found. */
function userRef(ctx: CommandContext, ref: string | undefined) {
  return ref
    ? ctx.services.identity.userByRef(ctx.org.id, ctx.identity.platform, ctx.identity.workspaceId, ref)
    : undefined;
}

const PROVIDER =
  'provider add <slug> <preset|oidc|oauth2> <client_id> [--scopes a,b] [--issuer URL] [--authorize URL --token URL] | list | remove <slug> | share <slug> on|off';
const SERVER =
  'server add <name> http <url> [--timeout ms] | add <name> stdio <command> [args…] | list | remove <name> | test <name>';
const BIND = 'bind <server> env|header <NAME> <source> [--template "Bearer {token}"]';
const RULE = (effect: 'allow' | 'deny') =>
  `${effect} <server> <tool-glob> [--roles a,b] [--users @a,@b] [--teams t] [--arg name=glob] [--ignore-case] [--inject name={user.email}]`;
const SECRET = 'secret set org|team|user <name> [team|@user] | list [scope] | delete org|team|user <name> [team|@user]';
const TEAM = 'team create <name> | add <team> @user | remove <team> @user | channel <team> | list';
const ROLE = 'role grant|revoke @user';
const AUDIT = 'audit [--user @u] [--server s] [--since 1h] | audit export';
const ORG = 'org invite | org join <code>';
const APPROVE = 'approve <server> <tool-glob> ask|always|never | approve <server>';

/** Splits `scope name [owner]` of the secret commands into the owner id the policy stores. */
function secretOwner(
  ctx: CommandContext,
  scope: string | undefined,
  name: string | undefined,
  ownerRef: string | undefined,
): { error: string } | { scope: 'org' | 'team' | 'user'; name: string; owner: string } {
  if (scope !== 'org' && scope !== 'team' && scope !== 'user') return { error: 'The scope must be org, team or user.' };
  if (!name || !isSecretName(name))
    return { error: 'The secret name must be 1–64 letters, digits, dots, dashes or underscores.' };
  if (scope === 'org') return { scope, name, owner: ctx.org.id };
  if (scope === 'team')
    return ownerRef ? { scope, name, owner: ownerRef } : { error: 'Name the team the secret belongs to.' };
  const u = ownerRef ? userRef(ctx, ownerRef) : ctx.user;
  return u ? { scope, name, owner: u.id } : { error: `No user "${ownerRef}" in this workspace.` };
}

/** The admins' commands of `/onbehalf admin …`. Authorisation happens in the router. */
export const adminCommands: CommandSpec[] = [
  {
    word: 'provider',
    usage: PROVIDER,
    summary: 'OAuth providers people connect to',
    run: async (ctx, args) => {
      const { oauth } = ctx.services;
      const [verb, ...rest] = args;
      const { positional, flags } = options(rest);
      if (verb === 'list') {
        const ps = await oauth.listProviders(ctx.org.id);
        return say(
          ps.length
            ? ['Providers:', ...ps.map((p) => `• ${p.slug} (${p.kind}) scopes: ${p.scopes.join(' ') || '-'}`)].join(
                '\n',
              ) + `\nRedirect URI: ${oauth.redirectUri()}`
            : `No providers yet. Redirect URI to register at the vendor: ${oauth.redirectUri()}`,
        );
      }
      if (verb === 'remove')
        return positional[0]
          ? done(ctx, 'provider.remove', await oauth.removeProvider(ctx.org.id, positional[0]), { slug: positional[0] })
          : wrong(PROVIDER, 'Which provider?');
      if (verb === 'share') {
        const [slug, onOff] = positional;
        if (!slug || (onOff !== 'on' && onOff !== 'off'))
          return wrong(
            PROVIDER,
            'Use: `provider share <slug> on|off` (on: one vendor account may serve several people).',
          );
        return done(ctx, 'provider.share', await oauth.setSharing(ctx.org.id, slug, onOff === 'on'), {
          slug,
          shared: onOff === 'on',
        });
      }
      if (verb !== 'add') return wrong(PROVIDER);
      const [slug, kind, clientId] = positional;
      if (!slug || !kind || !clientId) return wrong(PROVIDER, 'A provider needs a slug, a kind and a client id.');
      const r = await oauth.addProvider(ctx.org.id, {
        slug,
        kind,
        clientId,
        scopes: list(flags['scopes']) ?? [],
        issuer: typeof flags['issuer'] === 'string' ? flags['issuer'] : undefined,
        authorizeUrl: typeof flags['authorize'] === 'string' ? flags['authorize'] : undefined,
        tokenUrl: typeof flags['token'] === 'string' ? flags['token'] : undefined,
        revokeUrl: typeof flags['revoke'] === 'string' ? flags['revoke'] : undefined,
        userinfoUrl: typeof flags['userinfo'] === 'string' ? flags['userinfo'] : undefined,
      });
      const reply = done(ctx, 'provider.add', r, { slug, kind });
      if (!r.ok) return reply;
      return {
        private: {
          text: `${r.message}\nRegister this redirect URI at the vendor: ${oauth.redirectUri()}\nEnter the client secret in the private form (leave it empty for a public client).`,
        },
        form: {
          formId: `provider-secret:${slug}`,
          title: `Client secret for ${slug}`,
          fields: [{ id: 'value', label: 'Client secret' }],
        },
      };
    },
  },
  {
    word: 'server',
    usage: SERVER,
    summary: 'MCP tool servers',
    run: async (ctx, args) => {
      const { policy } = ctx.services;
      const [verb, ...rest] = args;
      const { positional, flags } = options(rest);
      const name = positional[0];
      if (verb === 'list') {
        const ss = await policy.listServers(ctx.org.id);
        return say(
          ss.length
            ? [
                'MCP servers:',
                ...ss.map(
                  (s) =>
                    `• ${s.name} (${s.transport} ${s.target})${s.bindings.length ? ` bindings: ${s.bindings.join(', ')}` : ''}`,
                ),
              ].join('\n')
            : 'No MCP servers yet.',
        );
      }
      if (!name) return wrong(SERVER, 'Which server?');
      if (verb === 'remove')
        return done(ctx, 'server.remove', await policy.removeServer(ctx.org.id, name), { server: name });
      if (verb === 'test') return text(await policy.testServer(ctx.org.id, name, ctx.user));
      if (verb !== 'add') return wrong(SERVER);
      const transport = positional[1];
      const timeoutMs = typeof flags['timeout'] === 'string' ? Number(flags['timeout']) : undefined;
      if (timeoutMs !== undefined && !(timeoutMs > 0))
        return wrong(SERVER, '--timeout must be a positive number of milliseconds.');
      if (transport === 'http') {
        if (!positional[2]) return wrong(SERVER, 'An http server needs its URL.');
        return done(
          ctx,
          'server.add',
          await policy.addServer(ctx.org.id, { name, transport, url: positional[2], timeoutMs }),
          { server: name, transport },
        );
      }
      if (transport === 'stdio') {
        if (!positional[2]) return wrong(SERVER, 'A stdio server needs its command.');
        return done(
          ctx,
          'server.add',
          await policy.addServer(ctx.org.id, {
            name,
            transport,
            command: positional[2],
            args: positional.slice(3),
            timeoutMs,
          }),
          { server: name, transport },
        );
      }
      return wrong(SERVER, 'The transport must be http or stdio.');
    },
  },
  {
    word: 'bind',
    usage: BIND,
    summary: 'where a server gets each env var or header',
    run: async (ctx, args) => {
      const { positional, flags } = options(args);
      const [server, target, name, source] = positional;
      if (!server || (target !== 'env' && target !== 'header') || !name || !source) return wrong(BIND);
      const template = typeof flags['template'] === 'string' ? flags['template'] : undefined;
      return done(ctx, 'bind', await ctx.services.policy.bind(ctx.org.id, server, target, name, source, template), {
        server,
        target,
        name,
        source: source.replace(/^static:.*/, 'static'),
      });
    },
  },
  ...(['allow', 'deny'] as const).map((effect): CommandSpec => ({
    word: effect,
    usage: RULE(effect),
    summary: effect === 'allow' ? 'let people use tools' : 'forbid tools',
    run: async (ctx, args) => {
      // `--ignore-case` takes no value: taken out first so it cannot swallow the next word.
      const ignoreCase = args.includes('--ignore-case');
      const { positional, flags } = options(args.filter((a) => a !== '--ignore-case'));
      const [server, tools] = positional;
      if (!server || !tools) return wrong(RULE(effect));
      const pairs = (v: string | true | undefined) => {
        if (typeof v !== 'string') return undefined;
        return Object.fromEntries(v.split(',').map((p) => p.split(/=(.*)/s, 2) as [string, string]));
      };
      const userIds = list(flags['users'])?.map((u) => userRef(ctx, u)?.id ?? `unknown:${u}`);
      const unknown = userIds?.find((u) => u.startsWith('unknown:'));
      if (unknown) return say(`No user "${unknown.slice(8)}" in this workspace.`);
      const r = await ctx.services.policy.rule(ctx.org.id, effect, server, {
        tools,
        roles: list(flags['roles']),
        users: userIds,
        teams: list(flags['teams']),
        args: pairs(flags['arg']),
        inject: pairs(flags['inject']),
        ...(ignoreCase ? { ignoreCase } : {}),
      });
      return done(ctx, `rule.${effect}`, r, { server, tools });
    },
  })),
  {
    word: 'secret',
    usage: SECRET,
    summary: 'named secrets at org, team or user scope (values only in a private form)',
    run: async (ctx, args) => {
      const [verb, scope, name, ownerRef] = args;
      const { policy } = ctx.services;
      if (verb === 'list') {
        const s = scope === 'org' || scope === 'team' || scope === 'user' ? scope : undefined;
        const items = await policy.listSecrets(ctx.org.id, s);
        return say(
          items.length
            ? [
                'Secrets (values are never shown):',
                ...items.map((i) => `• ${i.scope} ${i.scope === 'org' ? '' : `${i.owner} `}${i.name}`),
              ].join('\n')
            : 'No secrets yet.',
        );
      }
      if (verb !== 'set' && verb !== 'delete') return wrong(SECRET);
      if (args.length > 4) return wrong(SECRET, 'Never type a secret value in a command; `set` opens a private form.');
      const o = secretOwner(ctx, scope, name, ownerRef);
      if ('error' in o) return wrong(SECRET, o.error);
      if (verb === 'delete')
        return done(ctx, 'secret.delete', await policy.deleteSecret(ctx.org.id, o.scope, o.owner, o.name), {
          scope: o.scope,
          name: o.name,
        });
      return {
        private: { text: `Enter the value of ${o.scope} secret "${o.name}" in the private form.` },
        form: {
          formId: `secret:${o.scope}:${o.owner}:${o.name}`,
          title: `Secret ${o.name}`,
          fields: [{ id: 'value', label: `Value of ${o.name}` }],
        },
      };
    },
  },
  {
    word: 'team',
    usage: TEAM,
    summary: 'teams for team secrets and rules',
    run: async (ctx, args) => {
      const [verb, name, who] = args;
      const { policy } = ctx.services;
      if (verb === 'list') return text(await policy.team(ctx.org.id, 'list', undefined));
      if (!name) return wrong(TEAM, 'Which team?');
      if (verb === 'create')
        return done(ctx, 'team.create', await policy.team(ctx.org.id, 'create', name), { team: name });
      if (verb === 'channel')
        return done(
          ctx,
          'team.channel',
          await policy.team(ctx.org.id, 'channel', name, `${ctx.target.platform}:${ctx.target.channelId}`),
          { team: name },
        );
      if (verb === 'add' || verb === 'remove') {
        const u = userRef(ctx, who);
        if (!u) return wrong(TEAM, who ? `No user "${who}" in this workspace.` : 'Which user?');
        return done(ctx, `team.${verb}`, await policy.team(ctx.org.id, verb, name, u.id), { team: name, user: u.id });
      }
      return wrong(TEAM);
    },
  },
  {
    word: 'role',
    usage: ROLE,
    summary: 'make someone an admin, or a member again',
    run: async (ctx, args) => {
      const [verb, who] = args;
      if (verb !== 'grant' && verb !== 'revoke') return wrong(ROLE);
      const u = userRef(ctx, who);
      if (!u) return wrong(ROLE, who ? `No user "${who}" in this workspace.` : 'Which user?');
      if (verb === 'revoke' && u.id === ctx.user.id)
        return say('You cannot revoke your own admin role; ask another admin.');
      ctx.services.identity.setRole(ctx.org.id, u.id, verb === 'grant' ? 'admin' : 'member');
      return done(
        ctx,
        `role.${verb}`,
        { ok: true, message: `${u.displayName} is now ${verb === 'grant' ? 'an admin' : 'a member'}.` },
        { user: u.id },
      );
    },
  },
  {
    word: 'org',
    usage: ORG,
    summary: 'join this workspace to another org (an admin on each side)',
    run: async (ctx, args) => {
      const [verb, code] = args;
      if (verb === 'invite' && !code) {
        const { code: fresh, expiresAt } = ctx.services.orgJoins.invite(ctx.org.id, ctx.user.id);
        done(ctx, 'org.invite', { ok: true, message: '' }, { expiresAt });
        return say(
          `Invite code \`${fresh}\` for ${ctx.org.name}. An admin of the other workspace types \`/onbehalf admin org join ${fresh}\` within 10 minutes; it works once. Their people join as members; their org must hold no providers, servers, secrets, teams or connected accounts.`,
        );
      }
      if (verb === 'join' && code && args.length === 2) return orgJoin(ctx, code);
      return wrong(ORG);
    },
  },
  {
    word: 'approve',
    usage: APPROVE,
    summary:
      "whether the assistant's calls of a server's tools ask the caller first (ask), run (always) or are not offered (never)",
    run: async (ctx, args) => {
      const [server, glob, mode] = args;
      if (!server) return wrong(APPROVE, 'Which server?');
      if (!glob) return text(await ctx.services.policy.approvalRules(ctx.org.id, server));
      if (!mode || args.length > 3) return wrong(APPROVE, 'Say ask, always or never after the tool glob.');
      return done(ctx, 'approve.set', await ctx.services.policy.approve(ctx.org.id, server, glob, mode), {
        server,
        tools: glob,
        mode,
      });
    },
  },
  {
    word: 'audit',
    usage: AUDIT,
    summary: 'who did what, as whom',
    run: async (ctx, args) => {
      const { audit } = ctx.services;
      const { positional, flags } = options(args);
      const userId = typeof flags['user'] === 'string' ? userRef(ctx, flags['user'])?.id : undefined;
      if (typeof flags['user'] === 'string' && !userId) return say(`No user "${flags['user']}" in this workspace.`);
      const s = typeof flags['since'] === 'string' ? since(flags['since']) : undefined;
      if (typeof flags['since'] === 'string' && s === undefined)
        return wrong(AUDIT, '--since takes 30m, 2h, 7d or a date.');
      const filter = { userId, server: typeof flags['server'] === 'string' ? flags['server'] : undefined, since: s };
      if (positional[0] === 'export') {
        const rows = audit.query(ctx.org.id, { ...filter, limit: 100_000 });
        const dir = path.join(ctx.services.dataDir, 'exports');
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const file = path.join(dir, `audit-${ctx.org.id}-${Date.now()}.jsonl`);
        writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''), { mode: 0o600 });
        return done(ctx, 'audit.export', {
          ok: true,
          message: `Exported ${rows.length} audit event(s) to ${file} on the server.`,
        });
      }
      if (positional.length) return wrong(AUDIT);
      const rows = audit.query(ctx.org.id, { ...filter, limit: 20 });
      if (!rows.length) return say('No audit events match.');
      return say(
        rows
          .map((r) =>
            `${new Date(r.at).toISOString()} ${r.chatIdentity ?? r.actorUserId ?? '-'} ${r.category}.${r.action}${r.server ? ` ${r.server}.${r.tool ?? ''}` : ''} ${r.decision ?? ''} ${r.outcome ?? ''}`.trim(),
          )
          .join('\n'),
      );
    },
  },
];

/** Words one blocker of an org join: "providers (github, jira)", "connected accounts (3)". */
function blockerText(b: JoinBlocker): string {
  return `${b.kind} (${b.names.length ? b.names.join(', ') + (b.count > b.names.length ? ', …' : '') : b.count})`;
}

/** `admin org join <code>`: this workspace's org moves into the inviting org. Audited in both orgs. */
function orgJoin(ctx: CommandContext, code: string): CommandReply {
  const r = ctx.services.orgJoins.join(ctx.identity, ctx.org.id, code);
  const audit = (orgId: string, outcome: string, detail: Record<string, unknown>) =>
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
      audit(ctx.org.id, 'cooldown', {});
      return say(`Too many wrong invite codes. Try again in ${Math.ceil(r.retryAfterMs / 60_000)} minute(s).`);
    case 'invalid':
      audit(ctx.org.id, 'invalid_code', {});
      return say(
        'That invite code is wrong, expired or already used. Ask an admin of the other org for a fresh one with `/onbehalf admin org invite`.',
      );
    case 'same_org':
      audit(ctx.org.id, 'same_org', {});
      return say('This workspace already belongs to that org; nothing to join.');
    case 'blocked': {
      const what = r.blockers.map(blockerText).join(', ');
      audit(ctx.org.id, 'blocked', { intoOrg: r.intoOrgId, blockers: r.blockers.map((b) => b.kind) });
      audit(r.intoOrgId, 'blocked', { fromOrg: ctx.org.id, blockers: r.blockers.map((b) => b.kind) });
      return say(
        `Not joined: this org still has its own ${what}; remove them first (\`admin provider remove\`, \`admin server remove\`, \`admin secret delete\`, each person's \`disconnect\`), then join again.`,
      );
    }
    case 'joined':
      audit(r.fromOrgId, 'joined', { intoOrg: r.intoOrgId, workspaces: r.workspaces, users: r.users });
      audit(r.intoOrgId, 'joined', {
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
