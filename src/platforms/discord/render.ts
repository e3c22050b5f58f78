import type { OutMessage, SecretForm } from '../../chat/types.js';

/** Discord's limit on a message's `content`. */
export const DISCORD_MESSAGE_LIMIT = 2000;

/** Custom id prefix of a button that opens a secret form (`obf:<formId>`). */
export const FORM_BUTTON_PREFIX = 'obf:';
/** Custom id prefix of a button that runs a command line as the clicker (`obc:<line>`). */
export const COMMAND_BUTTON_PREFIX = 'obc:';
/** Custom id prefix of a secret form modal (`obm:<formId>`). */
export const MODAL_PREFIX = 'obm:';

/** A message body for the REST API (message create/edit, webhook execute/edit, interaction reply). */
export interface DiscordMessageBody {
  content: string;
  components?: unknown[];
  flags?: number;
  /**
   * Tool output must not ping anyone: no @everyone, roles or users are resolved. `users`: the one
   * caller a late reply is addressed to (see `addressedTo`).
   */
  allowed_mentions: { parse: never[]; users?: string[] };
  message_reference?: { message_id: string; fail_if_not_exists: false };
}

/**
 * Splits text into pieces of at most `limit` characters, preferring line breaks, then spaces,
 * so a long reply becomes several messages instead of a failed request (SECURITY 24).
 */
export function splitText(text: string, limit = DISCORD_MESSAGE_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    let cut = window.lastIndexOf('\n');
    if (cut < limit / 2) cut = window.lastIndexOf(' ');
    if (cut < limit / 2) cut = limit;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[\n ]/, '');
  }
  parts.push(rest);
  return parts.filter((p, i) => p.length > 0 || i === 0);
}

const linkRow = (link: NonNullable<OutMessage['link']>) => ({
  type: 1,
  components: [{ type: 2, style: 5, label: link.label.slice(0, 80), url: link.url }],
});

/** Action buttons (at most 5 to a row): a `command` action clicks back as `obc:<command line>`. */
const actionRow = (actions: NonNullable<OutMessage['actions']>) => ({
  type: 1,
  components: actions.slice(0, 5).map((a) => ({
    type: 2,
    style: a.style === 'danger' ? 4 : a.style === 'primary' ? 3 : 2,
    label: a.label.slice(0, 80),
    custom_id: `${COMMAND_BUTTON_PREFIX}${a.value}`.slice(0, 100),
  })),
});

/** The message bodies for one OutMessage: text split at 2,000 chars, the link and action buttons on the last. */
export function messageBodies(
  msg: OutMessage,
  opts: { ephemeral?: boolean; components?: unknown[] } = {},
): DiscordMessageBody[] {
  const parts = splitText(msg.text || ' ');
  return parts.map((content, i) => {
    const last = i === parts.length - 1;
    const actions = msg.actions?.length ? [actionRow(msg.actions)] : [];
    const components = last ? [...(msg.link ? [linkRow(msg.link)] : []), ...actions, ...(opts.components ?? [])] : [];
    return {
      content,
      ...(components.length ? { components } : {}),
      ...(opts.ephemeral ? { flags: 64 } : {}),
      allowed_mentions: { parse: [] },
    };
  });
}

/** An action row with one button (custom id `customId`) that opens a secret form when clicked. */
export function formButtonRow(form: SecretForm, customId: string): unknown {
  return {
    type: 1,
    components: [{ type: 2, style: 1, label: `Open private form: ${form.title}`.slice(0, 80), custom_id: customId }],
  };
}

/** Discord's most text inputs in one modal. */
export const MODAL_FIELDS = 5;

/**
 * A modal for a form: one short text input per field, its default filled in and its hint as the
 * placeholder. Discord holds five inputs: a longer form is shown in parts (parts.ts), each part
 * a form of its own five fields.
 */
export function modalBody(
  form: SecretForm,
  customId: string,
): { custom_id: string; title: string; components: unknown[] } {
  return {
    custom_id: customId,
    title: form.title.slice(0, 45),
    components: form.fields.slice(0, MODAL_FIELDS).map((f) => ({
      type: 1,
      components: [
        {
          type: 4,
          custom_id: f.id,
          label: f.label.slice(0, 45),
          // 2: a paragraph input (several lines), 1: a short one.
          style: f.multiline ? 2 : 1,
          required: f.required === true && f.initial === undefined,
          max_length: 4000,
          ...(f.initial !== undefined ? { value: f.initial.slice(0, 4000) } : {}),
          ...(f.hint ? { placeholder: f.hint.slice(0, 100) } : {}),
        },
      ],
    })),
  };
}

/**
 * A reply addressed to its caller: their mention leads the first piece (split again should the
 * mention push it past 2,000 characters), and `allowed_mentions` lets that one user be pinged
 * (nobody else, whatever the text holds). Used where the interaction that showed whose command
 * it answers has expired and the reply is a plain channel message.
 */
export function addressedTo(bodies: DiscordMessageBody[], userId: string): DiscordMessageBody[] {
  const [first, ...rest] = bodies;
  if (!first) return bodies;
  const allowed_mentions = { parse: [] as never[], users: [userId] };
  const parts = splitText(`<@${userId}> ${first.content}`);
  const lead = parts.slice(0, -1).map((content) => ({ content, allowed_mentions }));
  return [...lead, { ...first, content: parts[parts.length - 1]!, allowed_mentions }, ...rest];
}

/** The line that pings the caller when their answer replaced an earlier message (an edit pings nobody). */
export function answerReadyBody(userId: string, answerId: string): DiscordMessageBody {
  const [body] = addressedTo(
    [{ content: 'your command has finished: see the message this replies to.', allowed_mentions: { parse: [] } }],
    userId,
  );
  return { ...body!, message_reference: { message_id: answerId, fail_if_not_exists: false } };
}
