import { newId } from '../db/index.js';
import { identityKey, isExternalMember } from '../identity/index.js';
import type { Logger } from '../log.js';
import { ELICIT_FORM, submitElicitation } from './commands/answer.js';
import { FEEDBACK_ACTION, recordFeedback } from './feedback.js';
import { runCommand, type CommandContext } from './router.js';
import type { ChatServices } from './services.js';
import { providerText } from './words/oauth.js';
import { policyText } from './words/policy.js';
import { suggestionsFor } from './words/suggestions.js';
import type { Ack, ChatInbound, Inbound } from './types.js';
import { SECRET_NAME_PATTERN, SLUG_PATTERN } from '../names.js';
import type { AuditDetail } from '../audit/index.js';

/** Leading `/onbehalf` or `onbehalf` in a plain message turns it into a command. */
const COMMAND_PREFIX = /^\s*\/?onbehalf(\s+|$)/i;

/**
 * In the shell, these words alone on a line are the command (`whoami` means `/onbehalf whoami`).
 * Only there: in Slack and Discord a message "help" is a question for the assistant.
 */
const SHELL_BARE_COMMAND = /^(help|tools|whoami|connections)$/i;

/** What an external member of a shared channel (Slack Connect) is told, and all they get. */
export const EXTERNAL_MEMBER =
  "This workspace's onbehalf serves its own members only; you are a guest from another workspace, so use onbehalf in your own workspace (ask its admins to install it).";

/**
 * The chat core: one `handle` per verified inbound event, whatever the platform. Resolves the
 * caller from the platform identity, runs commands, enqueues agent turns, stores secret forms.
 */
export class ChatCore implements ChatInbound {
  constructor(
    private readonly s: ChatServices,
    private readonly log: Logger,
  ) {}

  async handle(event: Inbound): Promise<Ack> {
    const requestId = event.eventId ?? newId();
    if (isExternalMember(event.identity)) return await this.#external(event, requestId);
    const { org, user } = await this.s.identity.resolve(event.identity);
    const ctx: CommandContext = {
      org,
      user,
      identity: event.identity,
      target: event.target,
      requestId,
      eventId: event.eventId,
      services: this.s,
    };
    const log = this.log.child({ reqId: requestId, kind: event.kind, org: org.id, user: user.id });

    switch (event.kind) {
      case 'command':
        return runCommand(ctx, event.text);
      case 'message': {
        if (COMMAND_PREFIX.test(event.text)) return runCommand(ctx, event.text.replace(COMMAND_PREFIX, ''));
        const text = event.text.trim();
        if (!text) return undefined;
        if (event.identity.platform === 'shell' && SHELL_BARE_COMMAND.test(text))
          return runCommand(ctx, text.toLowerCase());
        if (text.length > 4000)
          return { private: { text: `That message is ${text.length} characters long; the limit is 4000.` } };
        await this.s.runner.enqueueTurn({
          orgId: org.id,
          userId: user.id,
          chatIdentity: identityKey(event.identity),
          text,
          target: event.target,
          requestId,
          eventId: event.eventId,
        });
        log.debug('turn enqueued');
        return undefined;
      }
      case 'button': {
        // Buttons carry a command line (e.g. `connect github`), run as the person who clicked.
        if (event.actionId === 'command') return runCommand(ctx, event.value);
        if (event.actionId === FEEDBACK_ACTION) return await recordFeedback(ctx, event.value);
        return { private: { text: 'That button is no longer valid.' } };
      }
      case 'form_submit': {
        // A server's question during a call: its caller's answer, not an admin form.
        const question = event.formId.match(ELICIT_FORM);
        if (question) return submitElicitation(ctx, question[1]!, event.values);
        return this.#formSubmit(ctx, event.formId, event.values);
      }
      case 'thread_started': {
        // Titled at once (until the person's first message titles it), before the catalog is read.
        if (!event.contextChanged) await this.s.titles?.opened(org.id, event.target);
        const tools = await this.s.policy.catalogFor(org.id, user, event.target.channelId);
        await this.s.outbound.suggest(event.target, suggestionsFor(tools));
        return undefined;
      }
    }
  }

  /**
   * Refuses an external member before anything is provisioned or enqueued: one private line, and
   * an audit event in the host org when it exists (none is created for this).
   */
  async #external(event: Inbound, requestId: string): Promise<Ack> {
    const host = await this.s.identity.orgOf(event.identity.platform, event.identity.workspaceId);
    this.log.info(
      {
        reqId: requestId,
        kind: event.kind,
        workspace: event.identity.workspaceId,
        home: event.identity.homeWorkspaceId,
      },
      'external member of a shared channel refused',
    );
    if (host) {
      await this.s.audit.write({
        orgId: host.id,
        category: 'access',
        action: 'external_member',
        chatIdentity: identityKey(event.identity),
        decision: 'denied',
        outcome: 'external_member',
        requestId,
        detail: { homeWorkspace: event.identity.homeWorkspaceId, kind: event.kind },
      });
    }
    return { private: { text: EXTERNAL_MEMBER } };
  }

  async #formSubmit(
    ctx: CommandContext,
    formId: string,
    values: Extract<Inbound, { kind: 'form_submit' }>['values'],
  ): Promise<Ack> {
    const value = values['value'];
    const say = (text: string): Ack => ({ private: { text } });
    // Forms are admin actions: authorise again on submission, never trust that the form was shown.
    if (ctx.user.role !== 'admin') {
      await this.s.audit.write({
        orgId: ctx.org.id,
        category: 'admin',
        action: 'form.submit',
        actorUserId: ctx.user.id,
        chatIdentity: identityKey(ctx.identity),
        decision: 'denied',
        outcome: 'admins_only',
        requestId: ctx.requestId,
      });
      return say('Only admins can submit that form.');
    }
    const audit = (action: string, ok: boolean, detail: AuditDetail) =>
      this.s.audit.write({
        orgId: ctx.org.id,
        category: 'admin',
        action,
        actorUserId: ctx.user.id,
        chatIdentity: identityKey(ctx.identity),
        decision: 'allowed',
        outcome: ok ? 'ok' : 'refused',
        requestId: ctx.requestId,
        detail,
      });

    const secret = formId.match(new RegExp(`^secret:(org|team|user):([^:]+):(${SECRET_NAME_PATTERN})$`));
    if (secret) {
      if (!value || !value.reveal()) return say('The value was empty; nothing was stored.');
      const [, scope, owner, name] = secret as unknown as [string, 'org' | 'team' | 'user', string, string];
      const r = await this.s.policy.setSecret(ctx.org.id, scope, scope === 'org' ? ctx.org.id : owner, name, value);
      await audit('secret.set', r.ok, { scope, name });
      return say(policyText(r));
    }
    const key = formId.match(new RegExp(`^provider-key:(${SLUG_PATTERN})$`));
    if (key) {
      if (!value || !value.reveal()) return say(`No private key stored for ${key[1]}.`);
      const r = await this.s.oauth.setClientKey(ctx.org.id, key[1]!, value);
      await audit('provider.key', r.ok, { slug: key[1] });
      return say(providerText(r));
    }
    const provider = formId.match(new RegExp(`^provider-secret:(${SLUG_PATTERN})$`));
    if (provider) {
      if (!value || !value.reveal())
        return say(`No client secret stored for ${provider[1]}; it works as a public client (PKCE only).`);
      const r = await this.s.oauth.setClientSecret(ctx.org.id, provider[1]!, value);
      await audit('provider.secret', r.ok, { slug: provider[1] });
      return say(providerText(r));
    }
    return say('That form is no longer valid; run the command again.');
  }
}
