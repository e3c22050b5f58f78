import { identityKey } from '../../identity/index.js';
import { duplicateKey } from '../../policy/index.js';
import { isSlug } from '../../names.js';
import { connectionText, gapLine } from '../words/oauth.js';
import type { CommandContext, CommandReply, CommandSpec } from './spec.js';
import { say } from './spec.js';

/** The members' commands of `/onbehalf` after `help` (which lists them all: see `./index.ts`). */
export const memberCommands: CommandSpec[] = [
  {
    word: 'tools',
    usage: 'tools',
    summary: 'the tools you may use',
    run: async (ctx) => {
      const { tools, needsConnect } = await ctx.services.policy.catalog(ctx.org.id, ctx.user, ctx.target.channelId);
      const gaps = needsConnect.map(gapLine);
      if (tools.length === 0 && gaps.length === 0)
        return say('No tools are available to you yet. An admin adds servers with `/onbehalf admin server add`.');
      return say(
        [
          ...(tools.length
            ? [
                'Tools you may use:',
                ...tools.map(
                  (t) => `• \`${t.server}.${t.tool}\`${t.description ? ` — ${t.description.split('\n')[0]}` : ''}`,
                ),
              ]
            : []),
          ...(gaps.length ? ['Servers you have not connected yet:', ...gaps] : []),
        ].join('\n'),
      );
    },
  },
  {
    word: 'run',
    usage: 'run <server>.<tool> <json>',
    summary: 'call one tool as yourself, e.g. run github.list_issues {"repo":"acme/app"}',
    run: async (ctx, args, raw) => {
      const usage = 'Use: `/onbehalf run <server>.<tool> <json arguments>`, e.g. `/onbehalf run github.whoami {}`.';
      const name = args[0];
      const m = name?.match(/^([A-Za-z0-9_-]+)\.([A-Za-z0-9_.\-/]+)$/);
      if (!m) return say(`${name ? `"${name}" is not <server>.<tool>.` : 'Which tool?'} ${usage}`);
      const json = raw.slice(raw.indexOf(name!) + name!.length).trim() || '{}';
      let parsed: unknown;
      try {
        parsed = JSON.parse(json);
      } catch (err) {
        return say(`The arguments are not valid JSON (${(err as Error).message.split('\n')[0]}). ${usage}`);
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        return say(`The arguments must be a JSON object like {"key":"value"}. ${usage}`);
      // JSON.parse keeps only the last of repeated names; what was typed must be what is judged and sent.
      const twice = duplicateKey(json);
      if (twice !== undefined)
        return say(`The arguments name "${twice}" more than once; give each argument once. ${usage}`);
      const queued = await ctx.services.runner.enqueueToolCall({
        orgId: ctx.org.id,
        userId: ctx.user.id,
        chatIdentity: identityKey(ctx.identity),
        server: m[1]!,
        tool: m[2]!,
        args: parsed as Record<string, unknown>,
        target: ctx.target,
        requestId: ctx.requestId,
        eventId: ctx.eventId,
      });
      if (queued.kind === 'unknown_server')
        return say(
          `\`${m[1]}.${m[2]}\` was not run: there is no server named ${queued.server}. \`/onbehalf tools\` lists the servers and tools you may use.`,
        );
      if (queued.kind === 'too_many_queued')
        return say(
          `\`${m[1]}.${m[2]}\` was not run: you already have ${queued.limit} calls waiting to run; wait for them to finish, then try again.`,
        );
      return say(`Running \`${m[1]}.${m[2]}\` as you…`);
    },
  },
  {
    word: 'approve',
    usage: 'approve <call id>',
    summary: 'let the assistant run a call it asked you about (Approve on its prompt does the same)',
    run: (ctx, args) => answer(ctx, args[0], true),
  },
  {
    word: 'deny',
    usage: 'deny <call id>',
    summary: 'refuse a call the assistant asked you about',
    run: (ctx, args) => answer(ctx, args[0], false),
  },
  {
    word: 'connections',
    usage: 'connections',
    summary: 'the accounts you have connected',
    run: async (ctx) => {
      const list = await ctx.services.oauth.listConnections(ctx.org.id, ctx.user.id);
      if (list.length === 0) return say('You have no connected accounts. Use `/onbehalf connect <provider>`.');
      const url = await ctx.services.oauth.manageLink(ctx.org.id, ctx.user.id);
      return {
        private: {
          text: [
            'Your connected accounts:',
            ...list.map(
              (c) =>
                `• ${c.providerSlug}: ${c.vendorLogin ?? 'unknown account'} (${c.status}${c.scopes.length ? `; ${c.scopes.join(' ')}` : ''})`,
            ),
            'Manage them in your browser: the link is yours alone, works once and expires in 10 minutes.',
          ].join('\n'),
          link: { label: 'Manage in browser', url },
        },
      };
    },
  },
  {
    word: 'connect',
    usage: 'connect <provider> | connect confirm|reject <provider>',
    summary: 'connect your own account at a provider (confirm or reject one waiting for you)',
    run: async (ctx, args) => {
      // The caller comes from the verified chat payload, so only the grant's own user can confirm it.
      if ((args[0] === 'confirm' || args[0] === 'reject') && args[1]) {
        const r =
          args[0] === 'confirm'
            ? await ctx.services.oauth.confirmHeld(ctx.org.id, ctx.user.id, args[1])
            : await ctx.services.oauth.rejectHeld(ctx.org.id, ctx.user.id, args[1]);
        return say(connectionText(r));
      }
      const slug = args[0];
      const providers = await ctx.services.oauth.listProviders(ctx.org.id);
      if (!slug || !isSlug(slug))
        return say(
          `Which provider? Use: \`/onbehalf connect <provider>\`. Available: ${providers.map((p) => p.slug).join(', ') || 'none yet'}.`,
        );
      if (!providers.some((p) => p.slug === slug))
        return say(
          `There is no provider "${slug}" here. Available: ${providers.map((p) => p.slug).join(', ') || 'none yet (an admin adds one with `/onbehalf admin provider add`)'}.`,
        );
      const url = await ctx.services.oauth.connectLink(ctx.org.id, ctx.user.id, slug);
      return {
        private: {
          text: `Connect your ${slug} account. The link is yours alone, works once and expires in 10 minutes.`,
          link: { label: `Connect ${slug}`, url },
        },
      };
    },
  },
  {
    word: 'disconnect',
    usage: 'disconnect <provider>',
    summary: 'revoke and forget your grant at a provider',
    run: async (ctx, args) => {
      if (!args[0]) return say('Which provider? Use: `/onbehalf disconnect <provider>`.');
      const r = await ctx.services.oauth.disconnect(ctx.org.id, ctx.user.id, args[0]);
      return say(connectionText(r));
    },
  },
  {
    word: 'link',
    usage: 'link [code]',
    summary: 'link this chat identity with your identity on another platform (same org)',
    run: (ctx, args) => link(ctx, args[0]),
  },
  {
    word: 'whoami',
    usage: 'whoami',
    summary: 'who onbehalf thinks you are',
    run: async (ctx) => {
      const ids = await ctx.services.identity.linkedIdentities(ctx.org.id, ctx.user.id);
      const conns = await ctx.services.oauth.listConnections(ctx.org.id, ctx.user.id);
      return say(
        [
          `You are ${ctx.user.displayName} (${ctx.user.role}) in ${ctx.org.name}.`,
          `Linked identities: ${ids.map((i) => identityKey({ platform: i.platform, workspaceId: i.workspaceId, userId: i.platformUserId })).join(', ')}.`,
          `Connected: ${conns.length ? conns.map((c) => `${c.providerSlug} as ${c.vendorLogin ?? '?'} (${c.status})`).join(', ') : 'nothing yet'}.`,
        ].join('\n'),
      );
    },
  },
];

/** The one line a link across orgs gets (exported for the tests' wording checks). */
export const ORG_MISMATCH =
  'Not linked: that code belongs to another onbehalf org. An admin there runs `/onbehalf admin org invite` and an admin here runs `/onbehalf admin org join <code>`; then link again.';

async function link(ctx: CommandContext, code: string | undefined): Promise<CommandReply> {
  const { linkCodes, identity, outbound } = ctx.services;
  if (!code) {
    const { code: fresh } = await linkCodes.create(ctx.org.id, ctx.user.id);
    return say(
      `Your link code is \`${fresh}\`. On your other platform type \`/onbehalf link ${fresh}\` within 10 minutes. It works once.`,
    );
  }
  const r = await linkCodes.redeem(ctx.identity, code);
  const who = identityKey(ctx.identity);
  switch (r.kind) {
    case 'cooldown':
      return say(`Too many wrong link codes. Try again in ${Math.ceil(r.retryAfterMs / 60_000)} minute(s).`);
    case 'invalid':
      return say(
        'That link code is wrong, expired or already used. Get a fresh one with `/onbehalf link` on your other platform.',
      );
    case 'unknown_identity':
      return say('Not linked: this chat identity is not known yet; send any message first.');
    case 'other_org':
      return say(ORG_MISMATCH);
    case 'already_linked':
      return say('This identity is already linked to you.');
    case 'linked': {
      await ctx.services.audit.write({
        orgId: r.orgId,
        category: 'link',
        action: 'link',
        actorUserId: r.userId,
        chatIdentity: who,
        outcome: 'linked',
        requestId: ctx.requestId,
      });
      const user = (await identity.user(r.orgId, r.userId))!;
      for (const other of await identity.linkedIdentities(r.orgId, r.userId)) {
        if (
          other.platform === ctx.identity.platform &&
          other.workspaceId === ctx.identity.workspaceId &&
          other.platformUserId === ctx.identity.userId
        )
          continue;
        if (!outbound.has(other.platform)) continue;
        await outbound
          .directOn(other.platform, other.workspaceId, other.platformUserId, {
            text: `${who} is now linked to you (${user.displayName}). If that was not you, tell an admin.`,
          })
          .catch(() => undefined);
      }
      return say(`Linked: ${who} now acts as ${user.displayName}. Your connected accounts work here too.`);
    }
  }
}

/** Approve or Deny of a held call, clicked or typed; the runner checks that the answer is the caller's own. */
async function answer(ctx: CommandContext, callId: string | undefined, approve: boolean): Promise<CommandReply> {
  const verb = approve ? 'approve' : 'deny';
  if (!callId || !/^[A-Za-z0-9-]{1,64}$/.test(callId))
    return say(`Which call? Use: \`/onbehalf ${verb} <call id>\` (the id is in the assistant's private request).`);
  const r = await ctx.services.runner.answerApproval({
    orgId: ctx.org.id,
    userId: ctx.user.id,
    chatIdentity: identityKey(ctx.identity),
    callId,
    approve,
    requestId: ctx.requestId,
  });
  switch (r.kind) {
    case 'approved':
      return say(`Approved: \`${r.server}.${r.tool}\` runs now as you; the assistant continues with its result.`);
    case 'denied':
      return say(`Denied: \`${r.server}.${r.tool}\` will not run, and the assistant is told.`);
    case 'not_yours':
      return say('Only the person the assistant asked can answer this request; nothing was changed.');
    case 'not_waiting':
      return say(
        r.status === 'denied'
          ? 'That call was already denied; nothing more happens.'
          : r.status === 'cancelled'
            ? 'That request expired or was cancelled; ask the assistant again if you still want it.'
            : 'That call was already approved; it runs once.',
      );
    case 'unknown':
      return say(`There is no call ${callId} waiting for your approval.`);
  }
}
