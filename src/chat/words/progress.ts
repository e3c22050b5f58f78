import type { ProgressCall, RunsAs, ToolAccount, TurnProgress } from '../../agent/index.js';

/** One account, as a person reads it: "@alice's github (alice-gh)", "the org's secret deploy-key". */
function accountText(person: string, a: ToolAccount): string {
  switch (a.kind) {
    case 'grant':
      return `@${person}'s ${a.provider}${a.login ? ` (${a.login})` : ''}`;
    case 'shared':
      return `the ${a.scope}'s ${a.name}`;
    case 'own_secret':
      return `@${person}'s ${a.name}`;
  }
}

/** "as @alice's github (alice-gh)"; "as @alice" when the call uses no account of anyone's. */
export function runsAsText(as: RunsAs): string {
  if (!as.accounts.length) return `as @${as.person}`;
  return `as ${as.accounts.map((a) => accountText(as.person, a)).join(' and ')}`;
}

const name = (c: ProgressCall) => `${c.server}.${c.tool}`;

/** The one-line status of what is happening now ("Thinking…"), or undefined for progress that is no status. */
export function statusText(p: TurnProgress): string | undefined {
  switch (p.kind) {
    case 'thinking':
      return 'Thinking…';
    case 'tool_started':
      return `Calling ${name(p.call)} ${runsAsText(p.call.as)}…`;
    case 'waiting_connect':
      return `Waiting for you to connect ${p.provider}`;
    case 'waiting_approval':
      return `Waiting for you to approve ${name(p.call)}`;
    case 'tool_finished':
    case 'tool_failed':
      return 'Thinking…';
    default:
      return undefined;
  }
}

/** A tool call's state, as a progress entry shows it. */
export type TaskState = 'running' | 'done' | 'failed' | 'waiting';

/** A tool call's progress entry: its title, state, and the whole line where entries are plain text (an edited message, the shell). */
export function taskEntry(
  p: TurnProgress,
): { id: string; title: string; state: TaskState; detail?: string; line: string } | undefined {
  if (!('call' in p)) return undefined;
  const title = `${name(p.call)} ${runsAsText(p.call.as)}`;
  const at = { id: p.call.id, title };
  switch (p.kind) {
    case 'tool_started':
      return { ...at, state: 'running', line: `… Calling ${title}` };
    case 'tool_finished':
      return { ...at, state: 'done', line: `✓ Called ${title}` };
    case 'tool_failed':
      return { ...at, state: 'failed', detail: 'It did not succeed.', line: `✗ ${title} did not succeed` };
    case 'waiting_connect': {
      const detail = `Waiting for you to connect ${p.provider} (see the private link).`;
      return { ...at, state: 'waiting', detail, line: `⏸ ${title}: ${detail}` };
    }
    case 'waiting_approval': {
      const detail = 'Waiting for you to approve it (see the private prompt).';
      return { ...at, state: 'waiting', detail, line: `⏸ ${title}: ${detail}` };
    }
  }
}
