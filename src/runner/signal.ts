import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

/**
 * Tells every process that a call parked, was held or ended, so a waiter wakes wherever it waits (a
 * `serve` replica) whichever process ran the call (a worker). One Redis pub/sub channel per
 * deployment; a message is the call's id and nothing else: the `tool_calls` row stays the truth, and
 * a woken waiter reads it.
 *
 * Pub/sub rather than BullMQ `QueueEvents`: a waiter wakes on more than a job's end (a park or a hold
 * is a state of the row, reached mid-job and told before the prompt is posted; a resumed call runs as
 * a new job under another id), and `QueueEvents` reads every event of the queue (added, active,
 * progress, completed…) from a Redis stream in every process, where this is one short message per
 * settled call. A message lost (Redis restarting) costs a waiter a late safety read, never its answer.
 */
export class CallSignals {
  readonly #channel: string;
  #sub: Redis | undefined;
  #subscribed: Promise<void> | undefined;

  constructor(
    private readonly pub: Redis,
    prefix: string,
    private readonly wake: (callId: string) => void,
    private readonly log: Logger,
  ) {
    this.#channel = `${prefix}:calls:settled`;
  }

  /** Resolves once this process listens (subscribed once, on first use); a failure is logged and tried again next time. */
  listening(): Promise<void> {
    this.#subscribed ??= this.#subscribe().catch((err: Error) => {
      this.log.warn({ err: err.message }, 'call signals: could not subscribe; waiters fall back to slow reads');
      this.#subscribed = undefined;
    });
    return this.#subscribed;
  }

  async #subscribe(): Promise<void> {
    // A connection in subscriber mode serves nothing else; ioredis subscribes again after a reconnect.
    if (!this.#sub) {
      this.#sub = this.pub.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
      this.#sub.on('message', (channel: string, callId: string) => {
        if (channel === this.#channel) this.wake(callId);
      });
      this.#sub.on('error', () => undefined); // reconnects on its own; `listening` logs a failed subscribe
    }
    await this.#sub.subscribe(this.#channel);
  }

  /** Tells every process's waiters for `callId` to read its row again. */
  publish(callId: string): void {
    this.pub.publish(this.#channel, callId).catch((err: Error) => {
      this.log.warn({ err: err.message }, 'call signals: publish failed; the waiter reads the call later');
    });
  }

  close(): void {
    this.#sub?.disconnect();
    this.#sub = undefined;
    this.#subscribed = undefined;
  }
}
