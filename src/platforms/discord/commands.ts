import type { ChatInputCommandInteraction } from 'discord.js';
import { COMMANDS } from '../../chat/index.js';

/** The name of the one application command. */
export const COMMAND_NAME = 'onbehalf';

/** Commands that may answer with a secret form: the adapter asks the core before its first response (a modal must be first). */
export const FORM_COMMANDS: readonly string[] = ['admin secret', 'admin provider'];

/** One word of the router as Discord sees it: a subcommand, with an `args` option when it takes words. */
interface Word {
  word: string;
  usage: string;
  summary: string;
}

const clip = (s: string, n = 100) => (s.length <= n ? s : s.slice(0, n - 1) + '…');

/**
 * The words typed after the subcommand, from the router's usage: the leading word is dropped, and
 * so is its repetition after each `|` (`org invite | org join <code>` reads `invite | join <code>`).
 */
export function argsUsage(w: Pick<Word, 'word' | 'usage'>): string {
  const own = w.usage === w.word || w.usage.startsWith(w.word + ' ') ? w.usage.slice(w.word.length) : ` ${w.usage}`;
  return own
    .split(/\s+\|\s+/)
    .map((alt) => alt.trim().replace(new RegExp(`^${w.word}(\\s+|$)`), ''))
    .filter(Boolean)
    .join(' | ');
}

function subcommand(w: Word) {
  const rest = argsUsage(w);
  return {
    type: 1,
    name: w.word,
    description: clip(w.summary || w.word),
    options: rest
      ? [{ type: 3, name: 'args', description: clip(rest), required: rest.startsWith('<'), max_length: 4000 }]
      : [],
  };
}

/**
 * The `/onbehalf` definition for `PUT /applications/{id}/commands`, built from the router's words
 * (member subcommands, and an `admin` group): the rest of a command line goes in `args`.
 * `default_member_permissions` stays unset: who may run what is decided by our role table, not Discord.
 */
export function onbehalfCommand(words: { member: Word[]; admin: Word[] } = COMMANDS) {
  return {
    name: COMMAND_NAME,
    type: 1,
    description: 'Use tools as yourself: connect accounts, run tools, admin',
    contexts: [0, 1],
    integration_types: [0],
    options: [
      ...words.member.map(subcommand),
      {
        type: 2,
        name: 'admin',
        description: 'Admin commands (authorised by onbehalf roles)',
        options: words.admin.map(subcommand),
      },
    ],
  };
}

/** The shell words of a `/onbehalf` interaction, e.g. `admin secret set org deploy_key`. */
export function commandLine(i: Pick<ChatInputCommandInteraction, 'options'>): string {
  const group = i.options.getSubcommandGroup(false);
  const sub = i.options.getSubcommand(false);
  const args = i.options.getString('args', false);
  return [group, sub, args].filter((w): w is string => Boolean(w?.trim())).join(' ');
}

/** Whether a command line may open a secret form. */
export const mayOpenForm = (line: string): boolean => FORM_COMMANDS.some((c) => line === c || line.startsWith(c + ' '));
