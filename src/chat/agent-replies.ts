import type { AgentReply } from '../agent/index.js';
import type { OutMessage } from './types.js';

/** What the agent says, in words. */
export function agentReplyText(r: AgentReply): OutMessage {
  switch (r.kind) {
    case 'answer':
      return { text: r.text || 'Done.' };
    case 'direct_resumed':
      return { text: `\`${r.server}.${r.tool}\` finished: ${r.outcome}` };
    case 'direct_help': {
      const names = r.tools.map((t) => `\`${t.server}.${t.tool}\``);
      const yours = names.length ? `Your tools: ${names.join(', ')}.` : 'No tools are available to you yet.';
      return {
        text:
          'No language model is configured here, so I run tools directly: `/onbehalf run <server>.<tool> <json>`. ' +
          `${yours} \`/onbehalf help\` lists all commands.`,
      };
    }
    case 'llm_failed':
      return {
        text:
          'The language model did not answer, so I could not finish. ' +
          'Try again, or use `/onbehalf run <server>.<tool> <json>`.',
      };
  }
}
