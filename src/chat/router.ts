import { identityKey } from '../identity/index.js';
import { CommandInputError, looksLikeSecret, nearest, tokenize } from './parse.js';
import { adminCommands, helpText, memberCommands } from './commands/index.js';
import { fileOwned } from './commands/admin/declared.js';
import { say, type CommandContext, type CommandReply } from './commands/spec.js';

export type { CommandContext, CommandReply, CommandSpec } from './commands/spec.js';
export { helpText } from './commands/index.js';

/** The words of `/onbehalf`, in one place (the Discord command registration mirrors these). */
export const COMMANDS = {
  member: memberCommands.map((c) => ({ word: c.word, usage: c.usage, summary: c.summary })),
  admin: adminCommands.map((c) => ({ word: c.word, usage: c.usage, summary: c.summary })),
};

/** Text after the first `n` words of `line` (keeps the JSON of `run` intact). */
function afterWords(line: string, n: number): string {
  let rest = line.trimStart();
  for (let i = 0; i < n; i++) rest = rest.replace(/^("(?:[^"\\]|\\.)*"|'[^']*'|\S+)\s*/, '');
  return rest;
}

/**
 * Runs one `/onbehalf …` line for a resolved caller. Every refusal is one line naming what was
 * wrong and the right form; admin commands are authorised here, by our own role table, every time.
 */
export async function runCommand(ctx: CommandContext, line: string): Promise<CommandReply> {
  let words: string[];
  try {
    words = tokenize(line);
  } catch (err) {
    if (err instanceof CommandInputError) return say(err.message);
    throw err;
  }
  if (words.length === 0) return say(helpText(ctx.user.role === 'admin'));
  const isSecretCommand = words[0] === 'admin' && words[1] === 'secret';
  if (looksLikeSecret(line)) {
    return say(
      isSecretCommand
        ? 'Never type a secret value in a command. Use `/onbehalf admin secret set org|team|user <name>` with no value: a private form opens for it.'
        : 'That looks like a secret or token, so it was not run. Secrets go only in the private form of `/onbehalf admin secret set`.',
    );
  }

  const [first, ...rest] = words;
  if (first === 'admin') {
    const sub = rest[0];
    const spec = adminCommands.find((c) => c.word === sub);
    if (!sub || !spec) {
      const hint = sub
        ? nearest(
            sub,
            adminCommands.map((c) => c.word),
          )
        : undefined;
      return say(
        `${sub ? `Unknown admin command "${sub}".` : 'Which admin command?'}${hint ? ` Did you mean \`/onbehalf admin ${hint}\`?` : ''} Admin commands: ${adminCommands.map((c) => c.word).join(', ')}.`,
      );
    }
    if (ctx.user.role !== 'admin') {
      await ctx.services.audit.write({
        orgId: ctx.org.id,
        category: 'admin',
        action: `${spec.word}.${rest[1] ?? ''}`.replace(/\.$/, ''),
        actorUserId: ctx.user.id,
        chatIdentity: identityKey(ctx.identity),
        decision: 'denied',
        outcome: 'admins_only',
        requestId: ctx.requestId,
      });
      return say(`\`/onbehalf admin ${spec.word}\` is for admins only. Ask an admin of this workspace if you need it.`);
    }
    const owned = await fileOwned(ctx, spec.word, rest.slice(1));
    if (owned) return owned;
    return spec.run(ctx, rest.slice(1), afterWords(line, 2));
  }
  const spec = memberCommands.find((c) => c.word === first);
  if (!spec) {
    const hint = nearest(first!, [...memberCommands.map((c) => c.word), 'admin']);
    return say(
      `Unknown command "${first}".${hint ? ` Did you mean \`/onbehalf ${hint}\`?` : ''} Type \`/onbehalf help\` for the list.`,
    );
  }
  return spec.run(ctx, rest, afterWords(line, 1));
}
