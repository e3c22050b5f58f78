import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  Partials,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type Message,
  type ModalSubmitInteraction,
  type RepliableInteraction,
} from 'discord.js';
import { CoreSlot } from '../../chat/platform.js';
import type { Secret } from '../../crypto/index.js';
import type { Logger } from '../../log.js';
import type { Ack, ChatInbound, Inbound } from '../../chat/types.js';
import type { GuildAdmins } from './admins.js';
import { COMMAND_NAME, commandLine, mayOpenForm } from './commands.js';
import { DISCORD_API_DEFAULT, DiscordOutbound, INTERACTION_TOKEN_TTL_MS } from './outbound.js';
import { FormParts, submittedValues } from './parts.js';
import {
  COMMAND_BUTTON_PREFIX,
  FORM_BUTTON_PREFIX,
  MODAL_PREFIX,
  formButtonRow,
  messageBodies,
  type DiscordMessageBody,
} from './render.js';
import { nickOf, placeOf, type Origin, type Place } from './translate.js';

/** Options of the Discord gateway adapter. */
export interface DiscordGatewayOptions {
  token: Secret;
  applicationId: string;
  log: Logger;
  /** REST base (`DISCORD_API_URL`); the gateway URL comes from its `/gateway/bot`. Default `https://discord.com/api`. */
  apiUrl?: string;
  /** Sender for follow-ups; default one built from token and apiUrl (sharing this adapter's form table). */
  outbound?: DiscordOutbound;
  /** Request the privileged MessageContent intent (`DISCORD_MESSAGE_CONTENT`). Default false: mentions and DMs still carry text. */
  messageContent?: boolean;
  /** Promote guild Administrators / Manage Guild members (`DISCORD_ADMINS_FROM_GUILD`). Default off. */
  guildAdmins?: GuildAdmins;
  /** How long a command that may open a form waits for the core before deferring. Default 2000 ms (Discord allows 3 s). */
  formBudgetMs?: number;
  /** How long `start()` waits for the gateway to become ready. Default 30000 ms. */
  readyTimeoutMs?: number;
}

const EPHEMERAL = MessageFlags.Ephemeral;

/** A REST message body as discord.js reply options (raw component JSON is accepted as is). */
const asOptions = (b: DiscordMessageBody) => ({
  content: b.content,
  components: (b.components ?? []) as never[],
  allowedMentions: { parse: [] },
});
const SORRY = 'That did not work on our side. Try again in a moment.';

/**
 * Receives from Discord through a discord.js gateway client and translates: mentions and DMs
 * become `message`, `/onbehalf` becomes `command`, buttons `button`, modal submits `form_submit`
 * (values wrapped in `Secret`). Interactions are answered inside Discord's 3 s window: deferred
 * at once, or, for commands that may open a secret form, answered with the modal when the core
 * says so. The core decides everything else.
 */
export class DiscordGateway {
  readonly client: Client;
  readonly outbound: DiscordOutbound;
  readonly #o: DiscordGatewayOptions;
  readonly #core = new CoreSlot('discord');
  readonly #parts: FormParts;

  constructor(opts: DiscordGatewayOptions) {
    this.#o = opts;
    const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages];
    if (opts.messageContent) intents.push(GatewayIntentBits.MessageContent);
    const api = opts.apiUrl ?? DISCORD_API_DEFAULT;
    this.client = new Client({ intents, partials: [Partials.Channel], rest: { api, version: '10' } });
    this.outbound =
      opts.outbound ?? new DiscordOutbound({ token: opts.token, applicationId: opts.applicationId, apiUrl: api });
    this.#parts = new FormParts(this.outbound.forms);
    this.client.on(Events.InteractionCreate, (i) => void this.#onInteraction(i));
    this.client.on(Events.MessageCreate, (m) => void this.#onMessage(m));
    this.client.on(Events.ShardResume, (_id, replayed) => opts.log.info({ replayed }, 'discord gateway resumed'));
    this.client.on(Events.ShardDisconnect, (e) => opts.log.warn({ closeCode: e.code }, 'discord gateway disconnected'));
    this.client.on(Events.Error, (err) => opts.log.warn({ err: err.message }, 'discord client error'));
  }

  /** Logs in and resolves once the client is ready (every guild received); events go to `core`. */
  async start(core: ChatInbound): Promise<void> {
    this.#core.bind(core);
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error('Discord gateway did not become ready in time')),
        this.#o.readyTimeoutMs ?? 30_000,
      );
      this.client.once(Events.ClientReady, () => resolve());
    });
    try {
      await Promise.all([this.client.login(this.#o.token.reveal()), ready]);
    } finally {
      clearTimeout(timer);
    }
    this.#o.log.info({ guilds: this.client.guilds.cache.size, user: this.client.user?.id }, 'discord gateway ready');
  }

  /** Closes the gateway connection. */
  async stop(): Promise<void> {
    await this.client.destroy();
  }

  async #onInteraction(i: Interaction): Promise<void> {
    try {
      if (i.isChatInputCommand() && i.commandName === COMMAND_NAME) await this.#command(i);
      else if (i.isButton()) await this.#button(i);
      else if (i.isModalSubmit()) await this.#modal(i);
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message, interaction: i.id }, 'discord interaction failed');
      if (i.isRepliable()) await this.#say(i, SORRY).catch(() => undefined);
    }
  }

  #origin(i: RepliableInteraction): Origin {
    return {
      guildId: i.guildId,
      channelId: i.channelId!,
      isThread: Boolean(i.channel?.isThread()),
      user: i.user,
      nick: nickOf(i.member),
      interaction: { id: i.id, token: i.token, expiresAt: i.createdTimestamp + INTERACTION_TOKEN_TTL_MS },
    };
  }

  async #place(i: RepliableInteraction): Promise<Place> {
    const place = await placeOf(this.client, this.#origin(i));
    if (place.ok && i.inGuild()) await this.#o.guildAdmins?.promote(place.identity, i.memberPermissions);
    return place;
  }

  async #command(i: ChatInputCommandInteraction): Promise<void> {
    const text = commandLine(i);
    if (mayOpenForm(text)) {
      const place = await this.#place(i);
      if (!place.ok) return void (await i.reply({ content: place.text, flags: EPHEMERAL }));
      const handled = this.#handle({
        kind: 'command',
        identity: place.identity,
        target: place.target,
        text,
        triggerId: i.id,
        eventId: i.id,
      });
      const early = await Promise.race([
        handled,
        new Promise<'late'>((r) => setTimeout(() => r('late'), this.#o.formBudgetMs ?? 2000).unref()),
      ]);
      if (early !== 'late') return this.#firstResponse(i, early);
      await i.deferReply({ flags: EPHEMERAL });
      return this.#finish(i, await handled);
    }
    // Everything else is deferred before any work, so a slow database or Redis never misses the 3 s window.
    await i.deferReply({ flags: EPHEMERAL });
    const place = await this.#place(i);
    if (!place.ok) return void (await i.editReply({ content: place.text }));
    await this.#finish(
      i,
      await this.#handle({
        kind: 'command',
        identity: place.identity,
        target: place.target,
        text,
        triggerId: i.id,
        eventId: i.id,
      }),
    );
  }

  async #button(i: ButtonInteraction): Promise<void> {
    const formId = this.outbound.forms.decode(FORM_BUTTON_PREFIX, i.customId);
    if (formId)
      return void (await i.showModal(this.#parts.modalFor(this.outbound.forms.form(formId), i.user.id) as never));
    const part = this.#parts.next(i.customId, i.user.id);
    if (part) return void (await ('modal' in part ? i.showModal(part.modal as never) : this.#say(i, part.text)));
    if (!i.customId.startsWith(COMMAND_BUTTON_PREFIX)) return;
    await i.deferReply({ flags: EPHEMERAL });
    const place = await this.#place(i);
    if (!place.ok) return void (await i.editReply({ content: place.text }));
    const value = i.customId.slice(COMMAND_BUTTON_PREFIX.length);
    await this.#finish(
      i,
      await this.#handle({
        kind: 'button',
        identity: place.identity,
        target: place.target,
        actionId: 'command',
        value,
        eventId: i.id,
      }),
    );
  }

  async #modal(i: ModalSubmitInteraction): Promise<void> {
    let values = submittedValues(i);
    // A part of a longer form is kept until its last part, which sends them all as one.
    const part = this.#parts.submit(i.customId, i.user.id, values);
    if (part?.kind === 'say') return this.#say(i, part.text);
    if (part?.kind === 'next')
      return void (await i.reply({ content: part.text, components: part.components as never[], flags: EPHEMERAL }));
    const formId = part?.formId ?? this.outbound.forms.decode(MODAL_PREFIX, i.customId);
    if (!formId) return;
    values = part?.values ?? values;
    await i.deferReply({ flags: EPHEMERAL });
    const place = await this.#place(i);
    if (!place.ok) return void (await i.editReply({ content: place.text }));
    await this.#finish(
      i,
      await this.#handle({
        kind: 'form_submit',
        identity: place.identity,
        target: place.target,
        formId,
        values,
        eventId: i.id,
      }),
    );
  }

  /** The first (and only) response when the core answered in time: the modal, or the private message. */
  async #firstResponse(i: ChatInputCommandInteraction, ack: Ack): Promise<void> {
    if (ack?.form) return void (await i.showModal(this.#parts.modalFor(ack.form, i.user.id) as never));
    const [first, ...rest] = messageBodies(ack?.private ?? { text: 'Done.' });
    await i.reply({ ...asOptions(first!), flags: EPHEMERAL });
    for (const body of rest) await i.followUp({ ...asOptions(body), flags: EPHEMERAL });
  }

  /** Fills the deferred reply with the core's answer; a late form becomes a button that opens it. */
  async #finish(i: RepliableInteraction, ack: Ack): Promise<void> {
    if (!ack?.private && !ack?.form) return void (await i.deleteReply().catch(() => undefined));
    const components = ack.form
      ? [formButtonRow(ack.form, this.outbound.forms.encode(FORM_BUTTON_PREFIX, ack.form))]
      : [];
    const [first, ...rest] = messageBodies(ack.private ?? { text: ack.form!.title }, { components });
    await i.editReply(asOptions(first!));
    for (const body of rest) await i.followUp({ ...asOptions(body), flags: EPHEMERAL });
  }

  async #say(i: RepliableInteraction, content: string): Promise<void> {
    if (i.deferred || i.replied) await i.editReply({ content, components: [] });
    else await i.reply({ content, flags: EPHEMERAL });
  }

  async #handle(event: Inbound): Promise<Ack> {
    return this.#core.handle(event);
  }

  async #onMessage(m: Message): Promise<void> {
    const me = this.client.user;
    if (!me || m.author.bot || m.webhookId) return;
    const direct = !m.inGuild();
    if (!direct && !m.mentions.users.has(me.id)) return;
    const text = m.content.replace(new RegExp(`<@!?${me.id}>`, 'g'), '').trim();
    try {
      const place = await placeOf(this.client, {
        guildId: m.guildId,
        channelId: m.channelId,
        isThread: m.channel.isThread(),
        user: m.author,
        nick: nickOf(m.member),
        messageId: m.id,
      });
      if (!place.ok)
        return void (await this.outbound.reply(
          {
            platform: 'discord',
            workspaceId: '',
            channelId: m.channelId,
            userId: m.author.id,
            isDirect: true,
            messageId: m.id,
          },
          { text: place.text },
        ));
      if (!direct) await this.#o.guildAdmins?.promote(place.identity, m.member?.permissions);
      const ack = await this.#handle({
        kind: 'message',
        identity: place.identity,
        target: place.target,
        text,
        eventId: m.id,
      });
      if (ack?.private) await this.outbound.replyPrivately(place.target, ack.private);
      if (ack?.form) await this.outbound.openSecretForm(place.target, ack.form);
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message, message: m.id }, 'discord message failed');
    }
  }
}
