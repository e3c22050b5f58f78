import type { FormField, OutMessage, ReplyTarget, SecretForm } from '../../chat/types.js';

/** Slack's limits (https://api.slack.com/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  /** Section block text. */
  sectionText: 3000,
  /** A message's `text` (Slack truncates beyond it). */
  messageText: 40_000,
  /** Blocks per message. */
  blocksPerMessage: 50,
  /** Button label and URL. */
  buttonLabel: 75,
  buttonUrl: 3000,
  /** Modal title and `private_metadata`. */
  modalTitle: 24,
  privateMetadata: 3000,
} as const;

/** One Web API message body: fallback `text` plus Block Kit `blocks`. */
export interface SlackMessageBody {
  text: string;
  blocks: Record<string, unknown>[];
}

/** The `callback_id` of every secret form modal we open. */
export const FORM_CALLBACK_ID = 'onbehalf_form';
/** `action_id` of a link button (Slack still sends a block action when it is clicked). */
export const LINK_ACTION_ID = 'link';
/** Joins an action's id and its position: Slack wants the action ids of one block distinct. */
const ACTION_SUFFIX = /~\d+$/;
/** The core's action id of a clicked button (`command~1` → `command`). */
export const coreActionId = (slackActionId: string): string => slackActionId.replace(ACTION_SUFFIX, '');
/** Longest button `value` Slack accepts. */
const BUTTON_VALUE = 2000;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
/** Slack's three control characters, escaped so tool output cannot ping `<!channel>` or forge links. */
export const escapeMrkdwn = (s: string): string => s.replace(/[&<>]/g, (c) => ESCAPES[c]!);
const cost = (c: string): number => ESCAPES[c]?.length ?? 1;

/**
 * Splits `text` into pieces whose escaped length is at most `max`, preferring a newline, then a
 * space, in the second half of each piece; never drops a character.
 */
export function splitText(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    let used = 0;
    let end = 0;
    while (end < rest.length && used + cost(rest[end]!) <= max) used += cost(rest[end++]!);
    if (end < rest.length) {
      const window = rest.slice(0, end);
      const nl = window.lastIndexOf('\n');
      const sp = window.lastIndexOf(' ');
      const cut = nl > end / 2 ? nl + 1 : sp > end / 2 ? sp + 1 : end;
      end = cut;
    }
    out.push(rest.slice(0, end));
    rest = rest.slice(end);
  }
  return out.length ? out : [''];
}

const truncate = (s: string, n: number) => (s.length <= n ? s : s.slice(0, n - 1) + '…');

/**
 * Renders a message as one or more Slack message bodies within Slack's limits: section blocks of at
 * most 3,000 chars, at most 39,000 chars of text per message, the link button on the last one.
 */
export function messageBodies(msg: OutMessage): SlackMessageBody[] {
  const perMessage = SLACK_LIMITS.sectionText * 13;
  const bodies: SlackMessageBody[] = splitText(msg.text, perMessage).map((chunk) => {
    const sections = splitText(chunk, SLACK_LIMITS.sectionText).filter((s) => s.length > 0);
    return {
      text: escapeMrkdwn(chunk).slice(0, SLACK_LIMITS.messageText),
      blocks: sections.map((s) => ({ type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(s) } })),
    };
  });
  if (msg.link) {
    const last = bodies[bodies.length - 1]!;
    last.blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: LINK_ACTION_ID,
          style: 'primary',
          text: { type: 'plain_text', text: truncate(msg.link.label, SLACK_LIMITS.buttonLabel) },
          url: msg.link.url,
        },
      ],
    });
    if (!last.text) last.text = msg.link.label;
  }
  if (msg.actions?.length) {
    bodies[bodies.length - 1]!.blocks.push({
      type: 'actions',
      elements: msg.actions.slice(0, 25).map((a, i) => ({
        type: 'button',
        action_id: `${a.id}~${i}`,
        value: a.value.slice(0, BUTTON_VALUE),
        text: { type: 'plain_text', text: truncate(a.label, SLACK_LIMITS.buttonLabel) },
        ...(a.style ? { style: a.style } : {}),
      })),
    });
  }
  if (msg.feedback) bodies[bodies.length - 1]!.blocks.push(feedbackBlock(msg.feedback.turnId));
  return bodies;
}

/** `action_id` of the feedback buttons under an answer. */
export const FEEDBACK_ACTION_ID = 'feedback';

/** Slack's thumbs up / down under an answer (a `context_actions` block of `feedback_buttons`). */
export function feedbackBlock(turnId: string): Record<string, unknown> {
  const button = (text: string, value: string, label: string) => ({
    text: { type: 'plain_text', text },
    value: `${value} ${turnId}`,
    accessibility_label: label,
  });
  return {
    type: 'context_actions',
    elements: [
      {
        type: 'feedback_buttons',
        action_id: FEEDBACK_ACTION_ID,
        positive_button: button('👍', 'up', 'This answer helped'),
        negative_button: button('👎', 'down', 'This answer did not help'),
      },
    ],
  };
}

/** What a form modal carries back to us in `private_metadata`: the form id and where to answer. Ids only. */
export interface FormMetadata {
  formId: string;
  channelId: string;
  threadId?: string;
  isDirect: boolean;
}

/** The modal of a secret form: one masked-by-policy plain text input per field, values come back in `view_submission`. */
export function formView(form: SecretForm, target: ReplyTarget): Record<string, unknown> {
  const meta: FormMetadata = {
    formId: form.formId,
    channelId: target.channelId,
    threadId: target.threadId,
    isDirect: target.isDirect,
  };
  return {
    type: 'modal',
    callback_id: FORM_CALLBACK_ID,
    title: { type: 'plain_text', text: truncate(form.title, SLACK_LIMITS.modalTitle) },
    submit: { type: 'plain_text', text: truncate(form.submit ?? 'Save', 24) },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: JSON.stringify(meta).slice(0, SLACK_LIMITS.privateMetadata),
    blocks: [
      {
        type: 'context',
        elements: [
          {
            type: 'plain_text',
            text: truncate(form.note ?? 'Stored sealed; never shown again in Slack or in logs.', 2000),
          },
        ],
      },
      ...form.fields.slice(0, 50).map(inputBlock),
    ],
  };
}

/** One field as an input block: a select for a closed list, else a text input; its default filled in. */
function inputBlock(f: FormField): Record<string, unknown> {
  const option = (o: { value: string; label: string }) => ({
    text: { type: 'plain_text', text: truncate(o.label, 75) },
    value: o.value.slice(0, 150),
  });
  const initial = f.options?.find((o) => o.value === f.initial);
  const element = f.options
    ? {
        type: 'static_select',
        action_id: 'value',
        options: f.options.slice(0, 100).map(option),
        ...(initial ? { initial_option: option(initial) } : {}),
      }
    : {
        type: 'plain_text_input',
        action_id: 'value',
        ...(f.multiline ? { multiline: true } : {}),
        ...(f.initial !== undefined ? { initial_value: f.initial } : {}),
      };
  return {
    type: 'input',
    block_id: f.id,
    label: { type: 'plain_text', text: truncate(f.label, 2000) },
    ...(f.hint ? { hint: { type: 'plain_text', text: truncate(f.hint, 2000) } } : {}),
    ...(f.required === false || (f.required === undefined && f.hidden === false) ? { optional: true } : {}),
    element,
  };
}

/** The modal shown after a submission (`response_action: update`), saying what happened. */
export function resultView(text: string): Record<string, unknown> {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'onbehalf' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: splitText(text, SLACK_LIMITS.sectionText)
      .slice(0, 10)
      .map((s) => ({ type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(s) } })),
  };
}
