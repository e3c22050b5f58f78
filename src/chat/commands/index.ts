import { adminCommands } from './admin/index.js';
import { answerCommand } from './answer.js';
import { memberCommands as afterHelp } from './member.js';
import type { CommandSpec } from './spec.js';
import { say } from './spec.js';

export { adminCommands } from './admin/index.js';
export type { CommandContext, CommandReply, CommandSpec } from './spec.js';

/** `help`: the member commands, and the admin commands for admins. */
const help: CommandSpec = {
  word: 'help',
  usage: 'help',
  summary: 'this list',
  run: async (ctx) => say(helpText(ctx.user.role === 'admin')),
};

/** The members' commands of `/onbehalf`, in the order help lists them. */
export const memberCommands: CommandSpec[] = [help, ...afterHelp, answerCommand];

/** Help text: member commands, and admin commands for admins. */
export function helpText(isAdmin: boolean): string {
  const lines = [
    '*onbehalf* — use tools as yourself. Commands:',
    ...memberCommands.map((c) => `• \`/onbehalf ${c.usage}\` — ${c.summary}`),
  ];
  if (isAdmin) lines.push('Admin:', ...adminCommands.map((c) => `• \`/onbehalf admin ${c.usage}\` — ${c.summary}`));
  return lines.join('\n');
}
