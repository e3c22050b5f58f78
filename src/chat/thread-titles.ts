import { threadKey, type TurnJob } from '../agent/index.js';
import type { Logger } from '../log.js';
import type { OutboundRouter } from './outbound.js';
import { threadTitle } from './words/titles.js';

/** How long a thread stays titled before its next message could title it again. Default 30 days. */
export const TITLE_CLAIM_TTL_S = 30 * 24 * 3600;

/**
 * Titles a thread of a direct conversation (Slack's assistant threads) from the first message its
 * person sends there. `claim` must say true exactly once per key across every worker (a Redis
 * `SET NX`), so a second message, a retried delivery or a resumed turn never retitles it.
 */
export class ThreadTitles {
  constructor(
    private readonly d: {
      outbound: OutboundRouter;
      claim: (key: string, ttlSeconds: number) => Promise<boolean>;
      log: Logger;
    },
  ) {}

  /** Never throws: a title that could not be set is a debug line, and the turn goes on. */
  async title(turn: TurnJob): Promise<void> {
    const t = turn.target;
    if (turn.resumed || !this.d.outbound.titlesThreads(t)) return;
    const title = threadTitle(turn.text);
    if (!title) return;
    try {
      if (!(await this.d.claim(`onbehalf:title:${turn.orgId}:${threadKey(t)}`, TITLE_CLAIM_TTL_S))) return;
      await this.d.outbound.titleThread(t, title);
    } catch (err) {
      this.d.log.debug({ reqId: turn.requestId, err: (err as Error).message }, 'thread not titled');
    }
  }
}
