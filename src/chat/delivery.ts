import type { OutMessage } from './types.js';

/** The status message posted where a tool's answer will go; the answer replaces it. */
export function runningPlaceholder(server: string, tool: string): OutMessage {
  return { text: `Running \`${server}.${tool}\`…` };
}

/** Why an answer arrived somewhere other than the conversation (one line above the answer). */
export function lostReplyNote(reason: string): string {
  return `I could not post in the channel where you asked (${reason}), so here it is privately.`;
}
