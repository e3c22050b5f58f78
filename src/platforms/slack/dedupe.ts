/** Options of the retry deduper. */
export interface RecentEventsOptions {
  /** How long an accepted event id is remembered (Slack retries for about 5 minutes). Default 10 minutes. */
  ttlMs?: number;
  /** Most ids remembered; the oldest are forgotten first. Default 50000. */
  maxEntries?: number;
}

/**
 * Slack redelivers an event (`X-Slack-Retry-Num`) when our answer was slow or failed. An id is
 * remembered only once the chat core accepted it, so a retry after a failure runs again (retries
 * are deduplicated, not dropped); a retry while the first delivery is still running waits for it.
 * Per process; across processes the chat core's jobId (= event id) makes the turn run once.
 */
export class RecentEvents {
  readonly #done = new Map<string, number>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(opts: RecentEventsOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.#max = opts.maxEntries ?? 50_000;
  }

  /** Runs `work` for `id` unless it already succeeded; returns whether it ran. */
  async once(id: string, work: () => Promise<void>): Promise<boolean> {
    const at = this.#done.get(id);
    if (at !== undefined && Date.now() - at < this.#ttlMs) return false;
    const running = this.#running.get(id);
    if (running) {
      // Same outcome as the first delivery: if it failed, this retry fails too and Slack tries again.
      await running;
      return false;
    }
    const p = work().then(() => this.#remember(id));
    this.#running.set(id, p);
    try {
      await p;
      return true;
    } finally {
      this.#running.delete(id);
    }
  }

  #remember(id: string): void {
    this.#done.delete(id);
    this.#done.set(id, Date.now());
    while (this.#done.size > this.#max) this.#done.delete(this.#done.keys().next().value!);
  }
}
