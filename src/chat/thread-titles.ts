import { threadKey, type TurnJob } from '../agent/index.js';
import type { Logger } from '../log.js';
import type { OutboundRouter } from './outbound.js';
import type { ReplyTarget } from './types.js';
import { NEW_THREAD_TITLE, threadTitle } from './words/titles.js';

/** How long a thread stays titled before its next message could title it again. Default 30 days. */
export const TITLE_CLAIM_TTL_S = 30 * 24 * 3600;

/** Where a thread's title is claimed, shared by every process (Redis in the app). */
export interface TitleClaims {
  /** Stores `title` under `key` unless something is stored there already (a Redis `SET NX`); true when stored. */
  claim(key: string, title: string, ttlSeconds: number): Promise<boolean>;
  /** What is stored under `key`, or null. */
  claimed(key: string): Promise<string | null>;
}

/**
 * Titles a thread of a direct conversation (Slack's assistant threads): a fixed title when it opens,
 * then the first message its person sends there. The claim is stored exactly once per thread
 * across every worker, so a second message, a retried delivery or a resumed turn never retitles it.
 */
export class ThreadTitles {
  constructor(
    private readonly d: {
      outbound: OutboundRouter;
      claims: TitleClaims;
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
      if (!(await this.d.claims.claim(this.#key(turn.orgId, t), title, TITLE_CLAIM_TTL_S))) return;
      await this.d.outbound.titleThread(t, title);
    } catch (err) {
      this.d.log.debug({ reqId: turn.requestId, err: (err as Error).message }, 'thread not titled');
    }
  }

  /**
   * The fixed title of a thread just opened, until its first message titles it. Never throws.
   * A first message claimed while the fixed title was on its way is sent again after it, so the
   * fixed one never ends up over the person's words (their own send then starts later still).
   */
  async opened(orgId: string, t: ReplyTarget): Promise<void> {
    if (!this.d.outbound.titlesThreads(t)) return;
    const key = this.#key(orgId, t);
    try {
      if ((await this.d.claims.claimed(key)) !== null) return;
      await this.d.outbound.titleThread(t, NEW_THREAD_TITLE);
      const first = await this.d.claims.claimed(key);
      if (first !== null) await this.d.outbound.titleThread(t, first);
    } catch (err) {
      this.d.log.debug({ err: (err as Error).message }, 'thread not titled');
    }
  }

  #key(orgId: string, t: ReplyTarget): string {
    return `onbehalf:title:${orgId}:${threadKey(t)}`;
  }
}
