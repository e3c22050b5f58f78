import type { AgentReply, ProgressPort, TurnProgress, TurnSink } from '../agent/index.js';
import type { Logger } from '../log.js';
import { agentReplyText } from './agent-replies.js';
import { privateAnswerNote } from './delivery.js';
import type { OutboundRouter } from './outbound.js';
import type { OutMessage, ReplyTarget, TurnRenderer } from './types.js';
import { statusText, taskEntry } from './words/progress.js';

/**
 * Where the agent's progress goes: each turn gets a view that words its progress and hands it to
 * the platform's renderer (`ChatOutbound.turn`), or, where the platform has none, posts the answer.
 */
export function turnProgress(outbound: OutboundRouter, log: Logger): ProgressPort {
  return (turn) => new TurnView(outbound, turn.target, turn.requestId, log);
}

/** The message an agent's reply becomes; an answer offers feedback on this turn. */
export function replyMessage(reply: AgentReply, turnId: string): OutMessage {
  const msg = agentReplyText(reply);
  return reply.kind === 'answer' ? { ...msg, feedback: { turnId } } : msg;
}

/** One turn's progress, rendered in order; a failure to show progress never stops the turn. */
class TurnView implements TurnSink {
  readonly #renderer: TurnRenderer | undefined;
  #chain: Promise<void> = Promise.resolve();
  #status: string | undefined;

  constructor(
    private readonly outbound: OutboundRouter,
    private readonly target: ReplyTarget,
    private readonly turnId: string,
    private readonly log: Logger,
  ) {
    this.#renderer = outbound.turn(target);
  }

  /** Renders `p` after everything before it; only `done` rejects, when the reply could not be delivered. */
  emit(p: TurnProgress): Promise<void> {
    const run = this.#chain.then(() => this.#render(p));
    this.#chain = run.catch((err: unknown) => {
      if (p.kind !== 'done')
        this.log.debug({ reqId: this.turnId, kind: p.kind, err: (err as Error).message }, 'progress not shown');
    });
    return p.kind === 'done' ? run : this.#chain;
  }

  async #render(p: TurnProgress): Promise<void> {
    const r = this.#renderer;
    if (p.kind === 'done') {
      const msg = replyMessage(p.reply, this.turnId);
      const isPrivate = (p.reply.kind === 'answer' || p.reply.kind === 'direct_resumed') && p.reply.private;
      // A private answer goes to the caller alone; the conversation is told so in one line.
      if (isPrivate) await this.outbound.replyPrivately(this.target, msg);
      const shown = isPrivate ? privateAnswerNote() : msg;
      if (r) await r.finish(shown);
      else await this.outbound.reply(this.target, shown);
      return;
    }
    if (!r) return;
    if (p.kind === 'answer_chunk') return r.text(p.text);
    const entry = taskEntry(p);
    if (entry) await r.task(entry);
    const status = statusText(p);
    if (status && status !== this.#status) {
      this.#status = status;
      await r.status(status);
    }
  }
}
