import type { Logger } from '../log.js';

type Close = () => Promise<void> | void;

/** What a process must undo on stop, undone last-added first (a server before the Redis it uses). */
export class Closers {
  readonly #steps: Close[] = [];
  #log: Logger | undefined;

  /** Where failed or slow steps are reported, once the logger exists. */
  logTo(log: Logger): void {
    this.#log = log;
  }

  add(close: Close): void {
    this.#steps.unshift(close);
  }

  /** Runs every step once, each bounded by `boundMs`: a dependency already gone (Redis down) must not hang shutdown. */
  async closeAll(boundMs: number): Promise<void> {
    for (const close of this.#steps.splice(0)) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          close(),
          new Promise<void>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`a shutdown step took over ${boundMs} ms; moving on`)), boundMs);
          }),
        ]);
      } catch (err) {
        this.#log?.warn({ err: (err as Error).message }, 'error during shutdown');
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
