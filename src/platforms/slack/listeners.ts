import type { App as BoltApp } from '@slack/bolt';
import type { Ack, ChatInbound, Inbound, OutMessage, ReplyTarget } from '../../chat/types.js';
import type { Logger } from '../../log.js';
import type { WorkspaceAdmins } from './admins.js';
import type { SlackProfiles } from './profiles.js';
import { RecentEvents } from './dedupe.js';
import type { SlackOutbound } from './outbound.js';
import { FORM_CALLBACK_ID, LINK_ACTION_ID, messageBodies, resultView } from './render.js';
import { fromAssistantThread, fromBlockAction, fromCommand, fromEvent, fromViewSubmission } from './translate.js';

/** What the listeners need. */
export interface ListenerDeps {
  inbound: ChatInbound;
  outbound: SlackOutbound;
  log: Logger;
  /** Set when SLACK_ADMINS_FROM_WORKSPACE=true. */
  admins?: WorkspaceAdmins;
  /** Fills each caller's Slack names (users.info, team.info) and stores reported changes. */
  profiles?: SlackProfiles;
  /** Called on `app_uninstalled` / `tokens_revoked` (multi-workspace mode). */
  onUninstall?: (teamId: string) => Promise<unknown>;
  /** How long a command/button/form waits for the chat core's answer to put it in the ack. Default 2000 ms. */
  answerDeadlineMs?: number;
  recent?: RecentEvents;
}

const SORRY: OutMessage = { text: 'Something went wrong on our side; please try again in a moment.' };
const FORM_EXPIRED: OutMessage = { text: 'That took too long to open the form; please run the command again.' };

type Raced<T> = { kind: 'done'; value: T } | { kind: 'failed'; err: unknown } | { kind: 'timeout'; later: Promise<T> };

async function within<T>(p: Promise<T>, ms: number): Promise<Raced<T>> {
  let timer: NodeJS.Timeout | undefined;
  const settled = p.then(
    (value) => ({ kind: 'done' as const, value }),
    (err: unknown) => ({ kind: 'failed' as const, err }),
  );
  const late = new Promise<Raced<T>>(
    (resolve) => (timer = setTimeout(() => resolve({ kind: 'timeout', later: p }), ms)),
  );
  const r = await Promise.race([settled, late]);
  clearTimeout(timer);
  return r;
}

/** What each listener shares: the core call (admins promoted first), delivery outside the ack, the deadline. */
interface Ctx {
  deps: ListenerDeps;
  log: Logger;
  answerMs: number;
  handle(event: Inbound): Promise<Ack>;
  /** Renders an Ack outside the HTTP ack: private text via the Web API, a form with the trigger id. */
  deliver(target: ReplyTarget, ack: Ack, triggerId: string | undefined): Promise<void>;
}

/**
 * Registers the Slack listeners on a Bolt app. They only translate: each verified payload becomes
 * one `Inbound` for the chat core, and its `Ack` is rendered (in the HTTP ack when it is ready in
 * time, else through the Web API). They never decide what a message means.
 */
export function registerListeners(app: BoltApp, deps: ListenerDeps): void {
  const { inbound, outbound, log } = deps;
  const ctx: Ctx = {
    deps,
    log,
    answerMs: deps.answerDeadlineMs ?? 2000,
    handle: async (event) => {
      const named: Inbound = deps.profiles ? { ...event, identity: await deps.profiles.fill(event.identity) } : event;
      await deps.admins?.promote(named.identity);
      return inbound.handle(named);
    },
    deliver: async (target, ack, triggerId) => {
      try {
        if (ack?.private) await outbound.replyPrivately(target, ack.private);
        if (ack?.form) {
          await outbound.openSecretForm(target, ack.form, triggerId).catch(async (err: unknown) => {
            log.warn({ err: (err as Error).message }, 'could not open the secret form');
            await outbound.replyPrivately(target, FORM_EXPIRED);
          });
        }
      } catch (err) {
        log.warn({ err: (err as Error).message, channel: target.channelId }, 'could not deliver the answer to Slack');
      }
    },
  };
  onEvents(app, ctx, deps.recent ?? new RecentEvents());
  onCommand(app, ctx);
  onAction(app, ctx);
  onFormSubmit(app, ctx);
}

/** Mentions and DMs (each delivery once), and uninstalls. */
function onEvents(app: BoltApp, ctx: Ctx, recent: RecentEvents): void {
  const once = async (event: Inbound | undefined) => {
    if (!event) return;
    // Redelivered events run once; a failure propagates so the receiver answers 500 and Slack retries.
    await recent.once(`${event.identity.workspaceId}:${event.eventId}`, async () => {
      const ack = await ctx.handle(event);
      void ctx.deliver(event.target, ack, undefined);
    });
  };
  app.event('app_mention', ({ body }) => once(fromEvent(body)));
  app.event('message', ({ body }) => once(fromEvent(body)));
  // Slack's assistant surface: a thread opened beside the person's view, or that view changed.
  app.event('assistant_thread_started', ({ body }) => once(fromAssistantThread(body)));
  app.event('assistant_thread_context_changed', ({ body }) => once(fromAssistantThread(body)));
  app.event('user_change', async ({ body }) => ctx.deps.profiles?.userChanged(body));
  app.event('team_rename', async ({ body }) => ctx.deps.profiles?.teamRenamed(body));

  for (const name of ['app_uninstalled', 'tokens_revoked'] as const) {
    app.event(name, async ({ body }) => {
      const teamId = (body as { team_id?: string }).team_id;
      if (!teamId || !ctx.deps.onUninstall) return;
      if (
        name === 'tokens_revoked' &&
        !(body as { event?: { tokens?: { bot?: string[] } } }).event?.tokens?.bot?.length
      )
        return;
      await ctx.deps.onUninstall(teamId);
      ctx.log.info(
        { team: teamId, event: name },
        'Slack workspace uninstalled or its bot token revoked: token removed',
      );
    });
  }
}

/** `/onbehalf …`: the answer in the ack when it is ready in time, else through the Web API. */
function onCommand(app: BoltApp, ctx: Ctx): void {
  const { log, deliver } = ctx;
  app.command(/^\/onbehalf/, async ({ body, ack }) => {
    const t = fromCommand(body);
    if (!t) return ack();
    const r = await within(ctx.handle(t.inbound), ctx.answerMs);
    if (r.kind === 'failed') {
      log.error({ err: (r.err as Error)?.message }, 'the chat core failed a slash command');
      return ack({ response_type: 'ephemeral', text: SORRY.text });
    }
    if (r.kind === 'timeout') {
      await ack();
      void r.later.then(
        (a) => deliver(t.inbound.target, a, t.inbound.triggerId),
        () => deliver(t.inbound.target, { private: SORRY }, undefined),
      );
      return;
    }
    // The answer is ready: it goes in the ack (shown only to the caller); extra parts and a form follow.
    const [first, ...rest] = r.value?.private ? messageBodies(r.value.private) : [];
    await ack(first ? { response_type: 'ephemeral', ...first } : undefined);
    for (const body of rest)
      await ctx.deps.outbound.replyPrivately(t.inbound.target, { text: body.text }).catch(() => {});
    if (r.value?.form) await deliver(t.inbound.target, { form: r.value.form }, t.inbound.triggerId);
  });
}

/** Button clicks (link buttons need nothing). */
function onAction(app: BoltApp, ctx: Ctx): void {
  app.action(/.*/, async ({ body, ack, action }) => {
    await ack();
    if ((action as { action_id?: string }).action_id === LINK_ACTION_ID) return;
    const t = fromBlockAction(body);
    if (!t) return;
    try {
      await ctx.deliver(t.inbound.target, await ctx.handle(t.inbound), t.triggerId);
    } catch (err) {
      ctx.log.error({ err: (err as Error)?.message }, 'the chat core failed a button click');
      await ctx.deliver(t.inbound.target, { private: SORRY }, undefined);
    }
  });
}

/** A secret form's submission: its result replaces the modal when ready in time. */
function onFormSubmit(app: BoltApp, ctx: Ctx): void {
  app.view(FORM_CALLBACK_ID, async ({ body, ack: boltAck }) => {
    // Our views are plain Block Kit objects; Bolt's View type is stricter than what we build.
    const ack = boltAck as unknown as (response?: unknown) => Promise<void>;
    const event = fromViewSubmission(body);
    if (!event) return ack();
    const r = await within(ctx.handle(event), ctx.answerMs);
    if (r.kind === 'failed') {
      ctx.log.error({ err: (r.err as Error)?.message }, 'the chat core failed a form submission');
      const block = Object.keys(event.values)[0] ?? 'value';
      return ack({
        response_action: 'errors',
        errors: { [block]: 'Not saved: something went wrong on our side. Try again in a moment.' },
      });
    }
    if (r.kind === 'timeout') {
      await ack({ response_action: 'update', view: resultView('Saving… you will get a message when it is done.') });
      void r.later.then(
        (a) => ctx.deliver(event.target, a, undefined),
        () => ctx.deliver(event.target, { private: SORRY }, undefined),
      );
      return;
    }
    await ack(r.value?.private ? { response_action: 'update', view: resultView(r.value.private.text) } : undefined);
  });
}
