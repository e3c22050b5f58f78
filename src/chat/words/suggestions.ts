import type { CatalogTool } from '../../agent/index.js';
import type { Suggestions } from '../types.js';

/** Slack shows at most four suggested prompts. */
const MAX_PROMPTS = 4;

const words = (s: string) => s.replace(/[_-]+/g, ' ').trim();

/** A prompt a person could start from with this tool, or undefined when its name suggests none. */
function promptFor(t: Pick<CatalogTool, 'server' | 'tool'>): { title: string; message: string } | undefined {
  const name = t.tool.toLowerCase();
  const list = /^(?:list|get)_(?:my_)?(\w+?s)$/.exec(name);
  if (list) {
    const noun = words(list[1]!);
    const open = /^(issues|pull requests|prs|tickets|tasks|incidents)$/.test(noun) ? 'open ' : '';
    const title = `List my ${open}${noun}`;
    return { title, message: `${title} (${t.server}).` };
  }
  if (/^(whoami|get_me|me|get_user|current_user)$/.test(name))
    return { title: `Who am I on ${t.server}?`, message: `Who am I on ${t.server}?` };
  const read = /^(?:read|show)_(\w+)$/.exec(name);
  if (read) return { title: `Show my ${words(read[1]!)}`, message: `Show my ${words(read[1]!)} (${t.server}).` };
  const search = /^search_(\w+)$/.exec(name);
  if (search)
    return { title: `Search ${words(search[1]!)}`, message: `Search ${words(search[1]!)} in ${t.server} for ` };
  return undefined;
}

/**
 * Prompts drawn from the caller's own tools ("List my open issues" where a list-issues tool is
 * theirs), at most four, with a last one asking what the assistant can do. (The thread's title
 * comes later, from the person's first message: `words/titles.ts`.)
 */
export function suggestionsFor(tools: Pick<CatalogTool, 'server' | 'tool'>[]): Suggestions {
  const prompts: Suggestions['prompts'] = [];
  for (const t of tools) {
    const p = promptFor(t);
    if (p && !prompts.some((q) => q.title === p.title)) prompts.push(p);
    if (prompts.length === MAX_PROMPTS - 1) break;
  }
  prompts.push({ title: 'What can you do for me?', message: 'Which tools can you use for me, and what does each do?' });
  return { heading: 'Try asking', prompts };
}
