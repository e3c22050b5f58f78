import type { OutMessage, ReplyTarget, TaskEntry, TurnRenderer } from '../../chat/types.js';
import { DISCORD_MESSAGE_LIMIT } from './render.js';

/** What a turn renderer needs of the Discord sender. */
export interface DiscordTurnSender {
  reply(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }>;
  placeholder(target: ReplyTarget, msg: OutMessage): Promise<{ messageId?: string }>;
  update(target: ReplyTarget, messageId: string, msg: OutMessage): Promise<void>;
}

/** Least time between two edits of a turn's message (Discord has no streaming). */
export const DISCORD_EDIT_EVERY_MS = 1000;

/**
 * One agent turn in Discord: a message posted at once (the status), then edited in place at most
 * once per `editEveryMs` with one line per tool call and the answer so far, and finally edited to
 * the whole answer (posted anew where no message could be posted first), also no sooner than a
 * second after the edit before. Updates that arrive between two edits are folded into the next one.
 */
export class DiscordTurn implements TurnRenderer {
  #messageId: string | undefined;
  #opened = false;
  #status = '';
  #text = '';
  readonly #tasks = new Map<string, string>();
  #lastEditAt = 0;
  #queued = false;
  #editing: Promise<void> = Promise.resolve();
  #finished = false;

  constructor(
    private readonly out: DiscordTurnSender,
    private readonly target: ReplyTarget,
    private readonly editEveryMs = DISCORD_EDIT_EVERY_MS,
  ) {}

  async status(text: string): Promise<void> {
    this.#status = text;
    await this.#changed();
  }

  async task(entry: TaskEntry): Promise<void> {
    this.#tasks.set(entry.id, entry.line);
    await this.#changed();
  }

  async text(chunk: string): Promise<void> {
    this.#text += chunk;
    await this.#changed();
  }

  async finish(msg: OutMessage): Promise<void> {
    this.#finished = true;
    await this.#editing;
    if (!this.#messageId) {
      await this.out.reply(this.target, msg);
      return;
    }
    // The answer too keeps to one edit a second.
    await this.#spaced();
    await this.out.update(this.target, this.#messageId, msg);
  }

  /** The message so far: a line per tool call, then the answer so far or the status (its tail, if long). */
  #view(): OutMessage {
    const body = this.#text || (this.#status ? `*${this.#status}*` : '');
    const text = [...this.#tasks.values(), body].filter(Boolean).join('\n');
    return { text: text.length > DISCORD_MESSAGE_LIMIT ? `…${text.slice(-(DISCORD_MESSAGE_LIMIT - 1))}` : text };
  }

  /** The first change posts the message; later ones queue one edit, which shows every change made until it is sent. */
  async #changed(): Promise<void> {
    if (this.#finished) return;
    if (!this.#opened) {
      this.#opened = true;
      this.#messageId = (await this.out.placeholder(this.target, this.#view())).messageId;
      // Counted from when Discord answered, so that no two requests arrive less than a second apart.
      this.#lastEditAt = Date.now();
      return;
    }
    if (this.#queued || !this.#messageId) return;
    this.#queued = true;
    this.#editing = this.#editing.then(() => this.#edit());
  }

  async #edit(): Promise<void> {
    await this.#spaced();
    this.#queued = false;
    if (this.#finished || !this.#messageId) return;
    // A progress edit that fails is not worth a retry: the next one, or the answer, replaces it.
    await this.out.update(this.target, this.#messageId, this.#view()).catch(() => {});
    this.#lastEditAt = Date.now();
  }

  /** Waits out what is left of `editEveryMs` since Discord answered the last request. */
  async #spaced(): Promise<void> {
    const wait = this.#lastEditAt + this.editEveryMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
