import { looksLikeSecret } from '../parse.js';

/**
 * Longest thread title we set. Slack documents no limit for `assistant.threads.setTitle`, but its
 * History list shows about one short line; a title cut there reads as a sentence cut mid-word.
 */
export const THREAD_TITLE_MAX = 60;

/** An assistant thread's title from when it opens until its person's first message there titles it. */
export const NEW_THREAD_TITLE = 'New chat with onbehalf';

/** What stands in for a word of the message that looks like a credential. */
const HIDDEN = '[hidden]';

/**
 * A thread's title from the first thing its person asked there: one line, mentions of people and
 * groups removed (`<@U123>`, `<!here>`, `@everyone`), channels and links by their names (a bare
 * link by its host, so no query string carries a token into the title), words that look like a
 * credential hidden, at most `THREAD_TITLE_MAX` characters, cut at a word with "…". Undefined when
 * nothing is left to show.
 */
export function threadTitle(text: string): string | undefined {
  const plain = text
    .replace(/<@[!&]?[A-Za-z0-9]+(\|[^>]*)?>/g, ' ')
    .replace(/<![^>]*>/g, ' ')
    .replace(/(^|\s)@(everyone|here|channel)\b/g, ' ')
    .replace(/<#[A-Za-z0-9]+\|([^>]*)>/g, '#$1')
    .replace(/<#[A-Za-z0-9]+>/g, ' ')
    .replace(/<(?:https?|mailto):[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<https?:\/\/([^/|>:]+)[^>]*>/g, '$1')
    .replace(/<mailto:[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  const words = plain
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => (looksLikeSecret(w) ? HIDDEN : w));
  // A message that was nothing but a credential is not worth a title of "[hidden]".
  if (!words.some((w) => w !== HIDDEN)) return undefined;
  const one = words.join(' ');
  if (one.length <= THREAD_TITLE_MAX) return one;
  const cut = one.slice(0, THREAD_TITLE_MAX - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > THREAD_TITLE_MAX / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:!?-]+$/, '')}…`;
}
