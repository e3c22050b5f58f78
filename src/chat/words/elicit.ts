import type { ElicitAnswerResult, ElicitationPrompt } from '../../runner/index.js';
import type { OutMessage } from '../types.js';

/** "within 25 seconds" / "within 4 minute(s)": how long a question waits. */
const within = (expiresAt: number): string => {
  const s = Math.max(1, Math.round((expiresAt - Date.now()) / 1000));
  return s < 120 ? `within ${s} seconds` : `within ${Math.round(s / 60)} minutes`;
};

/** The host name of a URL as a person should check it, or the raw text when it does not parse. */
export const domainOf = (url: string): string => {
  try {
    return new URL(url).hostname;
  } catch {
    return url.slice(0, 100);
  }
};

/** An MCP server's question during a call, to its caller only: a form to open, or a URL to visit. */
export function elicitationPrompt(call: { server: string; tool: string }, p: ElicitationPrompt): OutMessage {
  const quoted = p.message ? `\n> ${p.message.replace(/\n/g, '\n> ')}` : '';
  if (p.mode === 'url') {
    const domain = domainOf(p.url ?? '');
    const lead = [
      `\`${call.server}.${call.tool}\` asks you to open a page on *${domain}* (only you can see this):${quoted}`,
      `Full address: ${p.url}`,
    ];
    const link = { label: `Open ${domain}`.slice(0, 75), url: p.url ?? '' };
    if (p.announceOnly)
      return {
        text: [
          ...lead,
          `onbehalf has not opened it. Check that you expect ${domain} before you do; the call continues once the server sees you finished there.`,
        ].join('\n'),
        link,
      };
    return {
      text: [
        ...lead,
        `onbehalf has not opened it. Check that you expect ${domain}, then answer ${within(p.expiresAt)}: Go ahead tells the server you will open it, Decline that you will not. Typed: \`/onbehalf answer ${p.id}\` (or add \`decline\`).`,
      ].join('\n'),
      link,
      actions: [
        { id: 'command', value: `answer ${p.id}`, label: 'Go ahead', style: 'primary' },
        { id: 'command', value: `answer ${p.id} decline`, label: 'Decline', style: 'danger' },
      ],
    };
  }
  return {
    text: [
      `\`${call.server}.${call.tool}\` asks you for some details (only you can see this; the assistant never sees what you type):${quoted}`,
      `Answer ${within(p.expiresAt)}, or it is cancelled. Typed: \`/onbehalf answer ${p.id}\` (or add \`decline\` or \`cancel\`).`,
    ].join('\n'),
    actions: [
      { id: 'command', value: `answer ${p.id}`, label: 'Answer', style: 'primary' },
      { id: 'command', value: `answer ${p.id} decline`, label: 'Decline', style: 'danger' },
      { id: 'command', value: `answer ${p.id} cancel`, label: 'Cancel' },
    ],
  };
}

/** The one line for answering a question that is not the person's own. */
export const NOT_YOUR_QUESTION = 'Only the person whose call asked this can answer it; nothing was sent.';
/** Answered already, lapsed, or unknown. */
export const QUESTION_GONE = 'That question was already answered, or it lapsed with its call; nothing was sent.';

/** What the person is told after answering. */
export function answeredText(r: ElicitAnswerResult): string {
  if (r.kind === 'not_yours') return NOT_YOUR_QUESTION;
  if (r.kind === 'not_waiting') return QUESTION_GONE;
  const what = `\`${r.pending.server}.${r.pending.tool}\``;
  const url = r.pending.mode === 'url';
  if (r.action === 'accept' && url)
    return `Told ${what} you will open the page; the call goes on, and its answer follows in the conversation.`;
  if (r.action === 'accept') return `Sent to ${what}; its answer follows in the conversation.`;
  if (r.action === 'decline' && url) return `Declined: ${what} was told you will not open the page.`;
  if (r.action === 'decline') return `Declined: ${what} was told you will not give these details.`;
  return `Cancelled: ${what} was told you did not answer.`;
}

/** A submission that does not fit the form: what to fix (never a value), and how to open it again. */
export const answerProblems = (id: string, problems: string[]): string =>
  `Not sent: ${problems.join(' ')} Open the form again with Answer (or \`/onbehalf answer ${id}\`).`;
