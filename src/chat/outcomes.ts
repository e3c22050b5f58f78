import type { CallInfo, ToolOutcome } from '../runner/index.js';
import { unreachableText } from './words/net.js';
import { problemText } from './words/problems.js';

/** A tool call's outcome in one chat message (also what the model is told of it). */
export function outcomeText(call: Pick<CallInfo, 'server' | 'tool'>, o: ToolOutcome): string {
  const name = `\`${call.server}.${call.tool}\``;
  switch (o.kind) {
    case 'result': {
      const cut = o.omitted ? `… [${o.omitted} more characters not shown]` : '';
      return `${name}${o.isError ? ' reported an error' : ''}:\n${o.text}${cut}${o.trimmed ? '\n(trimmed for chat)' : ''}`;
    }
    case 'denied':
      return `${name} was not run: ${problemText(o.why)}.`;
    case 'invalid_args':
      return `${name} was not run: the arguments do not match the tool's schema (${o.errors}).`;
    case 'unreachable':
      return `${name} failed: the server ${o.server} could not be reached (${unreachableText(o.detail)}). Try again later.`;
    case 'timeout':
      return (
        `${name} timed out: ${o.server} did not answer within ${Math.round(o.afterMs / 100) / 10} s, ` +
        `so the call was cancelled.`
      );
    case 'interrupted':
      return (
        `${name} was interrupted (a worker stopped mid-call) and may have run on ${o.server}. ` +
        `It was not re-run automatically because it is not idempotent; check before running it again.`
      );
    case 'cancelled':
      return `${name} was cancelled: ${problemText(o.why)}.`;
    case 'failed':
      return `${name} failed: ${problemText(o.why)}.`;
  }
}
