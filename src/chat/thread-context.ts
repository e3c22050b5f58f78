import { threadKey, type ThreadMemory, type TurnJob } from '../agent/index.js';
import type { Identity } from '../identity/index.js';
import type { Logger } from '../log.js';
import type { OutboundRouter } from './outbound.js';

/** How many of a thread's most recent messages a turn reads. */
export const THREAD_READ_LIMIT = 30;

/** Mentions (`<@U123>`, `<@!123>`) and surrounding space are not part of what was said. */
const said = (text: string) =>
  text
    .replace(/<@!?[A-Za-z0-9]+(\|[^>]*)?>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * Before a turn in a thread the bot did not start, reads the thread from the platform and adds to
 * its memory what memory lacks: each person's message under its author, so the agent's thread
 * view quotes other people's words as context (`agent/context.ts`) and never as the caller's.
 * The caller's own messages stay theirs; bots' messages (the bot's replies are remembered
 * already) and messages that were turns themselves are left out.
 */
export class ThreadContext {
  constructor(
    private readonly d: { outbound: OutboundRouter; memory: ThreadMemory; identity: Identity; log: Logger },
    private readonly limit = THREAD_READ_LIMIT,
  ) {}

  async read(turn: TurnJob): Promise<void> {
    const t = turn.target;
    // A mention outside a thread starts one (Slack: the thread is the mention itself): nothing to read.
    if (turn.resumed || t.isDirect || !t.threadId || t.threadId === t.messageId) return;
    const messages = await this.d.outbound.threadMessages(t, this.limit).catch((err: unknown) => {
      this.d.log.info({ reqId: turn.requestId, err: (err as Error).message }, 'could not read the thread for context');
      return [];
    });
    if (!messages.length) return;
    const key = threadKey(t);
    const known = await this.d.memory.known(turn.orgId, key);
    const caller = await this.d.identity.user(turn.orgId, turn.userId);
    for (const m of messages) {
      const text = said(m.text);
      if (m.bot || !text || m.id === t.messageId || known.requestIds.has(`thread:${m.id}`)) continue;
      if (known.texts.has(text) || text === said(turn.text)) continue;
      const mine = m.userId === t.userId;
      const person = mine
        ? undefined
        : await this.d.identity.userByRef(turn.orgId, t.platform, t.workspaceId, m.userId);
      await this.d.memory.append(turn.orgId, key, {
        role: 'user',
        userId: mine ? turn.userId : (person?.id ?? `${t.platform}:${t.workspaceId}:${m.userId}`),
        author: mine ? (caller?.displayName ?? m.author) : m.author,
        requestId: `thread:${m.id}`,
        content: text,
      });
    }
  }
}
