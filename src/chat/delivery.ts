import type { OutMessage } from './types.js';

/** The status message posted where a tool's answer will go; the answer replaces it. */
export function runningPlaceholder(server: string, tool: string): OutMessage {
  return { text: `Running \`${server}.${tool}\`…` };
}

/** The one line the conversation gets when an answer went to the caller only (`--private-results`). */
export function privateAnswerNote(what?: { server: string; tool: string }): OutMessage {
  const of = what ? ` from \`${what.server}.${what.tool}\`` : '';
  return { text: `The answer${of} used the asker's own account, so it was sent to them privately.` };
}

/**
 * What the caller is told, privately, when a private answer's delivery was interrupted (a worker
 * stopped after it began sending): it may have arrived, and it is not sent a second time.
 */
export function privateMaybeDelivered(what: { server: string; tool: string }): OutMessage {
  return {
    text: `Your private answer from \`${what.server}.${what.tool}\` may already have been delivered to you: sending it was interrupted, so it was not sent again. If you do not see it, ask again.`,
  };
}

/** Why an answer arrived somewhere other than the conversation (one line above the answer). */
export function lostReplyNote(reason: string): string {
  return `I could not post in the channel where you asked (${reason}), so here it is privately.`;
}
